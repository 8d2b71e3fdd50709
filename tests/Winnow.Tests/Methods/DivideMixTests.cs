using Winnow.Analysis;
using Winnow.Runs;
using TorchSharp;
using Winnow.Data;
using Winnow.Methods;
using Winnow.Models;
using Winnow.Tests.Training;
using Winnow.Training;
using static TorchSharp.torch;

namespace Winnow.Tests.Methods;

public class DivideMixTests
{
    [Fact]
    public void MixMatchTargetsSumToOneAndMixLabeledWithUnlabeledRows()
    {
        using var _ = NewDisposeScope();
        // Two labeled rows (targets one-hot) then two unlabeled rows (sharpened guesses).
        var inputs = tensor(new float[] { 1, 1, 2, 2, 10, 10, 20, 20 }, [4, 2]);
        var guesses = MixMatch.Sharpen(tensor(new float[] { 0.6f, 0.4f, 0.3f, 0.7f }, [2, 2]), 0.5);
        var targets = cat([tensor(new float[] { 1, 0, 0, 1 }, [2, 2]), guesses]);
        Assert.True(guesses.sum(1).allclose(ones(2)));
        // Sharpening with T = 0.5 squares and renormalises: 0.36 / (0.36 + 0.16).
        Assert.Equal(0.36f / 0.52f, guesses[0, 0].item<float>(), 5);
        var permutation = tensor(new long[] { 2, 3, 0, 1 });
        var (mixed, mixedTargets) = MixMatch.Mix(inputs, targets, 0.3, permutation);
        // λ′ = max(0.3, 0.7) = 0.7: labeled row 0 takes 30% of unlabeled row 2.
        Assert.Equal(0.7f * 1 + 0.3f * 10, mixed[0, 0].item<float>(), 5);
        Assert.Equal(0.7f * 20 + 0.3f * 2, mixed[3, 1].item<float>(), 5);
        Assert.True(mixedTargets.sum(1).allclose(ones(4), rtol: 1e-5, atol: 1e-6));
        Assert.Equal(0.7f + 0.3f * guesses[0, 0].item<float>(), mixedTargets[0, 0].item<float>(), 5);
    }

    [Fact]
    public void BetaDrawsHaveTheRightMeanAndSpread()
    {
        // Beta(α, α) has mean ½ and variance 1/(4(2α + 1)): 1/36 for α 4, 1/8 for α ½ (a uniform draw: 1/12).
        var rng = new Random(1);
        foreach (var (alpha, variance) in new[] { (4.0, 1.0 / 36), (0.5, 1.0 / 8) })
        {
            var draws = Enumerable.Range(0, 20000).Select(_ => BetaDistribution.Sample(alpha, rng)).ToArray();
            double mean = draws.Average();
            Assert.Equal(0.5, mean, 2);
            Assert.InRange(draws.Average(x => (x - mean) * (x - mean)), variance * 0.95, variance * 1.05);
        }
        // Beta(½, ½) is the arcsine law: P(x < 0.1) = (2/π)·asin(√0.1) = 0.2048, against 0.1 for a uniform draw.
        Assert.InRange(Enumerable.Range(0, 20000).Count(_ => BetaDistribution.Sample(0.5, rng) < 0.1) / 20000.0, 0.19, 0.22);
    }

