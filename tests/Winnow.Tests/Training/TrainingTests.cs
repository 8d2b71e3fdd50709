using Winnow.Analysis;
using Winnow.Runs;
using TorchSharp;
using Winnow.Data;
using Winnow.Detection;
using Winnow.Methods;
using Winnow.Models;
using Winnow.Training;
using static TorchSharp.torch;

namespace Winnow.Tests.Training;

public class ScheduleTests
{
    [Fact]
    public void SchedulesGiveHandComputedRates()
    {
        var cosine = new LearningRateSchedule { Kind = ScheduleKind.Cosine };
        Assert.Equal(0.1, cosine.At(0.1, 0, 10), 12);
        Assert.Equal(0.05, cosine.At(0.1, 5, 10), 12);
        var multi = new LearningRateSchedule { Kind = ScheduleKind.MultiStep, Milestones = [150], Gamma = 0.1 };
        Assert.Equal(0.02, multi.At(0.02, 149, 300), 12);
        Assert.Equal(0.002, multi.At(0.02, 150, 300), 12);
        var step = new LearningRateSchedule { Kind = ScheduleKind.Step, StepSize = 2, Gamma = 0.5 };
        Assert.Equal(0.25, step.At(1, 5, 10), 12);
        var warm = new LearningRateSchedule { Kind = ScheduleKind.Constant, WarmupEpochs = 4 };
        Assert.Equal(0.25, warm.At(1, 0, 10), 12);
        Assert.Equal(1, warm.At(1, 4, 10), 12);
    }
}

public class TrainingOptionsTests
{
    public static TheoryData<string, string> OutOfRange => new()
    {
        { "threads -3", "--threads must be 0 (all cores) or in 1..1024, got -3" },
        { "threads 5000", "--threads must be 0 (all cores) or in 1..1024, got 5000" },
        { "epochs 0", "--epochs must be at least 1, got 0" },
        { "batch 1", "--batch-size must be at least 2, got 1" },
        { "lr infinite", "--lr must be a positive number, got Infinity" },
        { "momentum NaN", "--momentum must be in [0, 1), got NaN" },
        { "weight decay NaN", "--weight-decay must be non-negative, got NaN" },
        { "gamma 0", "--gamma must be in (0, 1], got 0" },
        { "step size 0", "--step-size must be at least 1, got 0" },
        { "warm-up -1", "--lr-warmup-epochs must be in 0..10 (--epochs), got -1" },
        { "warm-up 11", "--lr-warmup-epochs must be in 0..10 (--epochs), got 11" },
        { "milestone -1", "--milestones must be 0-based epochs (0 or more), got -1" },
        { "crop padding -1", "--crop-padding must be non-negative, got -1" },
    };

    [Theory]
    [MemberData(nameof(OutOfRange))]
    public void AValueOutOfRangeIsRefusedNamingTheOptionAndTheRange(string what, string expected)
    {
        var o = new TrainingOptions();
        var schedule = o.Schedule;
        o = what switch
        {
            "threads -3" => o with { Threads = -3 },
            "threads 5000" => o with { Threads = 5000 },
            "epochs 0" => o with { Epochs = 0 },
            "batch 1" => o with { BatchSize = 1 },
            "lr infinite" => o with { LearningRate = double.PositiveInfinity },
            "momentum NaN" => o with { Momentum = double.NaN },
            "weight decay NaN" => o with { WeightDecay = double.NaN },
            "gamma 0" => o with { Schedule = schedule with { Gamma = 0 } },
            "step size 0" => o with { Schedule = schedule with { StepSize = 0 } },
            "warm-up -1" => o with { Schedule = schedule with { WarmupEpochs = -1 } },
            "warm-up 11" => o with { Schedule = schedule with { WarmupEpochs = 11 } },
            "milestone -1" => o with { Schedule = schedule with { Milestones = [5, -1] } },
            "crop padding -1" => o with { CropPadding = -1 },
            _ => throw new ArgumentException(what),
        };
        Assert.Equal(expected, Assert.Throws<WinnowException>(o.Validate).Message);
    }

