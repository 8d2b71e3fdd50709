namespace Winnow.Detection;

/// <summary>Options of <see cref="TwoComponentGaussianMixture"/>, sklearn's GaussianMixture settings as DivideMix uses them.</summary>
public sealed record GaussianMixtureOptions
{
    /// <summary>EM iterations at most (DivideMix 10; C2D 200 on CIFAR).</summary>
    public int MaxIterations { get; init; } = 10;

    /// <summary>Stop when the mean log-likelihood changes by less than this (1e-2).</summary>
    public double Tolerance { get; init; } = 1e-2;

    /// <summary>Added to each variance, for stability (5e-4).</summary>
    public double RegCovar { get; init; } = 5e-4;

    /// <summary>Seed of the k-means++ initialisation.</summary>
    public int Seed { get; init; }
}

/// <summary>
/// A two-component one-dimensional Gaussian mixture fitted by EM, as sklearn's GaussianMixture(n_components=2) with
/// k-means initialisation: k-means++ seeding and Lloyd iterations give hard responsibilities, then EM alternates
/// the M-step (N_k = Σr + 10·ε, μ_k = Σ r x / N_k, σ²_k = Σ r (x − μ_k)² / N_k + reg_covar, π_k = N_k / N) and the
/// E-step (log-sum-exp responsibilities) until the mean log-likelihood changes by less than the tolerance.
/// DivideMix fits it to per-sample losses; the posterior of the lower-mean component is the clean probability.
/// </summary>
public sealed class TwoComponentGaussianMixture
{
    private TwoComponentGaussianMixture(double[] means, double[] variances, double[] weights, int iterations, bool converged)
    {
        Means = means;
        Variances = variances;
        Weights = weights;
        Iterations = iterations;
        Converged = converged;
    }

    /// <summary>The two means; index 0 is the lower one.</summary>
    public double[] Means { get; }

    /// <summary>The two variances (reg_covar included).</summary>
    public double[] Variances { get; }

    /// <summary>The mixing weights.</summary>
    public double[] Weights { get; }

    /// <summary>EM iterations run.</summary>
    public int Iterations { get; }

    /// <summary>Whether the tolerance was met before the iteration limit.</summary>
    public bool Converged { get; }

    /// <summary>Fits the mixture to <paramref name="x"/> (at least two values).</summary>
    public static TwoComponentGaussianMixture Fit(ReadOnlySpan<double> x, GaussianMixtureOptions? options = null)
    {
        options ??= new GaussianMixtureOptions();
        int n = x.Length;
        if (n < 2) throw new ArgumentException("a two-component mixture needs at least two values", nameof(x));
        for (int i = 0; i < n; i++)
            if (!double.IsFinite(x[i])) throw new NonFiniteValueException($"the per-sample loss of sample {i} is {x[i]}; the loss mixture needs finite values");
        var r0 = new double[n];
        KMeansInitialisation(x, r0, options.Seed);
        var means = new double[2];
        var variances = new double[2];
        var weights = new double[2];
        MStep(x, r0, means, variances, weights, options.RegCovar);
        double previous = double.NegativeInfinity;
        bool converged = false;
        int iteration = 0;
        for (iteration = 1; iteration <= options.MaxIterations; iteration++)
        {
            double meanLogLikelihood = EStep(x, r0, means, variances, weights);
            MStep(x, r0, means, variances, weights, options.RegCovar);
            if (Math.Abs(meanLogLikelihood - previous) < options.Tolerance) { converged = true; break; }
            previous = meanLogLikelihood;
        }
        if (means[1] < means[0])
        {
            (means[0], means[1]) = (means[1], means[0]);
            (variances[0], variances[1]) = (variances[1], variances[0]);
            (weights[0], weights[1]) = (weights[1], weights[0]);
        }
        return new TwoComponentGaussianMixture(means, variances, weights, Math.Min(iteration, options.MaxIterations), converged);
    }