    [Fact]
    public void PerSettingDefaultsFollowTheTable()
    {
        var sym90 = new DivideMixOptions().Resolve(new NoiseSpec { Kind = NoiseKind.Symmetric, Rate = 0.9 }, fromEncoder: false);
        Assert.Equal((50.0, 0.6, 5, 10, false), (sym90.LambdaU!.Value, sym90.Threshold!.Value, sym90.LossHistory!.Value, sym90.WarmupEpochs!.Value, sym90.ConfidencePenalty!.Value));
        var asym = new DivideMixOptions { LambdaU = 7 }.Resolve(new NoiseSpec { Kind = NoiseKind.Asymmetric, Rate = 0.4 }, fromEncoder: true);
        Assert.Equal((7.0, 0.5, 1, 5, true), (asym.LambdaU!.Value, asym.Threshold!.Value, asym.LossHistory!.Value, asym.WarmupEpochs!.Value, asym.ConfidencePenalty!.Value));
        Assert.Equal(25, new DivideMixOptions().Resolve(new NoiseSpec { Kind = NoiseKind.Symmetric, Rate = 0.8 }, false).LambdaU);
        // C2D clips warm-up gradients at norm 1 when starting from an encoder; DivideMix from scratch does not clip.
        Assert.Equal((0.0, 1.0), (sym90.WarmupGradientClip!.Value, asym.WarmupGradientClip!.Value));
        // MixMatch's α: the spec's 4 from scratch, 0.01 (mixing all but off) from an encoder below 90% symmetric noise
        // and 4 at 90%, unless given.
        Assert.Equal((4.0, 0.01), (sym90.Alpha!.Value, asym.Alpha!.Value));
        var fromEncoder = new[] { 0.5, 0.8, 0.9, 0.95 }.Select(r => new DivideMixOptions().Resolve(new NoiseSpec { Kind = NoiseKind.Symmetric, Rate = r }, fromEncoder: true).Alpha!.Value);
        Assert.Equal([0.01, 0.01, 4.0, 4.0], fromEncoder);
        // ELR+'s mixup α: the paper's 1 from scratch, 0.01 from an encoder, unless given; β and λ by noise type.
        var sym80 = new NoiseSpec { Kind = NoiseKind.Symmetric, Rate = 0.8 };
        var elrScratch = new ElrOptions().Resolve(sym80, fromEncoder: false);
        var elrEncoder = new ElrOptions().Resolve(sym80, fromEncoder: true);
        var elrAsym = new ElrOptions { MixupAlpha = 0.3 }.Resolve(new NoiseSpec { Kind = NoiseKind.Asymmetric, Rate = 0.4 }, fromEncoder: true);
        Assert.Equal((1.0, 0.01, 0.3), (elrScratch.MixupAlpha!.Value, elrEncoder.MixupAlpha!.Value, elrAsym.MixupAlpha!.Value));
        Assert.Equal((0.7, 3.0, 0.9, 1.0), (elrEncoder.Beta!.Value, elrEncoder.Lambda!.Value, elrAsym.Beta!.Value, elrAsym.Lambda!.Value));
    }

    [Fact]
    public void OutOfRangeOptionsAreNamedWhenResolved()
    {
        var sym = new NoiseSpec { Kind = NoiseKind.Symmetric, Rate = 0.8 };
        Assert.Contains("--mixmatch-alpha must be positive, got 0", Assert.Throws<WinnowException>(() => new DivideMixOptions { Alpha = 0 }.Resolve(sym, true)).Message);
        Assert.Contains("--p-threshold must be in [0, 1], got 1.5", Assert.Throws<WinnowException>(() => new DivideMixOptions { Threshold = 1.5 }.Resolve(sym, true)).Message);
        Assert.Contains("--loss-history must be at least 1, got 0", Assert.Throws<WinnowException>(() => new DivideMixOptions { LossHistory = 0 }.Resolve(sym, true)).Message);
        Assert.Contains("--elr-beta must be in [0, 1), got 1", Assert.Throws<WinnowException>(() => new ElrOptions { Beta = 1 }.Resolve(sym, false)).Message);
        Assert.Contains("--mixup-alpha must be positive, got -1", Assert.Throws<WinnowException>(() => new ElrOptions { MixupAlpha = -1 }.Resolve(sym, true)).Message);
        Assert.Equal(0.5, new DivideMixOptions { Alpha = 0.5 }.Resolve(sym, true).Alpha);
    }

