using Winnow.Analysis;
using Winnow.Runs;
using TorchSharp;
using Winnow.Data;
using Winnow.Methods;
using Winnow.Models;
using Winnow.Training;
using static TorchSharp.torch;

namespace Winnow.Tests.Methods;

public class EncoderModeTests
{
    private static RunManifest Manifest(string method, string? encoder, EncoderMode mode) => new()
    {
        Method = method,
        Encoder = encoder,
        EncoderMode = mode,
        Training = new TrainingOptions { Epochs = 2, BatchSize = 32, Precision = Precision.Float32, Seed = 1, Threads = 2 },
    };

    /// <summary>A checkpoint of a short SimCLR run on bars (24 steps, enough for usable batch-norm statistics), with its options.json.</summary>
    internal static string PretrainedEncoder() => SharedEncoder.Value;

    private static readonly Lazy<string> SharedEncoder = new(Pretrain);

    private static string Pretrain()
    {
        var folder = new RunFolder(TestData.TempDir());
        var manifest = Manifest("simclr", null, EncoderMode.Finetune) with { Training = new TrainingOptions { Epochs = 3, BatchSize = 32, LearningRate = 0.06, Precision = Precision.Float32, Seed = 1, Threads = 2, KnnNeighbours = 5 } };
        folder.WriteJson(folder.OptionsFile, manifest);
        TrainingLoop.SeedForInitialisation(1);
        using var method = TrainingJob.CreateMethod(manifest, 1, 4);
        var train = TestData.Bars(256, seed: 3);
        new TrainingLoop(manifest.Training).Run(method, train, NoisyLabelSet.Create(train, null, 0), train, folder);
        return folder.LastCheckpoint;
    }

    private static Dictionary<string, float[]> EncoderState(ITrainingMethod method) =>
        Models.EncoderCheckpointTests.StateOf(((Classifier)method.Networks[0].Network).Encoder);

    [Fact]
    public void FixedEncoderKeepsWeightsAndBatchNormStatisticsWhileTheHeadLearns()
    {
        string encoder = PretrainedEncoder();
        // Cheng et al. train the fixed-encoder head with Adam (1e-3); a larger rate suits this tiny run.
        var manifest = Manifest("ce", encoder, EncoderMode.Fixed) with
        {
            Training = new TrainingOptions { Epochs = 4, BatchSize = 32, Optimizer = OptimizerKind.AdamW, LearningRate = 1e-2, WeightDecay = 0, Precision = Precision.Float32, Seed = 1, Threads = 2 },
        };
        TrainingLoop.SeedForInitialisation(1);
        using var method = TrainingJob.CreateMethod(manifest, 1, 4);
        var before = EncoderState(method);
        var classifier = (Classifier)method.Networks[0].Network;
        var headBefore = classifier.Head.parameters().First().data<float>().ToArray();
        var train = TestData.Bars(256, seed: 1);
        var result = new TrainingLoop(manifest.Training).Run(method, train, NoisyLabelSet.Create(train, new SymmetricNoise(0.2), 1), TestData.Bars(64, seed: 2),
            cancellation: TestContext.Current.CancellationToken);
        var after = EncoderState(method);
        Assert.Contains(before.Keys, k => k.Contains("running_mean"));
        foreach (var (key, value) in before) Assert.Equal(value, after[key]);
        Assert.NotEqual(headBefore, classifier.Head.parameters().First().data<float>().ToArray());
        Assert.True(result.Summary.Best > 0.9, $"a linear head on pre-trained features should learn bars, got {result.Summary.Best}");
        // The head sees standardised features, calibrated on the un-augmented training images, and checkpoints carry the statistics.
        Assert.True(classifier.Standardizer is { IsCalibrated: true });
        using var features = Evaluation.FeatureMatrix(classifier.Features, train, cancellation: TestContext.Current.CancellationToken);
        var expectedMean = features.mean([0]).data<float>().ToArray();
        var stored = classifier.state_dict();
        var storedMean = stored["standardizer.mean"].data<float>().ToArray();
        for (int i = 0; i < expectedMean.Length; i++) Assert.Equal(expectedMean[i], storedMean[i], 4);
        Assert.Contains("standardizer.std", stored.Keys);
    }

    [Fact]
    public void HeadOnlyEpochsKeepTheEncoderThenReleaseIt()
    {
        string encoder = PretrainedEncoder();
        var manifest = Manifest("ce", encoder, EncoderMode.Finetune).WithMethodOptions(new CrossEntropyOptions { HeadOnlyEpochs = 1 }) with { Training = new TrainingOptions { Epochs = 1, BatchSize = 32, Precision = Precision.Float32, Seed = 1, Threads = 2 } };
        TrainingLoop.SeedForInitialisation(1);
        using var method = TrainingJob.CreateMethod(manifest, 1, 4);
        var classifier = (Classifier)method.Networks[0].Network;
        var before = EncoderState(method);
        var headBefore = classifier.Head.parameters().First().data<float>().ToArray();
        var train = TestData.Bars(128, seed: 1);
        var labels = NoisyLabelSet.Create(train, new SymmetricNoise(0.2), 1);
        var folder = new RunFolder(TestData.TempDir());
        new TrainingLoop(manifest.Training).Run(method, train, labels, TestData.Bars(32, seed: 2), folder, cancellation: TestContext.Current.CancellationToken);
        // Epoch 1 trained the head only: encoder weights and batch-norm statistics as loaded.
        var afterHeadEpoch = EncoderState(method);
        foreach (var (key, value) in before) Assert.Equal(value, afterHeadEpoch[key]);
        Assert.NotEqual(headBefore, classifier.Head.parameters().First().data<float>().ToArray());
        // Epoch 2 (resumed from the checkpoint with a longer schedule) trains every layer.
        var longer = manifest.Training with { Epochs = 2 };
        TrainingLoop.SeedForInitialisation(1);
        using var resumed = TrainingJob.CreateMethod(manifest with { Training = longer }, 1, 4);
        using var checkpoint = Checkpoint.Load(folder.LastCheckpoint);
        new TrainingLoop(longer).Run(resumed, train, labels, TestData.Bars(32, seed: 2), folder, resume: checkpoint, cancellation: TestContext.Current.CancellationToken);
        var afterFineTuning = EncoderState(resumed);
        Assert.Contains(before.Keys, k => k.Contains("weight") && !before[k].SequenceEqual(afterFineTuning[k]));
        Assert.Contains(before.Keys, k => k.Contains("running_mean") && !before[k].SequenceEqual(afterFineTuning[k]));
        Assert.Contains("--head-epochs", Assert.Throws<WinnowException>(() => TrainingJob.CreateMethod(Manifest("ce", null, EncoderMode.Finetune).WithMethodOptions(new CrossEntropyOptions { HeadOnlyEpochs = 1 }), 1, 4)).Message);
    }