    [Fact]
    public void ABatchLargerThanTheTrainingSetIsRefusedOnceItsSizeIsKnown()
    {
        var o = new TrainingOptions { BatchSize = 100_000 };
        o.Validate();
        Assert.Equal("--batch-size 100000 is larger than the training set (240 images); give at most 240", Assert.Throws<WinnowException>(() => o.ValidateFor(240)).Message);
        (o with { BatchSize = 240 }).ValidateFor(240);
    }
}

public class OptimizerTests
{
    [Fact]
    public void SgdMatchesTheHandComputedMomentumUpdate()
    {
        using var _ = NewDisposeScope();
        var p = new TorchSharp.Modules.Parameter(tensor(new float[] { 1f, -2f }));
        var sgd = new SgdOptimizer([p], learningRate: 0.1, momentum: 0.9, weightDecay: 0.01);
        // loss = sum(p²) / 2, so grad = p.
        for (int step = 0; step < 2; step++)
        {
            sgd.ZeroGrad();
            (p * p).sum().DividedBy(2).backward();
            sgd.Step();
        }
        // step 1: g = p + 0.01p = 1.01p; b = g; p1 = p − 0.1·1.01p = 0.899p
        // step 2: g = 1.01·0.899p = 0.90799p; b = 0.9·1.01p + 0.90799p = 1.81699p; p2 = 0.899p − 0.181699p = 0.717301p
        Assert.Equal(0.717301f, p.data<float>()[0], 5);
        Assert.Equal(-2 * 0.717301f, p.data<float>()[1], 5);
    }

    [Fact]
    public void GradientsAboveTheClipNormAreScaledDownBeforeTheUpdate()
    {
        using var _ = NewDisposeScope();
        var p = new TorchSharp.Modules.Parameter(tensor(new float[] { 3f, 4f }));
        var sgd = new SgdOptimizer([p], learningRate: 1, momentum: 0, weightDecay: 0) { MaxGradientNorm = 1 };
        // grad = p = (3, 4), norm 5 → clipped to (0.6, 0.8); p − 1·g = (2.4, 3.2).
        sgd.ZeroGrad();
        (p * p).sum().DividedBy(2).backward();
        sgd.Step();
        Assert.Equal(new[] { 2.4f, 3.2f }, p.data<float>().ToArray(), (a, b) => Math.Abs(a - b) < 1e-5);
        // Below the norm nothing changes: grad (2.4, 3.2) has norm 4 ≤ 10, so p becomes 0.
        var loose = new SgdOptimizer([p], learningRate: 1, momentum: 0, weightDecay: 0) { MaxGradientNorm = 10 };
        loose.ZeroGrad();
        (p * p).sum().DividedBy(2).backward();
        loose.Step();
        Assert.Equal(new[] { 0f, 0f }, p.data<float>().ToArray(), (a, b) => Math.Abs(a - b) < 1e-5);
    }

    [Fact]
    public void AScaledGroupMovesByItsFractionOfTheRate()
    {
        using var _ = NewDisposeScope();
        var slow = new TorchSharp.Modules.Parameter(tensor(new float[] { 2f }));
        var fast = new TorchSharp.Modules.Parameter(tensor(new float[] { 2f }));
        var sgd = new SgdOptimizer([slow, fast], learningRate: 0.5, momentum: 0, weightDecay: 0.1);
        sgd.ScaleRate([slow], 0.1);
        sgd.ZeroGrad();
        (slow * slow).DividedBy(2).Plus((fast * fast).DividedBy(2)).sum().backward();
        sgd.Step();
        // g = p + 0.1p = 2.2; fast: 2 − 0.5·2.2 = 0.9; slow: 2 − 0.05·2.2 = 1.89.
        Assert.Equal(1.89f, slow.data<float>()[0], 5);
        Assert.Equal(0.9f, fast.data<float>()[0], 5);
        // AdamW's first step moves by lr·scale (and decays by lr·scale·wd): 2·(1 − 0.05·0.1) − 0.05 = 1.94.
        var adam = new AdamWOptimizer([slow, fast], learningRate: 0.5, weightDecay: 0.1);
        adam.ScaleRate([slow], 0.1);
        slow.detach().copy_(ones_like(slow).Times(2));
        adam.ZeroGrad();
        (slow * slow).DividedBy(2).Plus((fast * fast).DividedBy(2)).sum().backward();
        adam.Step();
        Assert.Equal(1.94f, slow.data<float>()[0], 4);
    }

