using Winnow.Models;
using Winnow.Analysis;
using Winnow.Runs;
using Winnow.Data;
using Winnow.Detection;
using Winnow.Methods;
using Winnow.Training;

namespace Winnow.Tests.Detection;

public class NoiseRateEstimateTests
{
    [Fact]
    public void ConcentrationIsOneOverKMinusOneForSpreadFlipsAndOneForClassToClassFlips()
    {
        // Rows true classes. Spread: each class sends 30 to every other class alike.
        var spread = new long[4, 4];
        var pairs = new long[4, 4];
        for (int t = 0; t < 4; t++)
            for (int g = 0; g < 4; g++)
            {
                spread[t, g] = t == g ? 100 : 30;
                pairs[t, g] = t == g ? 100 : g == (t + 1) % 4 ? 50 : 0;
            }
        Assert.Equal(1.0 / 3, NoiseRateEstimate.Concentration(spread), 12);
        Assert.Equal(1.0, NoiseRateEstimate.Concentration(pairs), 12);
        // Mixed rows: row 0 sends 60 to class 1 and 20 to each of 2 and 3 (top 60 of 100); the other rows are clean.
        var mixed = new long[4, 4] { { 100, 60, 20, 20 }, { 0, 100, 0, 0 }, { 0, 0, 100, 0 }, { 0, 0, 0, 100 } };
        Assert.Equal(0.6, NoiseRateEstimate.Concentration(mixed), 12);
        Assert.Equal(0, NoiseRateEstimate.Concentration(new long[3, 3] { { 5, 0, 0 }, { 0, 5, 0 }, { 0, 0, 5 } }));
    }

    [Fact]
    public void NominalRateUndoesTheRedrawOntoTheTrueClass()
    {
        // 80% symmetric noise over 10 classes, the true class included in the redraw, leaves 72% of labels wrong.
        var spread = new long[10, 10];
        for (int t = 0; t < 10; t++)
            for (int g = 0; g < 10; g++) spread[t, g] = t == g ? 280 : 80;
        var estimate = NoiseRateEstimate.FromParts(0.72, new NoiseSummary(spread), afterEpoch: 5);
        Assert.Equal(NoiseKind.Symmetric, estimate.Structure);
        Assert.Equal(0.8, estimate.NominalRate, 12);
        Assert.Equal(0.72, estimate.ConfidentJointWrongFraction, 12);
        var pairs = new long[10, 10];
        for (int t = 0; t < 10; t++) { pairs[t, t] = 800; pairs[t, (t + 3) % 10] = 200; }
        var asymmetric = NoiseRateEstimate.FromParts(0.2, new NoiseSummary(pairs), afterEpoch: 5);
        Assert.Equal((NoiseKind.Asymmetric, 0.2), (asymmetric.Structure, asymmetric.NominalRate));
        // Too few wrong labels to judge a structure: symmetric.
        Assert.Equal(NoiseKind.Symmetric, NoiseRateEstimate.FromParts(0.01, new NoiseSummary(pairs), afterEpoch: 5).Structure);
    }

    [Fact]
    public void EstimatesTheShareOfWrongLabelsFromPredictionsThatFollowTheTrueClass()
    {
        // 2,000 samples of 4 classes, 30% of labels moved to another class at random; the "model" gives the true class
        // 0.4 to 0.9 and spreads the rest, so the loss of a wrong label is high and of a right one low.
        const int n = 2000, k = 4;
        var rng = new Random(3);
        var truth = Enumerable.Range(0, n).Select(i => i % k).ToArray();
        var labels = truth.Select(t => rng.NextDouble() < 0.3 ? (t + 1 + rng.Next(k - 1)) % k : t).ToArray();
        var p = new float[n * k];
        for (int i = 0; i < n; i++)
        {
            float top = (float)(0.4 + 0.5 * rng.NextDouble());
            for (int c = 0; c < k; c++) p[i * k + c] = c == truth[i] ? top : (1 - top) / (k - 1);
        }
        double actual = Enumerable.Range(0, n).Count(i => labels[i] != truth[i]) / (double)n;
        var estimate = NoiseRateEstimate.FromPredictions(labels, [p, p], k, afterEpoch: 2);
        Assert.InRange(estimate.WrongFraction, actual - 0.03, actual + 0.03);
        Assert.InRange(estimate.ConfidentJointWrongFraction, actual - 0.03, actual + 0.03);
        Assert.Equal(NoiseKind.Symmetric, estimate.Structure);
        Assert.Equal(estimate.WrongFraction * 4 / 3, estimate.NominalRate, 12);
        Assert.Contains("spread over classes", estimate.Summary);
    }

    [Fact]
    public void DivideMixWaitsForTheEstimateAndResolvesAsForTheMatchingNoise()
    {
        var waiting = new DivideMixOptions().Resolve(null, fromEncoder: true);
        Assert.True(waiting.AwaitsNoiseEstimate);
        Assert.Equal((5, false, 1.0), (waiting.WarmupEpochs!.Value, waiting.ConfidencePenalty!.Value, waiting.WarmupGradientClip!.Value));
        Assert.Null(waiting.LambdaU);
        var spread = new long[10, 10];
        for (int t = 0; t < 10; t++)
            for (int g = 0; g < 10; g++) spread[t, g] = t == g ? 280 : 80;
        var at80 = waiting.ResolveFromEstimate(NoiseRateEstimate.FromParts(0.72, new NoiseSummary(spread), 5), fromEncoder: true);
        var told80 = new DivideMixOptions().Resolve(new NoiseSpec { Kind = NoiseKind.Symmetric, Rate = 0.8 }, fromEncoder: true);
        Assert.Equal(told80, at80);
        Assert.False(at80.AwaitsNoiseEstimate);
        // 85% wrong of 10 classes is nominal 0.94: the 90% column (λ_u 50, τ 0.6, five epochs of losses, α 4).
        var at90 = waiting.ResolveFromEstimate(NoiseRateEstimate.FromParts(0.85, new NoiseSummary(spread), 5), fromEncoder: true);
        Assert.Equal((50.0, 0.6, 5, 4.0), (at90.LambdaU!.Value, at90.Threshold!.Value, at90.LossHistory!.Value, at90.Alpha!.Value));
        // A value the user gave is kept.
        Assert.Equal(3.0, new DivideMixOptions { LambdaU = 3 }.Resolve(null, true).ResolveFromEstimate(NoiseRateEstimate.FromParts(0.85, new NoiseSummary(spread), 5), true).LambdaU);
    }

    [Fact]
    public void NoiseIsUnknownWhenTheLabelsAreTheUsers()
    {
        var told = new NoiseSpec { Kind = NoiseKind.Symmetric, Rate = 0.8 };
        Assert.Equal(told, new RunManifest { Noise = told }.KnownNoise());
        Assert.Equal(told, new RunManifest { Noise = told with { File = "noisy.csv" } }.KnownNoise() is { } n ? n with { File = null } : null);
        Assert.Equal(NoiseKind.None, new RunManifest().KnownNoise()?.Kind); // Fashion-MNIST's own labels: clean
        Assert.Null(new RunManifest { Dataset = new DatasetSpec { LabelFile = "labels.csv" } }.KnownNoise());
        Assert.Null(new RunManifest { Noise = new NoiseSpec { File = "noisy.csv" } }.KnownNoise());
        Assert.Null(new RunManifest { Dataset = new DatasetSpec { Kind = DatasetKind.Folder, Path = "images" } }.KnownNoise());
    }
}
