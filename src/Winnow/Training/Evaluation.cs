using Winnow.Data;
using static TorchSharp.torch;

namespace Winnow.Training;

/// <summary>Predictions of a model on a whole dataset (un-augmented, eval mode).</summary>
/// <param name="Probabilities">Softmax probabilities, row-major (N × classes).</param>
/// <param name="Predicted">Arg-max class per sample.</param>
/// <param name="ClassCount">Number of classes.</param>
public sealed record DatasetPredictions(float[] Probabilities, int[] Predicted, int ClassCount)
{
    /// <summary>Samples.</summary>
    public int Count => Predicted.Length;

    /// <summary>Fraction of samples whose prediction equals <paramref name="labels"/>.</summary>
    public double Accuracy(int[] labels)
    {
        int hit = 0;
        for (int i = 0; i < Count; i++) if (Predicted[i] == labels[i]) hit++;
        return Count == 0 ? double.NaN : (double)hit / Count;
    }

    /// <summary>Per-sample cross-entropy −log p(label), from the stored probabilities.</summary>
    public double[] Losses(int[] labels)
    {
        var loss = new double[Count];
        for (int i = 0; i < Count; i++) loss[i] = -Math.Log(Math.Max(Probabilities[i * ClassCount + labels[i]], 1e-12f));
        return loss;
    }
}

/// <summary>Runs a model over a dataset in batches.</summary>
public static class Evaluation
{
    /// <summary>Images per inference batch.</summary>
    public const int DefaultBatchSize = 500;

    /// <summary>The features of every sample of <paramref name="dataset"/> (un-augmented), as one (N, d) float32 tensor.</summary>
    public static Tensor FeatureMatrix(Func<Tensor, Tensor> features, ImageDataset dataset, int batchSize = DefaultBatchSize, CancellationToken cancellation = default)
    {
        var order = Enumerable.Range(0, dataset.Count).ToArray();
        var parts = new List<Tensor>();
        using var _ = no_grad();
        try
        {
            foreach (var batch in BatchStream.Create(dataset, dataset.Labels, order, batchSize, NormalizeOnly.Instance, 0, cancellation: cancellation))
            {
                using var scope = NewDisposeScope();
                var x = batch.MovePixelsToTensor();
                parts.Add(features(x).to(ScalarType.Float32).contiguous().MoveToOuterDisposeScope());
            }
            return cat(parts, 0);
        }
        finally
        {
            foreach (var p in parts) p.Dispose();
        }
    }

    /// <summary>Predicts every sample of <paramref name="dataset"/> with <paramref name="logits"/> (called under no-grad).</summary>
    public static DatasetPredictions Predict(Func<Tensor, Tensor> logits, ImageDataset dataset, int batchSize = DefaultBatchSize, CancellationToken cancellation = default) =>
        FromLogits(Logits(logits, dataset, batchSize, cancellation), dataset.ClassCount);

    /// <summary>
    /// The float32 logits of every sample of <paramref name="dataset"/> (un-augmented, in dataset order), row-major
    /// N × classes; <paramref name="logits"/> is called under no-grad.
    /// </summary>
    public static float[] Logits(Func<Tensor, Tensor> logits, ImageDataset dataset, int batchSize = DefaultBatchSize, CancellationToken cancellation = default)
    {
        int n = dataset.Count, c = dataset.ClassCount;
        var values = new float[(long)n * c];
        var order = Enumerable.Range(0, n).ToArray();
        using var _ = no_grad();
        foreach (var batch in BatchStream.Create(dataset, dataset.Labels, order, batchSize, NormalizeOnly.Instance, 0, cancellation: cancellation))
        {
            using var scope = NewDisposeScope();
            var x = batch.MovePixelsToTensor();
            var arr = logits(x).to(ScalarType.Float32).contiguous().data<float>().ToArray();
            if (arr.Length != batch.Indices.Length * c)
                throw new InvalidOperationException($"the model gave {arr.Length} logits for {batch.Indices.Length} images of {c} classes");
            Array.Copy(arr, 0, values, (long)batch.Indices[0] * c, arr.Length);
        }
        return values;
    }

    /// <summary>Softmax probabilities and arg-max classes of row-major logits with <paramref name="classCount"/> columns.</summary>
    public static DatasetPredictions FromLogits(float[] logits, int classCount)
    {
        if (classCount <= 0 || logits.Length % classCount != 0)
            throw new ArgumentException($"{logits.Length} logits do not split into rows of {classCount} classes", nameof(logits));
        int n = logits.Length / classCount;
        using var scope = NewDisposeScope();
        var p = nn.functional.softmax(tensor(logits).view(n, classCount), 1).contiguous();
        var predicted = p.argmax(1).data<long>().ToArray().Select(v => (int)v).ToArray();
        return new DatasetPredictions(p.data<float>().ToArray(), predicted, classCount);
    }
}