    [Fact]
    public void AdamWFirstStepMovesEachWeightByTheLearningRate()
    {
        using var _ = NewDisposeScope();
        var p = new TorchSharp.Modules.Parameter(tensor(new float[] { 3f, -1f }));
        var adam = new AdamWOptimizer([p], learningRate: 0.01, weightDecay: 0);
        adam.ZeroGrad();
        (p * p).sum().backward();
        adam.Step();
        Assert.Equal(2.99f, p.data<float>()[0], 4);
        Assert.Equal(-0.99f, p.data<float>()[1], 4);
    }
}

public class CheckpointTests
{
    [Fact]
    public void TensorsAndMetadataRoundTrip()
    {
        string path = Path.Combine(TestData.TempDir(), "x.ckpt");
        using (var scope = NewDisposeScope())
            Checkpoint.Save(path, "{\"a\":1}", [("w", tensor(new float[] { 0, 1, 2, 3, 4, 5 }).reshape(2, 3)), ("n", tensor(42L)), ("b", ones(3, ScalarType.BFloat16))]);
        using var ck = Checkpoint.Load(path);
        Assert.Equal("{\"a\":1}", ck.MetadataJson);
        Assert.Equal([0f, 1, 2, 3, 4, 5], ck.Tensors["w"].data<float>().ToArray());
        Assert.Equal([2L, 3], ck.Tensors["w"].shape);
        Assert.Equal(42L, ck.Tensors["n"].item<long>());
        Assert.Equal(ScalarType.BFloat16, ck.Tensors["b"].dtype);
    }

    [Fact]
    public void DamagedCheckpointsAreRejected()
    {
        string dir = TestData.TempDir();
        string path = Path.Combine(dir, "x.ckpt");
        using (var scope = NewDisposeScope()) Checkpoint.Save(path, "{}", [("w", ones(1000))]);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^100]);
        Assert.Contains("truncated", Assert.Throws<DataFormatException>(() => Checkpoint.Load(path)).Message);
        File.WriteAllText(path, "hello, I am not a checkpoint");
        Assert.Contains("not a Winnow checkpoint", Assert.Throws<DataFormatException>(() => Checkpoint.Load(path)).Message);
    }
}

public class TrainingLoopTests
{
    private static readonly TrainingOptions Quick = new()
    {
        Epochs = 3, BatchSize = 32, LearningRate = 0.05, Precision = Precision.Float32, CropPadding = 1, HorizontalFlip = false, Seed = 3, Threads = 2,
    };