    [Fact]
    public void LabeledSplitIsMostlyCleanAtHalfSymmetricNoise()
    {
        var (method, result, _, _) = TrainOnHalfNoisyBars(3, new DivideMixOptions { WarmupEpochs = 2, LabeledBatchSize = 32 });
        using var _ = method;
        var afterWarmup = result.Epochs[2].Extra;
        Assert.True(double.IsNaN(result.Epochs[1].Extra["precision_1"]));
        foreach (int net in new[] { 1, 2 })
        {
            Assert.True(afterWarmup[$"precision_{net}"] > 0.9, $"labeled split of net {net}: precision {afterWarmup[$"precision_{net}"]}");
            Assert.True(afterWarmup[$"auc_{net}"] > 0.9, $"AUC {afterWarmup[$"auc_{net}"]}");
            Assert.InRange(afterWarmup[$"labeled_{net}"], 200, 450);
        }
        Assert.True(result.Epochs[^1].TestAccuracy > 0.8, $"test accuracy {result.Epochs[^1].TestAccuracy}");
    }

    [Fact]
    public void WarmupClipsGradientsMoreTightlyThanTheRestOfTheRun()
    {
        var train = TestData.Bars(160, seed: 3);
        var test = TestData.Bars(40, seed: 4);
        var noise = new NoiseSpec { Kind = NoiseKind.Symmetric, Rate = 0.5, IncludeTrueClass = false };
        var labels = noise.Create(train, trueLabelsKnown: true);
        var training = new TrainingOptions { Epochs = 2, BatchSize = 32, Precision = Precision.Float32, Seed = 1, Threads = 2, GradientClip = 5 };
        var manifest = new RunManifest { Method = "dividemix", Noise = noise, Training = training }
            .WithMethodOptions(new DivideMixOptions { WarmupEpochs = 1, LabeledBatchSize = 32, WarmupGradientClip = 1 });
        TrainingLoop.SeedForInitialisation(1);
        using var method = (DivideMixMethod)TrainingJob.CreateMethod(manifest, 1, 4);
        var limits = new List<double[]>();
        var recorder = new SynchronousProgress(p =>
        {
            if (p.Finished is not null) limits.Add([.. method.Optimizers.Select(o => o.Optimizer.MaxGradientNorm)]);
        });
        new TrainingLoop(training).Run(method, train, labels, test, progress: recorder, cancellation: TestContext.Current.CancellationToken);
        Assert.Equal([1.0, 1.0], limits[0]);
        Assert.Equal([5.0, 5.0], limits[1]);
    }

    [Fact]
    public void TrainingSetPredictionsAreTheEnsemblesAfterEveryEpoch()
    {
        // DivideMix shares its per-network passes over the training set between the division and the loop's
        // evaluation; the shared predictions must be those of the current weights, never of a stale pass.
        var train = TestData.Bars(160, seed: 5);
        var test = TestData.Bars(40, seed: 6);
        var noise = new NoiseSpec { Kind = NoiseKind.Symmetric, Rate = 0.5, IncludeTrueClass = false };
        var labels = noise.Create(train, trueLabelsKnown: true);
        var training = new TrainingOptions { Epochs = 3, BatchSize = 32, Precision = Precision.Float32, Seed = 1, Threads = 2 };
        var manifest = new RunManifest { Method = "dividemix", Noise = noise, Training = training }.WithMethodOptions(new DivideMixOptions { WarmupEpochs = 1, LabeledBatchSize = 32 });
        TrainingLoop.SeedForInitialisation(1);
        using var method = (DivideMixMethod)TrainingJob.CreateMethod(manifest, 1, 4);
        var shared = new List<DatasetPredictions>();
        var direct = new List<DatasetPredictions>();
        void Record()
        {
            shared.Add(method.PredictTrainingSet(train, TestContext.Current.CancellationToken));
            direct.Add(Evaluation.Predict(method.PredictLogits, train, cancellation: TestContext.Current.CancellationToken));
        }
        Record();
        var recorder = new SynchronousProgress(p => { if (p.Finished is not null) Record(); });
        new TrainingLoop(training).Run(method, train, labels, test, progress: recorder, cancellation: TestContext.Current.CancellationToken);
        Assert.Equal(4, shared.Count);
        for (int e = 0; e < shared.Count; e++)
        {
            Assert.Equal(direct[e].Predicted, shared[e].Predicted);
            for (int i = 0; i < direct[e].Probabilities.Length; i++)
                Assert.True(Math.Abs(direct[e].Probabilities[i] - shared[e].Probabilities[i]) < 1e-5, $"epoch {e}, value {i}: {shared[e].Probabilities[i]} against {direct[e].Probabilities[i]}");
        }
        for (int e = 1; e < shared.Count; e++)
            Assert.NotEqual(shared[e - 1].Probabilities, shared[e].Probabilities);
    }

