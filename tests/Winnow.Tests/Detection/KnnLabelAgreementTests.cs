using Winnow.Detection;
using Winnow.Models;
using static TorchSharp.torch;

namespace Winnow.Tests.Detection;

public class KnnLabelAgreementTests
{
    [Fact]
    public void NeighboursVoteWithTheirSimilarityAndTheSampleItselfIsLeftOut()
    {
        using var _ = NewDisposeScope();
        // Unit vectors at angles 0, 0.1 and 1.2 radians: 0's nearest are 1 (cos 0.1) and 2 (cos 1.2).
        double[] angles = [0, 0.1, 1.2];
        var features = tensor(angles.SelectMany(a => new[] { (float)Math.Cos(a), (float)Math.Sin(a) }).ToArray(), [3, 2]);
        var d = KnnLabelAgreement.NeighbourLabelDistribution(features, [0, 1, 0], 2, k: 2, TestContext.Current.CancellationToken);
        double w1 = Math.Cos(0.1), w2 = Math.Cos(1.2);
        // Sample 0 (label 0): its neighbours are sample 1 (label 1) and sample 2 (label 0), never itself.
        Assert.Equal(w2 / (w1 + w2), d[0], 5);
        Assert.Equal(w1 / (w1 + w2), d[1], 5);
        var vote = KnnLabelAgreement.Vote([0, 1, 0], d, 2);
        Assert.True(vote.Flagged[0]);
        Assert.Equal(1, vote.Suggested[0]);
        Assert.Equal(w2 / (w1 + w2), vote.Quality[0], 5);
    }

    [Fact]
    public void PlantedFlipsInClusteredFeaturesAreFound()
    {
        using var _ = NewDisposeScope();
        manual_seed(11);
        int n = 1200, k = 4;
        var truth = Enumerable.Range(0, n).Select(i => i % k).ToArray();
        var centres = randn(k, 16).Times(3);
        var features = centres.index_select(0, tensor(truth.Select(t => (long)t).ToArray())).Plus(randn(n, 16));
        var rng = new Random(5);
        var labels = truth.Select(t => rng.NextDouble() < 0.2 ? (t + 1 + rng.Next(k - 1)) % k : t).ToArray();
        var wrong = Enumerable.Range(0, n).Select(i => labels[i] != truth[i]).ToArray();
        var distribution = KnnLabelAgreement.NeighbourLabelDistribution(features, labels, k, cancellation: TestContext.Current.CancellationToken);
        foreach (var detector in new[] { KnnLabelAgreement.Vote(labels, distribution, k), KnnLabelAgreement.Rank(labels, distribution, k) })
        {
            var m = LabelIssueDetectors.Measure(detector, wrong);
            Assert.True(m.F1 > 0.9 && m.RocAuc > 0.95, $"{detector.Detector}: F1 {m.F1}, AUC {m.RocAuc}");
            Assert.InRange(detector.EstimatedNoiseRate, m.ActualNoiseRate - 0.05, m.ActualNoiseRate + 0.05);
        }
    }
}