    [Fact]
    public void CrossEntropyLearnsASeparableSetAndWritesTheRunFolder()
    {
        var train = TestData.Bars(800, seed: 1);
        var test = TestData.Bars(200, seed: 2);
        var labels = NoisyLabelSet.Create(train, new SymmetricNoise(0.2), 5);
        var folder = new RunFolder(TestData.TempDir());
        TrainingLoop.SeedForInitialisation(Quick.Seed);
        using var method = new CrossEntropyMethod(ModelFactory.CreateClassifier(ModelFactory.DefaultEncoder, 1, 4), Quick);
        var result = new TrainingLoop(Quick).Run(method, train, labels, test, folder, cancellation: TestContext.Current.CancellationToken);
        Assert.Equal(3, result.Epochs.Count);
        Assert.True(result.Summary.Best > 0.9, $"best test accuracy {result.Summary.Best}");
        Assert.True(result.Epochs[^1].TrainAccuracyTrue > 0.9);
        // A network that learnt the bars predicts their true class for most wrong labels: few are memorised.
        Assert.True(result.Epochs[^1].Memorization < 0.2, $"memorised {result.Epochs[^1].Memorization}");
        // A model that learned the clean pattern gives wrong labels high losses: the loss mixture finds them.
        Assert.True(result.Epochs[^1].CleanAuc > 0.9, $"clean-probability ROC-AUC {result.Epochs[^1].CleanAuc}");
        Assert.True(File.Exists(folder.LastCheckpoint) && File.Exists(folder.BestCheckpoint) && File.Exists(folder.SummaryFile));
        var rows = EpochMetrics.ReadCsv(folder.MetricsFile);
        Assert.Equal(result.Epochs.Select(e => e.TestAccuracy), rows.Select(r => r.TestAccuracy));
        foreach (var (written, read) in result.Epochs.Zip(rows)) Assert.Equal(written.CleanAuc, read.CleanAuc, 5);
        Assert.Equal(result.Epochs.Take(Math.Min(10, 3)).Average(e => e.TestAccuracy), result.Summary.Last, 12);
    }

    /// <summary>Four-class bar images for training and test, the training labels with symmetric noise (seed 5).</summary>
    private static (ImageDataset Train, ImageDataset Test, NoisyLabelSet Labels) BarsWithNoise(int trainCount, int testCount, double rate)
    {
        var train = TestData.Bars(trainCount, seed: 1);
        return (train, TestData.Bars(testCount, seed: 2), NoisyLabelSet.Create(train, new SymmetricNoise(rate), 5));
    }

    /// <summary>A cross-entropy method on a new default classifier, initialised with the options' seed.</summary>
    private static CrossEntropyMethod NewCrossEntropy(TrainingOptions options)
    {
        TrainingLoop.SeedForInitialisation(options.Seed);
        return new CrossEntropyMethod(ModelFactory.CreateClassifier(ModelFactory.DefaultEncoder, 1, 4), options);
    }

