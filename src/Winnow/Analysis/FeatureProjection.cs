namespace Winnow.Analysis;

/// <summary>Options of <see cref="FeatureProjection.TSne"/> (van der Maaten and Hinton, JMLR 2008; exact gradient).</summary>
public sealed record TSneOptions
{
    /// <summary>Perplexity: the effective number of neighbours each point's conditional distribution keeps (30).</summary>
    public double Perplexity { get; init; } = 30;

    /// <summary>Gradient-descent iterations (1,000).</summary>
    public int Iterations { get; init; } = 1000;

    /// <summary>Iterations with exaggerated attraction at the start (250).</summary>
    public int ExaggerationIterations { get; init; } = 250;

    /// <summary>Factor of the early exaggeration (12).</summary>
    public double Exaggeration { get; init; } = 12;

    /// <summary>Step size; null: max(n / exaggeration / 4, 50), as scikit-learn's "auto".</summary>
    public double? LearningRate { get; init; }
}

/// <summary>
/// Two-dimensional maps of feature vectors for a person to look at: principal components, and t-SNE started from them.
/// Plain functions of a row-major n × p matrix; deterministic (no random start: t-SNE starts from the first two
/// principal components scaled to a standard deviation of 10⁻⁴, as openTSNE and scikit-learn's PCA start do).
/// </summary>
public static class FeatureProjection
{
    /// <summary>
    /// The first two principal-component scores (n × 2, row-major) of the n × p matrix <paramref name="features"/>:
    /// the mean-centred rows projected on the two leading eigenvectors of their covariance (power iteration with
    /// deflation, 200 rounds each, from a fixed start); each component's sign makes its largest score positive.
    /// </summary>
    public static double[] Pca(float[] features, int n, int p)
    {
        if (n < 1 || p < 1 || features.Length != (long)n * p) throw new ArgumentException($"{features.Length} values are not {n} rows of {p}", nameof(features));
        var centred = Centre(features, n, p);
        var covariance = new double[p * p];
        for (int i = 0; i < n; i++)
        {
            int row = i * p;
            for (int a = 0; a < p; a++)
            {
                double xa = centred[row + a];
                if (xa == 0) continue;
                for (int b = a; b < p; b++) covariance[a * p + b] += xa * centred[row + b];
            }
        }
        for (int a = 0; a < p; a++)
            for (int b = 0; b < a; b++) covariance[a * p + b] = covariance[b * p + a];
        var scores = new double[n * 2];
        var found = new List<double[]>();
        double trace = Enumerable.Range(0, p).Sum(a => covariance[a * p + a]);
        for (int component = 0; component < Math.Min(2, p); component++)
        {
            var v = new double[p];
            for (int a = 0; a < p; a++) v[a] = 1.0 + 0.01 * a;
            for (int round = 0; round < 200; round++)
            {
                var w = new double[p];
                for (int a = 0; a < p; a++)
                {
                    double sum = 0;
                    for (int b = 0; b < p; b++) sum += covariance[a * p + b] * v[b];
                    w[a] = sum;
                }
                foreach (var u in found)
                {
                    double dot = 0;
                    for (int a = 0; a < p; a++) dot += w[a] * u[a];
                    for (int a = 0; a < p; a++) w[a] -= dot * u[a];
                }
                double norm = Math.Sqrt(w.Sum(x => x * x));
                // No variance left beyond the components found (rank below 2): the component's scores are 0.
                if (norm <= 1e-12 * trace) { Array.Clear(v); break; }
                for (int a = 0; a < p; a++) v[a] = w[a] / norm;
            }
            found.Add(v);
            double largest = 0;
            for (int i = 0; i < n; i++)
            {
                double s = 0;
                for (int a = 0; a < p; a++) s += centred[i * p + a] * v[a];
                scores[i * 2 + component] = s;
                if (Math.Abs(s) > Math.Abs(largest)) largest = s;
            }
            if (largest < 0)
                for (int i = 0; i < n; i++) scores[i * 2 + component] = -scores[i * 2 + component];
        }
        return scores;
    }

