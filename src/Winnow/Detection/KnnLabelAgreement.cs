using static TorchSharp.torch;

namespace Winnow.Detection;

/// <summary>
/// Label agreement among nearest neighbours in a feature space (SimiFeat, Zhu, Dong and Liu, ICML 2022): with
/// features that never saw a label (a SimCLR encoder's), a sample whose neighbours mostly carry another label is
/// probably mislabeled. Needs no training on the labels.
/// </summary>
public static class KnnLabelAgreement
{
    /// <summary>Neighbours per sample (SimiFeat's k = 10).</summary>
    public const int DefaultNeighbours = 10;

    /// <summary>Refuses a neighbour count <paramref name="k"/> outside 1..n−1 for <paramref name="samples"/> samples, naming --neighbours.</summary>
    public static void CheckNeighbours(int k, int samples)
    {
        if (k < 1 || k >= samples) throw new WinnowException($"--neighbours must be in 1..{samples - 1} (the training set has {samples} images), got {k}");
    }

    /// <summary>
    /// The label distribution of each sample's <paramref name="k"/> nearest neighbours by cosine similarity, the
    /// sample itself left out, each neighbour weighted by its similarity (negative similarities count 0): row-major
    /// N × K, each row summing to 1 (uniform when every neighbour is dissimilar).
    /// </summary>
    // SimiFeat counts the sample itself among its neighbours, with an extrapolated weight; we leave it out, so that
    // the distribution is the neighbours' opinion of the sample's label and not partly its own label.
    public static float[] NeighbourLabelDistribution(Tensor features, int[] labels, int classCount, int k = DefaultNeighbours, CancellationToken cancellation = default)
    {
        long n = features.shape[0];
        if (n != labels.Length) throw new ArgumentException($"{n} feature rows but {labels.Length} labels");
        CheckNeighbours(k, (int)n);
        var distribution = new float[n * classCount];
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var normalised = nn.functional.normalize(features.to(ScalarType.Float32), dim: 1);
        const int block = 512;
        for (long start = 0; start < n; start += block)
        {
            cancellation.ThrowIfCancellationRequested();
            using var inner = NewDisposeScope();
            long rows = Math.Min(block, n - start);
            var (top, idx) = normalised.narrow(0, start, rows).matmul(normalised.t()).topk(k + 1, dim: 1);
            var sims = top.contiguous().data<float>().ToArray();
            var neighbours = idx.contiguous().data<long>().ToArray();
            for (long r = 0; r < rows; r++)
            {
                long self = start + r;
                int used = 0;
                double total = 0;
                var row = distribution.AsSpan((int)(self * classCount), classCount);
                for (int j = 0; j <= k && used < k; j++)
                {
                    long other = neighbours[r * (k + 1) + j];
                    if (other == self) continue;
                    double w = Math.Max(0, sims[r * (k + 1) + j]);
                    row[labels[other]] += (float)w;
                    total += w;
                    used++;
                }
                for (int c = 0; c < classCount; c++) row[c] = total > 0 ? (float)(row[c] / total) : 1f / classCount;
            }
        }
        return distribution;
    }

    /// <summary>
    /// SimiFeat's vote: a sample is flagged when its neighbours' most common label is not its own (its own label wins
    /// ties); its quality is the neighbours' share of its label; the estimated noise is the share flagged.
    /// </summary>
    public static DetectorResult Vote(int[] labels, float[] distribution, int classCount)
    {
        int n = labels.Length;
        var quality = new double[n];
        var flagged = new bool[n];
        var suggested = new int[n];
        for (int i = 0; i < n; i++)
        {
            int best = labels[i];
            for (int c = 0; c < classCount; c++)
                if (distribution[(long)i * classCount + c] > distribution[(long)i * classCount + best]) best = c;
            quality[i] = distribution[(long)i * classCount + labels[i]];
            flagged[i] = best != labels[i];
            suggested[i] = best;
        }
        return new DetectorResult("knn-vote", quality, flagged, suggested, (double)flagged.Count(f => f) / Math.Max(1, n), null);
    }

    /// <summary>
    /// SimiFeat's rank, with the noise estimated by confident learning on the neighbour distributions instead of
    /// HOC: within each given class the samples whose neighbours agree least are flagged, as many as the calibrated
    /// confident joint estimates are wrong there.
    /// </summary>
    public static DetectorResult Rank(int[] labels, float[] distribution, int classCount) =>
        LabelIssueDetectors.ConfidentLearning(labels, distribution, classCount) with { Detector = "knn-rank" };
}
