using Winnow.Data;

namespace Winnow.Detection;

/// <summary>
/// How well a clean probability (and a clean set chosen from it) matches the samples whose given label is right, when
/// the true labels are known: the figures a division or an epoch records.
/// </summary>
/// <param name="Precision">Share of the chosen samples whose label is right (NaN when none is chosen).</param>
/// <param name="Recall">Share of the right labels that are chosen (NaN when no label is right).</param>
/// <param name="RocAuc">ROC-AUC of the clean probability for telling right labels from wrong (NaN when either is absent).</param>
public sealed record CleanSetMeasures(double Precision, double Recall, double RocAuc)
{
    /// <summary>The measures of <paramref name="chosen"/> and <paramref name="cleanProbability"/> against <paramref name="labels"/>' true labels.</summary>
    public static CleanSetMeasures Of(IReadOnlyList<bool> chosen, IReadOnlyList<double> cleanProbability, NoisyLabelSet labels)
    {
        var isClean = RightLabels(labels);
        if (chosen.Count != isClean.Length) throw new ArgumentException($"{chosen.Count} choices for {isClean.Length} samples", nameof(chosen));
        int chosenCount = 0, chosenClean = 0, cleanCount = 0;
        for (int i = 0; i < isClean.Length; i++)
        {
            if (chosen[i]) chosenCount++;
            if (isClean[i]) cleanCount++;
            if (chosen[i] && isClean[i]) chosenClean++;
        }
        return new CleanSetMeasures(chosenCount == 0 ? double.NaN : (double)chosenClean / chosenCount,
            cleanCount == 0 ? double.NaN : (double)chosenClean / cleanCount, Detection.RocAuc.Compute(cleanProbability, isClean));
    }

    /// <summary>ROC-AUC of <paramref name="cleanProbability"/> for the right labels; NaN without true labels or when all are right or all wrong.</summary>
    public static double RocAucOf(IReadOnlyList<double> cleanProbability, NoisyLabelSet labels) =>
        labels.True is null ? double.NaN : Detection.RocAuc.Compute(cleanProbability, RightLabels(labels));

    /// <summary>Whether each sample's given label is its true one; the true labels must be known.</summary>
    private static bool[] RightLabels(NoisyLabelSet labels)
    {
        if (labels.True is null) throw new ArgumentException("the true labels are unknown", nameof(labels));
        return Enumerable.Range(0, labels.Count).Select(i => !labels.IsMislabeled(i)).ToArray();
    }
}
