using Winnow.Detection;

namespace Winnow.Tests.Detection;

public class GaussianMixtureTests
{
    private static double Normal(Random rng)
    {
        double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    [Fact]
    public void RecoversTheMeansAndWeightsOfAKnownMixture()
    {
        // 70% clean losses around 0.1 (sd 0.05), 30% noisy around 0.7 (sd 0.1), as min-max-normalised losses look.
        var rng = new Random(3);
        var x = Enumerable.Range(0, 20000).Select(i => i % 10 < 7 ? 0.1 + 0.05 * Normal(rng) : 0.7 + 0.1 * Normal(rng)).ToArray();
        var gmm = TwoComponentGaussianMixture.Fit(x, new GaussianMixtureOptions { MaxIterations = 200, Tolerance = 1e-6, RegCovar = 1e-6 });
        Assert.Equal(0.1, gmm.Means[0], 2);
        Assert.Equal(0.7, gmm.Means[1], 2);
        Assert.Equal(0.7, gmm.Weights[0], 2);
        Assert.Equal(0.3, gmm.Weights[1], 2);
        Assert.Equal(0.05 * 0.05, gmm.Variances[0], 4);
        Assert.True(gmm.Converged);
    }

    [Fact]
    public void MinMaxNormalisationMapsLossesOntoTheUnitInterval()
    {
        Assert.Equal([0.0, 0.5, 1.0], CleanProbability.MinMaxNormalise([2.0, 4.0, 6.0]));
        Assert.Equal([0.0, 0.0], CleanProbability.MinMaxNormalise([3.0, 3.0]));
    }

    [Fact]
    public void CleanProbabilityFromLossesSeparatesLowFromHighLosses()
    {
        // Raw (unnormalised) losses: 300 right labels near 0.2 nats, 100 wrong ones near 2.5 nats.
        var rng = new Random(5);
        var losses = Enumerable.Range(0, 400).Select(i => i < 300 ? 0.2 + 0.05 * Normal(rng) : 2.5 + 0.3 * Normal(rng)).ToArray();
        var p = CleanProbability.FromLosses(losses, new GaussianMixtureOptions { Seed = 1 });
        Assert.All(p.Take(300), v => Assert.True(v > 0.9, $"clean sample got {v}"));
        Assert.All(p.Skip(300), v => Assert.True(v < 0.1, $"noisy sample got {v}"));
        Assert.Equal(1.0, RocAuc.Compute(p, Enumerable.Range(0, 400).Select(i => i < 300).ToArray()), 6);
    }

    [Fact]
    public void CleanProbabilityIsThePosteriorOfTheLowerMeanComponent()
    {
        var rng = new Random(5);
        var x = Enumerable.Range(0, 4000).Select(i => i % 2 == 0 ? 0.2 + 0.05 * Normal(rng) : 0.8 + 0.05 * Normal(rng)).ToArray();
        var gmm = TwoComponentGaussianMixture.Fit(x);
        var p = gmm.LowerComponentPosterior(new double[] { 0.2, 0.8 });
        Assert.True(p[0] > 0.99);
        Assert.True(p[1] < 0.01);
        // Between the two means the clean probability falls monotonically.
        var grid = gmm.LowerComponentPosterior(Enumerable.Range(0, 61).Select(i => 0.2 + i * 0.01).ToArray());
        for (int i = 1; i < grid.Length; i++) Assert.True(grid[i] <= grid[i - 1] + 1e-12);
    }

    [Fact]
    public void HandComputedSingleEmStepFromKMeans()
    {
        // Values 0, 0, 1, 1 split by k-means into {0, 0} and {1, 1}; the M-step gives means 0 and 1, variances
        // reg_covar, weights 1/2; the posteriors of 0 and 1 are then 1 and 0 (to machine precision).
        var gmm = TwoComponentGaussianMixture.Fit(new double[] { 0, 0, 1, 1 }, new GaussianMixtureOptions { MaxIterations = 1, RegCovar = 0.01 });
        Assert.Equal(0, gmm.Means[0], 9);
        Assert.Equal(1, gmm.Means[1], 9);
        Assert.Equal(0.01, gmm.Variances[0], 9);
        Assert.Equal(0.5, gmm.Weights[0], 9);
    }

    [Fact]
    public void IsDeterministicInTheSeedAndRejectsBadInput()
    {
        var rng = new Random(1);
        var x = Enumerable.Range(0, 500).Select(_ => rng.NextDouble()).ToArray();
        var a = TwoComponentGaussianMixture.Fit(x, new GaussianMixtureOptions { Seed = 4 });
        var b = TwoComponentGaussianMixture.Fit(x, new GaussianMixtureOptions { Seed = 4 });
        Assert.Equal(a.Means, b.Means);
        Assert.Throws<ArgumentException>(() => TwoComponentGaussianMixture.Fit(new double[] { 1 }));
        Assert.Throws<NonFiniteValueException>(() => TwoComponentGaussianMixture.Fit(new double[] { 1, double.NaN }));
    }
}
