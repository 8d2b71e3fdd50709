using Winnow.Data;

namespace Winnow.Detection;

/// <summary>
/// The noise of labels whose rate nobody gave, as a warmed-up model sees it: the share of wrong labels from the loss
/// mixture, the noise's structure from confident learning's transition matrix, and the nominal rate of the synthetic
/// noise that would give that share, so that a method's per-setting defaults (chosen per noise rate in the papers) can
/// be resolved from it.
/// </summary>
/// <param name="WrongFraction">Estimated share of wrong labels: the mean, over the networks, of the loss mixture's high-loss weight.</param>
/// <param name="ConfidentJointWrongFraction">Confident learning's estimate of the same share, from the calibrated confident joint.</param>
/// <param name="OffDiagonalConcentration">
/// Of the estimated wrong labels, the share that goes to each true class's most frequent wrong label (weighted over
/// classes by their wrong labels): 1/(K−1) for labels flipped to any other class alike, 1 when each class flips to one
/// other class.
/// </param>
/// <param name="Structure"><see cref="NoiseKind.Symmetric"/> or <see cref="NoiseKind.Asymmetric"/>, from the concentration.</param>
/// <param name="NominalRate">
/// The rate of <see cref="Structure"/>'s synthetic noise that gives <paramref name="WrongFraction"/>: for symmetric noise
/// whose redrawn label may be the true one (the papers' convention), WrongFraction × K/(K−1); for asymmetric noise the
/// wrong fraction itself (its per-setting defaults do not depend on the rate).
/// </param>
/// <param name="ClassCount">K.</param>
/// <param name="AfterEpoch">The epoch (1-based) after which the model was measured.</param>
public sealed record NoiseRateEstimate(double WrongFraction, double ConfidentJointWrongFraction, double OffDiagonalConcentration,
    NoiseKind Structure, double NominalRate, int ClassCount, int AfterEpoch)
{
    /// <summary>Concentration above which the noise counts as asymmetric (class-to-class flips).</summary>
    public const double AsymmetricConcentration = 0.5;

    /// <summary>Below this share of wrong labels the structure is not judged: too few wrong labels to see one.</summary>
    public const double StructureFloor = 0.02;

    /// <summary>The estimate as a tensor of doubles, to keep in a checkpoint (<see cref="FromTensor"/> reads it back).</summary>
    public TorchSharp.torch.Tensor ToTensor() =>
        TorchSharp.torch.tensor(new[] { WrongFraction, ConfidentJointWrongFraction, OffDiagonalConcentration, (double)Structure, NominalRate, ClassCount, AfterEpoch });

    /// <summary>Reads what <see cref="ToTensor"/> wrote; a tensor of another length is an error.</summary>
    public static NoiseRateEstimate FromTensor(TorchSharp.torch.Tensor saved) => saved.data<double>().ToArray() is [var wrong, var joint, var concentration, var structure, var nominal, var k, var after]
        ? new NoiseRateEstimate(wrong, joint, concentration, (NoiseKind)(int)structure, nominal, (int)k, (int)after)
        : throw new ArgumentException($"a noise estimate holds 7 values, got {saved.numel()}", nameof(saved));

    /// <summary>The synthetic noise that matches the estimate, to resolve per-setting defaults with.</summary>
    public NoiseSpec AsNoiseSpec() => new() { Kind = Structure, Rate = NominalRate };

    /// <summary>One line for people: the estimate and how it was judged.</summary>
    public string Summary =>
        FormattableString.Invariant($"{100 * WrongFraction:F1}% of labels estimated wrong after epoch {AfterEpoch} (loss mixture; confident learning {100 * ConfidentJointWrongFraction:F1}%), ") +
        (Structure == NoiseKind.Asymmetric
            ? FormattableString.Invariant($"class-to-class flips (concentration {OffDiagonalConcentration:F2})")
            : FormattableString.Invariant($"spread over classes (concentration {OffDiagonalConcentration:F2}), as symmetric noise at rate {NominalRate:F2}"));

    /// <summary>
    /// Estimates the noise of <paramref name="labels"/> from the predicted class probabilities of one or more networks
    /// (row-major N × K each) on the un-augmented training set: each network's loss mixture weight, averaged, gives the
    /// share of wrong labels; confident learning on the networks' mean probabilities gives the transition matrix.
    /// </summary>
    public static NoiseRateEstimate FromPredictions(int[] labels, IReadOnlyList<float[]> probabilities, int classCount, int afterEpoch,
        GaussianMixtureOptions? mixture = null)
    {
        if (probabilities.Count == 0) throw new ArgumentException("give at least one network's probabilities", nameof(probabilities));
        double wrong = probabilities.Average(p => 1 - CleanProbability.MixtureOfLosses(CleanProbability.CrossEntropyLosses(labels, p, classCount), mixture).CleanWeight);
        var mean = new float[probabilities[0].Length];
        foreach (var p in probabilities)
            for (long i = 0; i < mean.LongLength; i++) mean[i] += p[i] / probabilities.Count;
        var joint = ConfidentLearning.Calibrate(ConfidentLearning.ConfidentJoint(labels, mean, classCount), labels);
        var summary = ConfidentLearning.EstimateNoise(joint);
        return FromParts(wrong, summary, afterEpoch);
    }

    /// <summary>The estimate from a share of wrong labels and an estimated transition matrix (rows true classes).</summary>
    public static NoiseRateEstimate FromParts(double wrongFraction, NoiseSummary transition, int afterEpoch)
    {
        int k = transition.Transition.GetLength(0);
        double concentration = Concentration(transition.Counts);
        var structure = wrongFraction >= StructureFloor && concentration > AsymmetricConcentration ? NoiseKind.Asymmetric : NoiseKind.Symmetric;
        double nominal = structure == NoiseKind.Symmetric && k > 1 ? Math.Min(1, wrongFraction * k / (k - 1)) : wrongFraction;
        return new NoiseRateEstimate(wrongFraction, transition.NoiseRate, concentration, structure, nominal, k, afterEpoch);
    }

    /// <summary>
    /// Σ_t max_{g≠t} C[t,g] / Σ_t Σ_{g≠t} C[t,g] for counts C with rows true classes: how much of the off-diagonal
    /// mass sits in each row's largest entry. 0 when there is none.
    /// </summary>
    public static double Concentration(long[,] counts)
    {
        int k = counts.GetLength(0);
        double top = 0, all = 0;
        for (int t = 0; t < k; t++)
        {
            long max = 0;
            for (int g = 0; g < k; g++)
            {
                if (g == t) continue;
                all += counts[t, g];
                max = Math.Max(max, counts[t, g]);
            }
            top += max;
        }
        return all == 0 ? 0 : top / all;
    }
}