    [Fact]
    public void ADivergingRunStopsWithAOneLineErrorNamingTheStep()
    {
        var (train, test, labels) = BarsWithNoise(256, 64, 0.2);
        var options = Quick with { Epochs = 1, LearningRate = 1e37 };
        using var method = NewCrossEntropy(options);
        var e = Assert.Throws<WinnowException>(() => new TrainingLoop(options).Run(method, train, labels, test, cancellation: TestContext.Current.CancellationToken));
        Assert.Matches(@"^the training loss became (NaN|-?∞|-?Infinity) at epoch 1, step \d+; lower the learning rate", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        // On an AVX-512 CPU the message also names the kernel cap (docs/methods.md), unless a cap is in force.
        bool hint = System.Runtime.Intrinsics.X86.Avx512F.IsSupported && !KernelIsa.Current.Capped;
        Assert.Equal(hint, e.Message.Contains("WINNOW_KERNEL_ISA=AVX2", StringComparison.Ordinal));
    }

    [Fact]
    public void WeightsThatTurnNonFiniteWithAFiniteLossStopTheRunAtTheEpochsEnd()
    {
        var (train, test, labels) = BarsWithNoise(256, 64, 0.2);
        var options = Quick with { Epochs = 2 };
        using var method = NewCrossEntropy(options);
        // After the first epoch's last step (its loss already reported finite), one weight becomes −∞.
        var poison = new SynchronousProgress(p =>
        {
            if (p.Epoch == 1 && p.Finished is null && p.Step == p.TotalSteps)
                using (no_grad()) method.Networks[0].Network.parameters().First().view(-1)[0].fill_(LongLivedScalars.NegativeInfinity);
        });
        var e = Assert.Throws<WinnowException>(() => new TrainingLoop(options).Run(method, train, labels, test, progress: poison, cancellation: TestContext.Current.CancellationToken));
        Assert.StartsWith($"the weights of {method.Networks[0].Name} are no longer finite after epoch 1; lower the learning rate", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void NonFiniteOutputsInTheEvaluationStopTheRunNamingTheEpochAndTheImage()
    {
        var (train, test, labels) = BarsWithNoise(256, 64, 0.2);
        var options = Quick with { Epochs = 2 };
        using var method = NewCrossEntropy(options);
        // After the first epoch's last step, a batch norm's running variance (a buffer, not a weight) becomes −∞ (its square root NaN): the
        // training step never reads it, every evaluation in eval mode does.
        var poison = new SynchronousProgress(p =>
        {
            if (p.Epoch == 1 && p.Finished is null && p.Step == p.TotalSteps)
                using (no_grad())
                    method.Networks[0].Network.named_buffers().First(b => b.name.EndsWith("running_var", StringComparison.Ordinal)).buffer.fill_(LongLivedScalars.NegativeInfinity);
        });
        var e = Assert.Throws<WinnowException>(() => new TrainingLoop(options).Run(method, train, labels, test, progress: poison, cancellation: TestContext.Current.CancellationToken));
        Assert.StartsWith($"the model's output for image 0 of {test.Name} is NaN in the evaluation after epoch 1 (", e.Message);
        Assert.DoesNotContain('\n', e.Message);

        // The loss mixture names the sample whose loss is not finite (an ArgumentException before).
        var mixture = Assert.Throws<NonFiniteValueException>(() => TwoComponentGaussianMixture.Fit([0.1, 0.2, double.NaN, 0.3]));
        Assert.Equal("the per-sample loss of sample 2 is NaN; the loss mixture needs finite values", mixture.Message);
    }

    [Fact]
    public void APartialTrainingSetEvaluationReportsTheFiguresOfItsSeededSubset()
    {
        var (train, test, labels) = BarsWithNoise(800, 100, 0.4);
        var options = Quick with { Epochs = 1, TrainingSetEvaluationSamples = 300 };
        using var method = NewCrossEntropy(options);
        var result = new TrainingLoop(options).Run(method, train, labels, test, cancellation: TestContext.Current.CancellationToken);

        var subset = TrainingLoop.TrainingSetEvaluationSubset(train.Count, options, method)!;
        Assert.Equal(300, subset.Distinct().Count());
        Assert.Equal(subset.Order(), subset);
        Assert.Equal(subset, TrainingLoop.TrainingSetEvaluationSubset(train.Count, options, method));
        // The subset's figures, recomputed by hand from the final network: they are what the row holds.
        var predicted = Evaluation.Predict(method.PredictLogits, train.Subset(subset), cancellation: TestContext.Current.CancellationToken).Predicted;
        double noisyAccuracy = subset.Select((s, k) => predicted[k] == labels.Noisy[s] ? 1.0 : 0).Average();
        var wrong = subset.Select((s, k) => (s, k)).Where(p => labels.IsMislabeled(p.s)).ToArray();
        double memorised = wrong.Average(p => predicted[p.k] == labels.Noisy[p.s] ? 1.0 : 0);
        Assert.Equal(noisyAccuracy, result.Epochs[0].TrainAccuracyNoisy, 12);
        Assert.Equal(memorised, result.Epochs[0].Memorization, 12);
        Assert.Null(result.FinalTrainingSetPredictions);
        // The whole set when asked for all, or when it is no larger than the subset.
        Assert.Null(TrainingLoop.TrainingSetEvaluationSubset(train.Count, options with { TrainingSetEvaluationSamples = 0 }, method));
        Assert.Null(TrainingLoop.TrainingSetEvaluationSubset(300, options, method));
    }

    [Fact]
    public void ResumedRunEndsWhereAnUninterruptedRunEnds()
    {
        var train = TestData.Bars(256, seed: 1);
        var test = TestData.Bars(64, seed: 2);
        var labels = NoisyLabelSet.Create(train, new SymmetricNoise(0.4), 5);

        var whole = new RunFolder(TestData.TempDir());
        TrainingLoop.SeedForInitialisation(Quick.Seed);
        using var a = new CrossEntropyMethod(ModelFactory.CreateClassifier(ModelFactory.DefaultEncoder, 1, 4), Quick);
        var full = new TrainingLoop(Quick).Run(a, train, labels, test, whole, cancellation: TestContext.Current.CancellationToken);

        // The same run, killed after its second epoch.
        var parts = new RunFolder(TestData.TempDir());
        TrainingLoop.SeedForInitialisation(Quick.Seed);
        using var kill = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var killAfterTwo = new SynchronousProgress(p => { if (p.Finished?.Epoch == 2) kill.Cancel(); });
        using (var b = new CrossEntropyMethod(ModelFactory.CreateClassifier(ModelFactory.DefaultEncoder, 1, 4), Quick))
            Assert.Throws<OperationCanceledException>(() => new TrainingLoop(Quick).Run(b, train, labels, test, parts, progress: killAfterTwo, cancellation: kill.Token));
        Assert.Equal(2, EpochMetrics.ReadCsv(parts.MetricsFile).Count);
        // A fresh process would start from a differently initialised network: the checkpoint must overwrite all of it.
        TrainingLoop.SeedForInitialisation(99);
        using var c = new CrossEntropyMethod(ModelFactory.CreateClassifier(ModelFactory.DefaultEncoder, 1, 4), Quick);
        using var ck = Checkpoint.Load(parts.LastCheckpoint);
        var resumed = new TrainingLoop(Quick).Run(c, train, labels, test, parts, ck, cancellation: TestContext.Current.CancellationToken);

        Assert.Equal(3, resumed.Epochs.Count);
        Assert.Equal(full.Epochs.Select(e => e.TestAccuracy), resumed.Epochs.Select(e => e.TestAccuracy));
        Assert.Equal(full.Epochs[^1].TrainLoss, resumed.Epochs[^1].TrainLoss, 6);
        var wa = a.Network.parameters().Select(p => p.data<float>().ToArray()).SelectMany(x => x).ToArray();
        var wc = c.Network.parameters().Select(p => p.data<float>().ToArray()).SelectMany(x => x).ToArray();
        Assert.Equal(wa, wc);
    }
}

internal sealed class SynchronousProgress(Action<TrainingProgress> handler) : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress value) => handler(value);
}

/// <summary>The pieces of the fast recipe: the per-step schedule, Nesterov momentum, fast norm shifts, lookahead, test-time views.</summary>
public class FastRecipeTests
{
    [Fact]
    public void TheLinearScheduleRisesAndFallsThroughItsHandComputedCorners()
    {
        var s = new LearningRateSchedule { Kind = ScheduleKind.Linear, WarmupFraction = 0.23, StartFactor = 0.2, EndFactor = 0.07 };
        Assert.True(s.PerStep);
        Assert.Equal(0.2, s.AtProgress(1, 0), 12);
        Assert.Equal(0.6, s.AtProgress(1, 0.115), 12);
        Assert.Equal(1.0, s.AtProgress(1, 0.23), 12);
        Assert.Equal(0.535, s.AtProgress(1, 0.615), 12);
        Assert.Equal(0.07, s.AtProgress(1, 1), 12);
        Assert.Equal(0.07 * 3, s.AtProgress(3, 1.5), 12);
        Assert.Equal(s.AtProgress(2, 0.5), s.At(2, 5, 10), 12);
    }