    /// <summary>
    /// The t-SNE map (n × 2, row-major) of the n × p matrix <paramref name="features"/>, with the exact O(n²) gradient:
    /// meant for a few thousand points. <paramref name="progress"/> gets the iterations done.
    /// </summary>
    public static double[] TSne(float[] features, int n, int p, TSneOptions? options = null, IProgress<int>? progress = null, CancellationToken cancellation = default)
    {
        var o = options ?? new TSneOptions();
        if (n < 4) throw new ArgumentException($"t-SNE needs at least 4 points, got {n}", nameof(n));
        if (!(o.Perplexity > 1) || o.Perplexity >= n) throw new ArgumentException($"the perplexity must lie between 1 and the number of points ({n}), got {o.Perplexity}", nameof(options));
        var affinities = JointProbabilities(SquaredDistances(Centre(features, n, p), n, p), n, o.Perplexity);

        var start = Pca(features, n, p);
        double spread = Math.Sqrt(Enumerable.Range(0, n).Average(i => start[i * 2] * start[i * 2]));
        var y = start.Select(v => spread > 0 ? v / spread * 1e-4 : 0).ToArray();
        double rate = o.LearningRate ?? Math.Max(n / o.Exaggeration / 4, 50);
        var update = new double[n * 2];
        var gains = Enumerable.Repeat(1.0, n * 2).ToArray();
        var gradient = new double[n * 2];
        var kernel = new double[n * n];
        for (int iteration = 0; iteration < o.Iterations; iteration++)
        {
            cancellation.ThrowIfCancellationRequested();
            double exaggeration = iteration < o.ExaggerationIterations ? o.Exaggeration : 1;
            double momentum = iteration < o.ExaggerationIterations ? 0.5 : 0.8;
            // Student-t kernel (1 + |y_i − y_j|²)⁻¹ and its sum over i ≠ j.
            double total = 0;
            for (int i = 0; i < n; i++)
            {
                double yi0 = y[i * 2], yi1 = y[i * 2 + 1];
                for (int j = i + 1; j < n; j++)
                {
                    double d0 = yi0 - y[j * 2], d1 = yi1 - y[j * 2 + 1];
                    double k = 1 / (1 + d0 * d0 + d1 * d1);
                    kernel[i * n + j] = k;
                    kernel[j * n + i] = k;
                    total += 2 * k;
                }
            }
            Parallel.For(0, n, new ParallelOptions { CancellationToken = cancellation }, i =>
            {
                double g0 = 0, g1 = 0, yi0 = y[i * 2], yi1 = y[i * 2 + 1];
                for (int j = 0; j < n; j++)
                {
                    if (j == i) continue;
                    double k = kernel[i * n + j];
                    double force = (exaggeration * affinities[i * n + j] - k / total) * k;
                    g0 += force * (yi0 - y[j * 2]);
                    g1 += force * (yi1 - y[j * 2 + 1]);
                }
                gradient[i * 2] = 4 * g0;
                gradient[i * 2 + 1] = 4 * g1;
            });
            for (int c = 0; c < n * 2; c++)
            {
                // Delta-bar-delta gains: grow while the gradient keeps turning against the last step.
                gains[c] = Math.Sign(gradient[c]) != Math.Sign(update[c]) ? gains[c] + 0.2 : Math.Max(gains[c] * 0.8, 0.01);
                update[c] = momentum * update[c] - rate * gains[c] * gradient[c];
                y[c] += update[c];
            }
            double mean0 = 0, mean1 = 0;
            for (int i = 0; i < n; i++) { mean0 += y[i * 2]; mean1 += y[i * 2 + 1]; }
            mean0 /= n;
            mean1 /= n;
            for (int i = 0; i < n; i++) { y[i * 2] -= mean0; y[i * 2 + 1] -= mean1; }
            if ((iteration + 1) % 50 == 0) progress?.Report(iteration + 1);
        }
        return y;
    }

    /// <summary>
    /// t-SNE's symmetric affinities P (n × n, row-major, zero diagonal, summing to 1): per point i the conditional
    /// p_{j|i} ∝ exp(−β_i·d²_ij) whose entropy is ln(perplexity) (β_i by bisection to 10⁻⁵ in entropy), then
    /// (p_{j|i} + p_{i|j}) / 2n.
    /// </summary>
    public static double[] JointProbabilities(double[] squaredDistances, int n, double perplexity)
    {
        var conditional = ConditionalProbabilities(squaredDistances, n, perplexity);
        var joint = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                joint[i * n + j] = i == j ? 0 : Math.Max((conditional[i * n + j] + conditional[j * n + i]) / (2.0 * n), 1e-12);
        return joint;
    }

    /// <summary>The conditional distributions p_{j|i} (row i sums to 1, entropy ln(perplexity)) of <see cref="JointProbabilities"/>.</summary>
    public static double[] ConditionalProbabilities(double[] squaredDistances, int n, double perplexity)
    {
        double target = Math.Log(perplexity);
        var result = new double[n * n];
        Parallel.For(0, n, i =>
        {
            double beta = 1, low = double.NegativeInfinity, high = double.PositiveInfinity;
            // Distances relative to the nearest neighbour, so that exp() does not underflow for large ones.
            double nearest = double.PositiveInfinity;
            for (int j = 0; j < n; j++) if (j != i) nearest = Math.Min(nearest, squaredDistances[i * n + j]);
            var row = new double[n];
            for (int round = 0; round < 200; round++)
            {
                double sum = 0, weighted = 0;
                for (int j = 0; j < n; j++)
                {
                    if (j == i) { row[j] = 0; continue; }
                    double d = squaredDistances[i * n + j] - nearest;
                    row[j] = Math.Exp(-beta * d);
                    sum += row[j];
                    weighted += d * row[j];
                }
                double entropy = Math.Log(sum) + beta * weighted / sum;
                for (int j = 0; j < n; j++) row[j] /= sum;
                double gap = entropy - target;
                if (Math.Abs(gap) < 1e-5) break;
                if (gap > 0) { low = beta; beta = double.IsPositiveInfinity(high) ? beta * 2 : (beta + high) / 2; }
                else { high = beta; beta = double.IsNegativeInfinity(low) ? beta / 2 : (beta + low) / 2; }
            }
            Array.Copy(row, 0, result, (long)i * n, n);
        });
        return result;
    }

    /// <summary>Squared Euclidean distances between the rows (n × n, row-major).</summary>
    public static double[] SquaredDistances(double[] rows, int n, int p)
    {
        var d = new double[n * n];
        Parallel.For(0, n, i =>
        {
            for (int j = i + 1; j < n; j++)
            {
                double s = 0;
                for (int a = 0; a < p; a++)
                {
                    double diff = rows[i * p + a] - rows[j * p + a];
                    s += diff * diff;
                }
                d[i * n + j] = s;
                d[j * n + i] = s;
            }
        });
        return d;
    }

    private static double[] Centre(float[] features, int n, int p)
    {
        var mean = new double[p];
        for (int i = 0; i < n; i++)
            for (int a = 0; a < p; a++) mean[a] += features[i * p + a];
        for (int a = 0; a < p; a++) mean[a] /= n;
        var centred = new double[n * p];
        for (int i = 0; i < n; i++)
            for (int a = 0; a < p; a++) centred[i * p + a] = features[i * p + a] - mean[a];
        return centred;
    }
}
