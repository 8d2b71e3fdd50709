namespace Winnow.Detection;

/// <summary>
/// The clean probability of each training sample from its loss, as DivideMix computes it: per-sample losses are
/// min-max normalised, a two-component Gaussian mixture is fitted to them, and the posterior of the lower-mean
/// component is the probability that the sample's label is right. A plain function: losses in, probabilities out.
/// </summary>
public static class CleanProbability
{
    /// <summary>Per-sample cross-entropy −log p(label) from row-major predicted probabilities (p clamped at 1e-12).</summary>
    public static double[] CrossEntropyLosses(int[] labels, float[] probabilities, int classCount)
    {
        if (probabilities.LongLength != (long)labels.Length * classCount)
            throw new ArgumentException($"{probabilities.LongLength} probabilities for {labels.Length} samples of {classCount} classes", nameof(probabilities));
        var loss = new double[labels.Length];
        for (int i = 0; i < loss.Length; i++) loss[i] = -Math.Log(Math.Max(probabilities[(long)i * classCount + labels[i]], 1e-12f));
        return loss;
    }

    /// <summary>Losses rescaled to [0, 1] (all zeros when every loss is the same).</summary>
    public static double[] MinMaxNormalise(IReadOnlyList<double> losses)
    {
        if (losses.Count == 0) return [];
        double min = losses.Min(), max = losses.Max(), range = Math.Max(max - min, 1e-12);
        return losses.Select(l => (l - min) / range).ToArray();
    }

    /// <summary>Clean probability of each sample from its per-sample loss (normalised, then the mixture's lower-mean posterior).</summary>
    public static double[] FromLosses(IReadOnlyList<double> losses, GaussianMixtureOptions? options = null) =>
        MixtureOfLosses(losses, options).CleanProbability;

    /// <summary>
    /// The clean probability of each sample (as <see cref="FromLosses"/>) and the mixture's weight of its lower-mean
    /// component: the share of samples the mixture takes as clean, an estimate of 1 − the noise rate.
    /// </summary>
    public static (double[] CleanProbability, double CleanWeight) MixtureOfLosses(IReadOnlyList<double> losses, GaussianMixtureOptions? options = null)
    {
        var normalised = MinMaxNormalise(losses);
        var mixture = TwoComponentGaussianMixture.Fit(normalised, options);
        return (mixture.LowerComponentPosterior(normalised), mixture.Weights[0]); // component 0 has the lower mean
    }
}
