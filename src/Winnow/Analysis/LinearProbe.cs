using Winnow.Data;
using Winnow.Models;
using Winnow.Training;
using static TorchSharp.torch;

namespace Winnow.Analysis;

/// <summary>Options of <see cref="LinearProbe"/>.</summary>
public sealed record LinearProbeOptions
{
    /// <summary>
    /// Passes over the training features (100). The probe has to converge to measure the features rather than the
    /// optimiser (docs/self-supervised.md compares settings).
    /// </summary>
    public int Epochs { get; init; } = 100;

    /// <summary>Features per step.</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>AdamW learning rate (cosine-decayed to zero).</summary>
    public double LearningRate { get; init; } = 1e-2;

    /// <summary>Seed of the head's initialisation and of the shuffling.</summary>
    public int Seed { get; init; }

    /// <summary>Checks ranges; throws <see cref="WinnowException"/> naming the option of 'winnow probe'.</summary>
    public void Validate()
    {
        if (Epochs < 1) throw new WinnowException($"linear probe: --epochs must be at least 1, got {Epochs}");
        if (!(LearningRate > 0 && double.IsFinite(LearningRate))) throw new WinnowException($"linear probe: --lr must be a positive number, got {LearningRate}");
        if (BatchSize < 1) throw new WinnowException($"linear probe: the batch size must be at least 1, got {BatchSize}");
    }
}

/// <summary>What a probe measured.</summary>
/// <param name="LinearAccuracy">Test accuracy of a linear classifier trained on the frozen, un-augmented training features.</param>
/// <param name="KnnAccuracy">Test accuracy of the weighted kNN classifier (k = 200, cosine) on the same features.</param>
/// <param name="Seconds">Wall time, feature extraction included.</param>
public sealed record ProbeResult(double LinearAccuracy, double KnnAccuracy, double Seconds);

/// <summary>
/// Feature quality of an encoder, as C2D's analysis measures it: the encoder is frozen, features of the
/// un-augmented training and test images are computed once, then a linear classifier is trained on the training
/// features with the given (clean) labels, and a weighted kNN classifier is evaluated as well.
/// Features are standardised with the training set's mean and standard deviation before the linear classifier.
/// </summary>
public static class LinearProbe
{
    /// <summary>Probes <paramref name="features"/> (a function from images to features, no grad) on train and test.</summary>
    public static ProbeResult Run(Func<Tensor, Tensor> features, ImageDataset train, ImageDataset test, LinearProbeOptions? options = null,
        IProgress<double>? progress = null, CancellationToken cancellation = default)
    {
        options ??= new LinearProbeOptions();
        options.Validate();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var trainFeatures = Evaluation.FeatureMatrix(features, train, cancellation: cancellation);
        using var testFeatures = Evaluation.FeatureMatrix(features, test, cancellation: cancellation);
        double knn = KnnClassifier.Accuracy(trainFeatures, train.Labels, train.ClassCount, testFeatures, test.Labels);
        double linear = TrainLinear(trainFeatures, train.Labels, testFeatures, test.Labels, train.ClassCount, options, progress, cancellation);
        return new ProbeResult(linear, knn, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Trains a linear classifier on fixed features and returns its test accuracy.</summary>
    public static double TrainLinear(Tensor trainFeatures, int[] trainLabels, Tensor testFeatures, int[] testLabels, int classCount,
        LinearProbeOptions options, IProgress<double>? progress = null, CancellationToken cancellation = default)
    {
        options.Validate();
        using var scope = NewDisposeScope();
        var mean = trainFeatures.mean([0], keepdim: true);
        var std = trainFeatures.std(0, keepdim: true).AtLeast(1e-6);
        var xTrain = (trainFeatures - mean) / std;
        var xTest = (testFeatures - mean) / std;
        var yTrain = tensor(trainLabels.Select(l => (long)l).ToArray());
        manual_seed(options.Seed);
        var head = new MixedLinear(trainFeatures.shape[1], classCount);
        var optimizer = new AdamWOptimizer(head.parameters(), options.LearningRate, weightDecay: 0);
        var schedule = new LearningRateSchedule { Kind = ScheduleKind.Cosine };
        var rng = new Random(options.Seed);
        int n = trainLabels.Length;
        for (int epoch = 0; epoch < options.Epochs; epoch++)
        {
            cancellation.ThrowIfCancellationRequested();
            optimizer.LearningRate = schedule.At(options.LearningRate, epoch, options.Epochs);
            var order = Enumerable.Range(0, n).ToArray();
            rng.Shuffle(order);
            var perm = tensor(order.Select(i => (long)i).ToArray());
            for (int start = 0; start < n; start += options.BatchSize)
            {
                using var step = NewDisposeScope();
                var idx = perm.narrow(0, start, Math.Min(options.BatchSize, n - start));
                optimizer.ZeroGrad();
                var loss = nn.functional.cross_entropy(head.forward(xTrain.index_select(0, idx)), yTrain.index_select(0, idx));
                loss.backward();
                optimizer.Step();
            }
            progress?.Report((epoch + 1.0) / options.Epochs);
        }
        using var _ = no_grad();
        var predicted = head.forward(xTest).argmax(1).data<long>().ToArray();
        return (double)predicted.Where((p, i) => p == testLabels[i]).Count() / testLabels.Length;
    }
}
