using Winnow.Analysis;

namespace Winnow.Tests.Analysis;

public class FeatureProjectionTests
{
    /// <summary>Three tight Gaussian blobs in 10 dimensions, 40 points each, centres 10 apart on the first three axes.</summary>
    private static (float[] Features, int[] Blob) Blobs()
    {
        var rng = new Random(3);
        const int perBlob = 40, p = 10;
        var features = new float[3 * perBlob * p];
        var blob = new int[3 * perBlob];
        for (int b = 0; b < 3; b++)
            for (int k = 0; k < perBlob; k++)
            {
                int i = b * perBlob + k;
                blob[i] = b;
                for (int a = 0; a < p; a++) features[i * p + a] = (float)((a == b ? 10 : 0) + 0.5 * Gaussian(rng));
            }
        return (features, blob);
    }

    private static double Gaussian(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    /// <summary>The share of points whose nearest other point on the map belongs to their own blob.</summary>
    private static double NearestNeighbourAgreement(double[] map, int[] blob)
    {
        int n = blob.Length, hits = 0;
        for (int i = 0; i < n; i++)
        {
            int best = -1;
            double bestDistance = double.PositiveInfinity;
            for (int j = 0; j < n; j++)
            {
                if (j == i) continue;
                double d = Math.Pow(map[2 * i] - map[2 * j], 2) + Math.Pow(map[2 * i + 1] - map[2 * j + 1], 2);
                if (d < bestDistance) { bestDistance = d; best = j; }
            }
            if (blob[best] == blob[i]) hits++;
        }
        return (double)hits / n;
    }

    [Fact]
    public void PcaOfPointsOnALineKeepsTheirOrderOnTheFirstComponentAndNothingOnTheSecond()
    {
        // Five points on the line t·(1, 2, 2) in 3-D: the first component is 3·(t − mean t), the second 0; the sign
        // makes the largest score (t = 3) positive.
        float[] t = [-2, -1, 0, 1, 3];
        var features = t.SelectMany(v => new[] { v, 2 * v, 2 * v }).ToArray();
        var scores = FeatureProjection.Pca(features, 5, 3);
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(3 * (t[i] - 0.2), scores[2 * i], 5);
            Assert.Equal(0, scores[2 * i + 1], 5);
        }
    }

    [Fact]
    public void ConditionalDistributionsHaveThePerplexityAsked()
    {
        var (features, _) = Blobs();
        int n = features.Length / 10;
        var rows = features.Select(v => (double)v).ToArray();
        var conditional = FeatureProjection.ConditionalProbabilities(FeatureProjection.SquaredDistances(rows, n, 10), n, 15);
        for (int i = 0; i < n; i++)
        {
            var row = conditional.Skip(i * n).Take(n).ToArray();
            Assert.Equal(1.0, row.Sum(), 9);
            Assert.Equal(0, row[i]);
            double entropy = -row.Where(v => v > 0).Sum(v => v * Math.Log(v));
            Assert.Equal(Math.Log(15), entropy, 3);
        }
    }

    [Fact]
    public void TSneKeepsSeparatedBlobsApartAndIsDeterministic()
    {
        var (features, blob) = Blobs();
        int n = blob.Length;
        var options = new TSneOptions { Perplexity = 15, Iterations = 400 };
        var map = FeatureProjection.TSne(features, n, 10, options, cancellation: TestContext.Current.CancellationToken);
        Assert.Equal(1.0, NearestNeighbourAgreement(map, blob));
        // Each blob's centre on the map lies farther from the others' than the blob's own spread.
        var centres = Enumerable.Range(0, 3).Select(b => (X: Enumerable.Range(0, n).Where(i => blob[i] == b).Average(i => map[2 * i]),
            Y: Enumerable.Range(0, n).Where(i => blob[i] == b).Average(i => map[2 * i + 1]))).ToArray();
        double spread = Enumerable.Range(0, n).Max(i => Math.Sqrt(Math.Pow(map[2 * i] - centres[blob[i]].X, 2) + Math.Pow(map[2 * i + 1] - centres[blob[i]].Y, 2)));
        for (int a = 0; a < 3; a++)
            for (int b = a + 1; b < 3; b++)
                Assert.True(Math.Sqrt(Math.Pow(centres[a].X - centres[b].X, 2) + Math.Pow(centres[a].Y - centres[b].Y, 2)) > spread, "blob centres closer than a blob's spread");
        Assert.Equal(map, FeatureProjection.TSne(features, n, 10, options, cancellation: TestContext.Current.CancellationToken));
    }

    [Fact]
    public void TooFewPointsOrAPerplexityAboveTheirCountAreRefused()
    {
        Assert.Throws<ArgumentException>(() => FeatureProjection.TSne(new float[6], 3, 2, cancellation: TestContext.Current.CancellationToken));
        Assert.Throws<ArgumentException>(() => FeatureProjection.TSne(new float[20], 10, 2, new TSneOptions { Perplexity = 30 }, cancellation: TestContext.Current.CancellationToken));
    }
}