    [Fact]
    public void NesterovSgdMatchesTheHandComputedUpdate()
    {
        using var _ = NewDisposeScope();
        var p = new TorchSharp.Modules.Parameter(tensor(new float[] { 1f }));
        var sgd = new SgdOptimizer([p], learningRate: 0.1, momentum: 0.9, weightDecay: 0, nesterov: true);
        // loss = p, so g = 1 at every step. Step 1: b = 1, update g + 0.9b = 1.9, p = 0.81.
        // Step 2: b = 0.9 + 1 = 1.9, update 1 + 0.9·1.9 = 2.71, p = 0.81 − 0.271 = 0.539.
        for (int step = 0; step < 2; step++)
        {
            sgd.ZeroGrad();
            p.sum().backward();
            sgd.Step();
        }
        Assert.Equal(0.539f, p.data<float>()[0], 5);
    }

    [Fact]
    public void AFastGroupThatKeepsItsDecayPerStepDecaysLikeTheFullRate()
    {
        using var _ = NewDisposeScope();
        var kept = new TorchSharp.Modules.Parameter(tensor(new float[] { 1f }));
        var scaled = new TorchSharp.Modules.Parameter(tensor(new float[] { 1f }));
        var sgd = new SgdOptimizer([kept, scaled], learningRate: 0.1, momentum: 0, weightDecay: 0.1);
        sgd.ScaleRate([kept], 64, keepDecayPerStep: true);
        sgd.ScaleRate([scaled], 64);
        sgd.ZeroGrad();
        kept.Times(0).Plus(scaled.Times(0)).sum().backward();
        sgd.Step();
        // Zero loss gradient: only the decay moves them. kept: 1 − 0.1·64·(0.1/64) = 0.99; scaled: 1 − 0.1·64·0.1 = 0.36.
        Assert.Equal(0.99f, kept.data<float>()[0], 5);
        Assert.Equal(0.36f, scaled.data<float>()[0], 5);
    }