    [Fact]
    public void LowestLossMaskTakesTheCountOrEachClassesShare()
    {
        double[] loss = [0.8, 0.1, 0.5, 0.1, 0.3, 0.9];
        Assert.Equal([false, true, false, true, true, false], CoDivision.LowestLossMask(loss, 3));
        // A tie across the cut goes to the lower index.
        Assert.Equal([false, true, false, false, false, false], CoDivision.LowestLossMask(loss, 1));
        Assert.Equal(new bool[6], CoDivision.LowestLossMask(loss, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => CoDivision.LowestLossMask(loss, 7));
        // Classes 0 (rows 0-3) and 1 (rows 4, 5): four of six rows get 4/6 of a count of 3 = 2, the other class 1.
        int[] classes = [0, 0, 0, 0, 1, 1];
        Assert.Equal([false, true, false, true, true, false], CoDivision.LowestLossMask(loss, 3, classes));
        // Shares of a count of 4: 2.67 and 1.33; the larger remainder gets the odd one: 3 and 1.
        Assert.Equal([false, true, true, true, true, false], CoDivision.LowestLossMask(loss, 4, classes));
        // Without classes a count of 3 takes the three lowest, both of class 1's among them; with classes, class 0 gets two.
        double[] skewed = [0.2, 0.1, 0.3, 0.25, 0.05, 0.04];
        Assert.Equal([false, true, false, false, true, true], CoDivision.LowestLossMask(skewed, 3));
        Assert.Equal([true, true, false, false, false, true], CoDivision.LowestLossMask(skewed, 3, classes));
        Assert.Throws<ArgumentException>(() => CoDivision.LowestLossMask(loss, 3, [0, 1]));
    }

    [Fact]
    public void HeldLabeledSizeKeepsTheFirstDivisionsCountAndSurvivesACheckpoint()
    {
        var (method, result, manifest, _) = TrainOnHalfNoisyBars(4, new DivideMixOptions { WarmupEpochs = 2, LabeledBatchSize = 32, HoldLabeledSize = true, Threshold = 0.5 });
        using var _ = method;
        int moved = 0;
        foreach (int net in new[] { 1, 2 })
        {
            double first = result.Epochs[2].Extra[$"labeled_{net}"];
            Assert.InRange(first, 1, 599);
            Assert.Equal(first, result.Epochs[3].Extra[$"labeled_{net}"]);
            Assert.True(result.Epochs[3].Extra[$"precision_{net}"] > 0.8, $"precision {result.Epochs[3].Extra[$"precision_{net}"]}");
            // τ alone would have labeled another number by the last division: the held count is not a coincidence.
            if (method.CleanProbability(net - 1)!.Count(p => p > 0.5) != first) moved++;
        }
        Assert.True(moved > 0, "the threshold's split kept its size on its own; the test shows nothing");
        var state = method.ExtraState().ToDictionary(s => s.Name, s => s.Value);
        TrainingLoop.SeedForInitialisation(1);
        using var resumed = (DivideMixMethod)TrainingJob.CreateMethod(manifest, 1, 4);
        resumed.LoadExtraState(state);
        Assert.Equal(result.Epochs[2].Extra["labeled_2"], resumed.ExtraState().ToDictionary(s => s.Name, s => s.Value)["held_labeled_size.1"].data<long>()[0]);
    }

    [Fact]
    public void ClassBalancedSplitGivesEachNoisyClassItsShare()
    {
        var (method, result, _, noisy) = TrainOnHalfNoisyBars(3, new DivideMixOptions { WarmupEpochs = 2, LabeledBatchSize = 32, ClassBalancedSplit = true });
        using var _ = method;
        foreach (int net in new[] { 0, 1 })
        {
            var labeled = method.LabeledSet(net)!;
            int size = labeled.Count(l => l);
            Assert.Equal(size, result.Epochs[2].Extra[$"labeled_{net + 1}"]);
            foreach (var c in noisy.Distinct())
            {
                double share = (double)size * noisy.Count(y => y == c) / noisy.Length;
                Assert.InRange(Enumerable.Range(0, noisy.Length).Count(i => labeled[i] && noisy[i] == c), Math.Floor(share), Math.Ceiling(share));
            }
            Assert.True(result.Epochs[2].Extra[$"precision_{net + 1}"] > 0.9, $"precision {result.Epochs[2].Extra[$"precision_{net + 1}"]}");
        }
    }

    [Fact]
    public void UnknownNoiseIsEstimatedAfterWarmupAndTheEstimateSurvivesACheckpoint()
    {
        // Labels from a file without a rate: the rate-dependent options wait, and the first division settles them.
        var (method, _, manifest, _) = TrainOnHalfNoisyBars(3, new DivideMixOptions { WarmupEpochs = 2, LabeledBatchSize = 32 }, rateKnown: false);
        using var _ = method;
        var estimate = method.NoiseEstimate ?? throw new Xunit.Sdk.XunitException("no estimate after warm-up");
        // 50% of the labels are wrong; 4 classes, true class excluded: the redraw never keeps a label, so nominal = 50% × 4/3.
        Assert.InRange(estimate.WrongFraction, 0.4, 0.6);
        Assert.Equal((NoiseKind.Symmetric, 2), (estimate.Structure, estimate.AfterEpoch));
        Assert.False(method.Options.AwaitsNoiseEstimate);
        Assert.Equal(25, method.Options.LambdaU);
        Assert.Same(method.Options, method.Settlement!.ResolvedOptions);
        var state = method.ExtraState().ToDictionary(s => s.Name, s => s.Value);
        TrainingLoop.SeedForInitialisation(1);
        using var resumed = (DivideMixMethod)TrainingJob.CreateMethod(manifest, 1, 4);
        Assert.True(resumed.Options.AwaitsNoiseEstimate);
        resumed.LoadExtraState(state);
        Assert.Equal(method.Options, resumed.Options);
        Assert.Equal(estimate, resumed.NoiseEstimate);
    }

    /// <summary>DivideMix on 600 bar images with 50% symmetric noise (true class excluded), tested on 100 clean ones.</summary>
    private static (DivideMixMethod Method, TrainingResult Result, RunManifest Manifest, int[] Noisy) TrainOnHalfNoisyBars(int epochs, DivideMixOptions options, bool rateKnown = true)
    {
        var train = TestData.Bars(600, seed: 1);
        var test = TestData.Bars(100, seed: 2);
        var noise = new NoiseSpec { Kind = NoiseKind.Symmetric, Rate = 0.5, IncludeTrueClass = false };
        var labels = noise.Create(train, trueLabelsKnown: true);
        var training = new TrainingOptions { Epochs = epochs, BatchSize = 32, LearningRate = 0.02, Precision = Precision.Float32, Seed = 1, Threads = 2 };
        // Without the rate, the run sees a noisy-label file: labels of unknown noise.
        var manifest = new RunManifest { Method = "dividemix", Noise = rateKnown ? noise : new NoiseSpec { File = "noisy_labels.csv" }, Training = training }.WithMethodOptions(options);
        TrainingLoop.SeedForInitialisation(1);
        var method = (DivideMixMethod)TrainingJob.CreateMethod(manifest, 1, 4);
        return (method, new TrainingLoop(training).Run(method, train, labels, test, cancellation: TestContext.Current.CancellationToken), manifest, labels.Noisy);
    }
}