    /// <summary>Posterior probability of the lower-mean component for each value (DivideMix's clean probability).</summary>
    public double[] LowerComponentPosterior(ReadOnlySpan<double> x)
    {
        var r0 = new double[x.Length];
        EStep(x, r0, Means, Variances, Weights);
        return r0;
    }

    private static double LogGaussian(double x, double mean, double variance) =>
        -0.5 * (Math.Log(2 * Math.PI * variance) + (x - mean) * (x - mean) / variance);

    /// <summary>Responsibilities of component 0 into <paramref name="r0"/>; returns the mean log-likelihood.</summary>
    private static double EStep(ReadOnlySpan<double> x, double[] r0, double[] means, double[] variances, double[] weights)
    {
        double total = 0;
        double lw0 = Math.Log(weights[0]), lw1 = Math.Log(weights[1]);
        for (int i = 0; i < x.Length; i++)
        {
            double a = lw0 + LogGaussian(x[i], means[0], variances[0]);
            double b = lw1 + LogGaussian(x[i], means[1], variances[1]);
            double max = Math.Max(a, b);
            double log = max + Math.Log(Math.Exp(a - max) + Math.Exp(b - max));
            r0[i] = Math.Exp(a - log);
            total += log;
        }
        return total / x.Length;
    }

    private static void MStep(ReadOnlySpan<double> x, double[] r0, double[] means, double[] variances, double[] weights, double regCovar)
    {
        const double eps10 = 10 * 2.220446049250313e-16;
        double n0 = eps10, n1 = eps10, s0 = 0, s1 = 0;
        for (int i = 0; i < x.Length; i++)
        {
            n0 += r0[i];
            n1 += 1 - r0[i];
            s0 += r0[i] * x[i];
            s1 += (1 - r0[i]) * x[i];
        }
        means[0] = s0 / n0;
        means[1] = s1 / n1;
        double v0 = 0, v1 = 0;
        for (int i = 0; i < x.Length; i++)
        {
            v0 += r0[i] * (x[i] - means[0]) * (x[i] - means[0]);
            v1 += (1 - r0[i]) * (x[i] - means[1]) * (x[i] - means[1]);
        }
        variances[0] = v0 / n0 + regCovar;
        variances[1] = v1 / n1 + regCovar;
        weights[0] = n0 / x.Length;
        weights[1] = n1 / x.Length;
    }

    /// <summary>Two-cluster k-means (k-means++ start, Lloyd iterations) as hard responsibilities of cluster 0.</summary>
    private static void KMeansInitialisation(ReadOnlySpan<double> x, double[] r0, int seed)
    {
        var rng = new Random(seed);
        double c0 = x[rng.Next(x.Length)];
        // k-means++: the second centre is drawn with probability proportional to the squared distance to the first.
        double total = 0;
        for (int i = 0; i < x.Length; i++) total += (x[i] - c0) * (x[i] - c0);
        double c1 = c0;
        if (total > 0)
        {
            double u = rng.NextDouble() * total, acc = 0;
            for (int i = 0; i < x.Length; i++)
            {
                acc += (x[i] - c0) * (x[i] - c0);
                if (acc >= u) { c1 = x[i]; break; }
            }
        }
        for (int iteration = 0; iteration < 300; iteration++)
        {
            double s0 = 0, s1 = 0;
            int n0 = 0, n1 = 0;
            for (int i = 0; i < x.Length; i++)
            {
                bool first = Math.Abs(x[i] - c0) <= Math.Abs(x[i] - c1);
                r0[i] = first ? 1 : 0;
                if (first) { s0 += x[i]; n0++; } else { s1 += x[i]; n1++; }
            }
            double next0 = n0 > 0 ? s0 / n0 : c0, next1 = n1 > 0 ? s1 / n1 : c1;
            if (next0 == c0 && next1 == c1) break;
            (c0, c1) = (next0, next1);
        }
    }
}