    [Fact]
    public void FeatureStandardizerMatchesHandComputedValues()
    {
        using var _ = NewDisposeScope();
        using var standardizer = new FeatureStandardizer(2);
        Assert.False(standardizer.IsCalibrated);
        Assert.Throws<InvalidOperationException>(() => standardizer.forward(ones(1, 2)));
        // Column 0: mean 2, sample std sqrt(2). Column 1 is constant: mean 2, std replaced by 1.
        standardizer.Calibrate(tensor(new float[] { 1, 2, 3, 2 }, [2, 2]));
        Assert.True(standardizer.IsCalibrated);
        var y = standardizer.forward(tensor(new float[] { 3, 5 }, [1, 2])).data<float>().ToArray();
        Assert.Equal(1 / Math.Sqrt(2), y[0], 5);
        Assert.Equal(3.0, y[1], 5);
    }

    [Fact]
    public void FinetuneStartsFromThePretrainedEncoderAndTrainsIt()
    {
        string encoder = PretrainedEncoder();
        using var checkpoint = Checkpoint.Load(encoder);
        var pretrained = checkpoint.WithPrefix("net.encoder.")["stem.weight"].data<float>().ToArray();
        TrainingLoop.SeedForInitialisation(1);
        using var method = TrainingJob.CreateMethod(Manifest("ce", encoder, EncoderMode.Finetune), 1, 4);
        Assert.Equal(pretrained, EncoderState(method)["stem.weight"]);
        var train = TestData.Bars(128, seed: 1);
        new TrainingLoop(Manifest("ce", encoder, EncoderMode.Finetune).Training).Run(method, train, NoisyLabelSet.Create(train, null, 0), train,
            cancellation: TestContext.Current.CancellationToken);
        Assert.NotEqual(pretrained, EncoderState(method)["stem.weight"]);
    }

    [Fact]
    public void EncoderOfAnotherArchitectureIsRefusedWithTheFileNamed()
    {
        string encoder = PretrainedEncoder();
        var manifest = Manifest("ce", encoder, EncoderMode.Finetune) with { Model = "resnet18" };
        var e = Assert.Throws<DataFormatException>(() => TrainingJob.CreateMethod(manifest, 1, 4));
        Assert.StartsWith(encoder, e.Message);
    }

    [Fact]
    public void FixedModeNeedsAnEncoder()
    {
        Assert.Contains("needs a pre-trained encoder", Assert.Throws<WinnowException>(() => TrainingJob.CreateMethod(Manifest("ce", null, EncoderMode.Fixed), 1, 4)).Message);
    }
}

public class RepresentationRegularizerTests
{
    [Fact]
    public void NormalizedDistancesMatchHandComputedValues()
    {
        using var _ = NewDisposeScope();
        // Points (0,0), (3,0), (0,4): distances 3, 4, 5; off-diagonal mean (2·(3+4+5))/6 = 4.
        var d = RepresentationRegularizer.NormalizedDistances(tensor(new float[] { 0, 0, 3, 0, 0, 4 }, [3, 2]));
        var expected = new float[] { 0, 0.75f, 1, 0.75f, 0, 1.25f, 1, 1.25f, 0 };
        var actual = d.data<float>().ToArray();
        for (int i = 0; i < 9; i++) Assert.Equal(expected[i], actual[i], 3);
    }

    [Fact]
    public void RegularizerIsZeroForSimilarStructuresAndMatchesSmoothL1Otherwise()
    {
        using var _ = NewDisposeScope();
        var a = tensor(new float[] { 0, 0, 3, 0, 0, 4 }, [3, 2]);
        // A scaled copy has the same normalised distances.
        Assert.Equal(0, RepresentationRegularizer.Compute(a, a.Times(7)).item<float>(), 4);
        // Against (0,0), (1,0), (2,0): distances 1, 2, 1, mean 4/3 → 0.75, 1.5, 0.75.
        var b = tensor(new float[] { 0, 0, 1, 0, 2, 0 }, [3, 2]);
        // Differences (a − b) over the 6 off-diagonal entries: 0 (0.75 − 0.75), −0.5 (1 − 1.5), 0.5 (1.25 − 0.75), twice each;
        // smooth-L1 of 0.5 is 0.5·0.25 = 0.125, so the mean over 9 entries is 4·0.125/9.
        Assert.Equal(4 * 0.125 / 9, RepresentationRegularizer.Compute(a, b).item<float>(), 4);
    }
}