    [Fact]
    public void AParameterFrozenDuringTheRunStopsMovingThoughItsMomentumRemains()
    {
        using var _ = NewDisposeScope();
        var p = new TorchSharp.Modules.Parameter(tensor(new float[] { 1f }));
        var sgd = new SgdOptimizer([p], learningRate: 0.1, momentum: 0.9, weightDecay: 0.1);
        sgd.ZeroGrad();
        p.sum().backward();
        sgd.Step();
        float after = p.data<float>()[0];
        p.requires_grad = false;
        sgd.ZeroGrad();
        sgd.Step();
        Assert.Equal(after, p.data<float>()[0]);
    }

    [Fact]
    public void LookaheadMovesTheAverageTowardsTheNetworkByTheHandComputedDecay()
    {
        using var _ = NewDisposeScope();
        using var net = new Winnow.Models.MixedLinear(1, 1);
        using (no_grad())
        {
            net.parameters().First().fill_(LongLivedScalars.One);
            net.parameters().Last().zero_();
        }
        using var lookahead = new LookaheadAveraging([("net", net)], 5);
        var weight = net.parameters().First();
        using (no_grad()) weight.copy_(tensor(new float[] { 3f }).reshape(1, 1));
        lookahead.AfterStep(4, 1.0);
        Assert.Equal(3f, weight.data<float>()[0], 6);
        // d = 0.95⁵ · 1³ = 0.7737809; a = d·1 + (1 − d)·3 = 1.4524381; the network takes it.
        lookahead.AfterStep(5, 1.0);
        Assert.Equal(1.4524381f, weight.data<float>()[0], 5);
        Assert.Equal(0.95 * 0.95 * 0.95 * 0.95 * 0.95 * 0.125, lookahead.DecayAt(0.5), 12);
        // The last step: the network's own later moves are dropped and it ends at the average.
        using (no_grad()) weight.fill_(LongLivedScalars.One);
        lookahead.Finish();
        Assert.Equal(1.4524381f, weight.data<float>()[0], 5);
    }

    [Fact]
    public void TestTimeViewsAverageTheHandComputedPixels()
    {
        using var _ = NewDisposeScope();
        // A 4×4 image with v[r, c] = 10r + c and a "model" whose one logit is the top-left pixel.
        var x = tensor(Enumerable.Range(0, 16).Select(i => (float)(10 * (i / 4) + i % 4)).ToArray()).reshape(1, 1, 4, 4);
        Func<Tensor, Tensor> topLeft = images => images[.., .., 0, 0].reshape(-1, 1).clone();
        // Mirror: (v00 + v03)/2 = 1.5. Shifted up-left with a reflected border: top-left v11 = 11, its mirror v12 = 12;
        // down-right: v11 and v12 again. Level 2: ½·1.5 + ¼·11.5 + ¼·11.5 = 6.5.
        Assert.Equal(0f, TestTimeAugmenter.Wrap(topLeft, TestTimeAugmentation.None)(x).item<float>());
        Assert.Equal(1.5f, TestTimeAugmenter.Wrap(topLeft, TestTimeAugmentation.Mirror)(x).item<float>(), 5);
        Assert.Equal(6.5f, TestTimeAugmenter.Wrap(topLeft, TestTimeAugmentation.MirrorTranslate)(x).item<float>(), 5);
    }

    [Fact]
    public void TheFastRecipeResumesToTheUninterruptedRunsWeightsAndWritesItsFinalTestTimeAccuracy()
    {
        var train = TestData.Colour(96, seed: 1);
        var test = TestData.Colour(32, seed: 2);
        var labels = NoisyLabelSet.Create(train, new SymmetricNoise(0.2), 5);
        var options = TrainingRecipes.Fast.Options with { Epochs = 3, BatchSize = 16, LearningRate = 0.001465 * 16, Precision = Precision.Float32, Threads = 2, Seed = 2 };

        var whole = new RunFolder(TestData.TempDir());
        TrainingLoop.SeedForInitialisation(options.Seed);
        using var a = new CrossEntropyMethod(ModelFactory.CreateClassifier(TrainingRecipes.Fast.Model, 3, 4), options);
        var full = new TrainingLoop(options).Run(a, train, labels, test, whole, cancellation: TestContext.Current.CancellationToken);

        var parts = new RunFolder(TestData.TempDir());
        TrainingLoop.SeedForInitialisation(options.Seed);
        using var kill = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var killAfterOne = new SynchronousProgress(p => { if (p.Finished?.Epoch == 1) kill.Cancel(); });
        using (var b = new CrossEntropyMethod(ModelFactory.CreateClassifier(TrainingRecipes.Fast.Model, 3, 4), options))
            Assert.Throws<OperationCanceledException>(() => new TrainingLoop(options).Run(b, train, labels, test, parts, progress: killAfterOne, cancellation: kill.Token));
        TrainingLoop.SeedForInitialisation(99);
        using var c = new CrossEntropyMethod(ModelFactory.CreateClassifier(TrainingRecipes.Fast.Model, 3, 4), options);
        using var ck = Checkpoint.Load(parts.LastCheckpoint);
        var resumed = new TrainingLoop(options).Run(c, train, labels, test, parts, ck, cancellation: TestContext.Current.CancellationToken);

        var wa = a.Network.state_dict().Values.Where(t => t.is_floating_point()).SelectMany(t => t.data<float>().ToArray()).ToArray();
        var wc = c.Network.state_dict().Values.Where(t => t.is_floating_point()).SelectMany(t => t.data<float>().ToArray()).ToArray();
        Assert.Equal(wa, wc);
        Assert.Equal(full.Epochs.Select(e => e.TestAccuracy), resumed.Epochs.Select(e => e.TestAccuracy));
        // Per-step rates: the first epoch's recorded rate is the schedule's first step's.
        Assert.Equal(options.Schedule.AtProgress(options.LearningRate, 0), full.Epochs[0].LearningRate, 9);
        var rows = EpochMetrics.ReadCsv(whole.MetricsFile);
        Assert.True(double.IsNaN(rows[0].Extra[TrainingLoop.TestAccuracyTtaColumn]));
        Assert.InRange(rows[^1].Extra[TrainingLoop.TestAccuracyTtaColumn], 0, 1);
    }
}
