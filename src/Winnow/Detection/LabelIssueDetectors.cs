using Winnow.Data;

namespace Winnow.Detection;

/// <summary>One detector's verdict on every training sample.</summary>
/// <param name="Detector">The detector's name ("confident-learning", "loss-mixture").</param>
/// <param name="Quality">Label quality per sample, in [0, 1]: low means the given label is probably wrong.</param>
/// <param name="Flagged">Whether the detector flags the sample's label as wrong.</param>
/// <param name="Suggested">The label the detector would give instead (the most probable class).</param>
/// <param name="EstimatedNoiseRate">The detector's estimate of the share of wrong labels.</param>
/// <param name="NoiseEstimate">The estimated transition matrix and per-class rates, where the detector makes them.</param>
/// <param name="TieBreak">
/// Where the quality ties (the loss mixture's clean probability underflows to 0 for thousands of samples), which of the
/// tied samples is more suspect: lower first. The loss mixture gives the predicted probability of the given label, so
/// that the larger loss comes first; null ranks ties by index.
/// </param>
public sealed record DetectorResult(string Detector, double[] Quality, bool[] Flagged, int[] Suggested, double EstimatedNoiseRate, NoiseSummary? NoiseEstimate,
    double[]? TieBreak = null)
{
    /// <summary>Every sample, most suspect first: by quality, then <see cref="TieBreak"/>, then index.</summary>
    public int[] MostSuspectFirst()
    {
        var tie = TieBreak;
        return Enumerable.Range(0, Quality.Length).OrderBy(i => Quality[i]).ThenBy(i => tie is null ? 0 : tie[i]).ThenBy(i => i).ToArray();
    }
}

/// <summary>How a detector's verdict compares with the true labels.</summary>
/// <param name="Detector">The detector's name.</param>
/// <param name="FlaggedCount">Samples flagged.</param>
/// <param name="Precision">Share of the flagged samples whose label is wrong.</param>
/// <param name="Recall">Share of the wrong labels that are flagged.</param>
/// <param name="F1">Harmonic mean of precision and recall.</param>
/// <param name="RocAuc">ROC-AUC of the quality ranking (wrong labels ranked below right ones).</param>
/// <param name="AveragePrecision">Average precision of the ranking, most suspect first, for finding wrong labels.</param>
/// <param name="EstimatedNoiseRate">The detector's estimate of the share of wrong labels.</param>
/// <param name="ActualNoiseRate">The actual share of wrong labels.</param>
public sealed record DetectionMeasures(string Detector, int FlaggedCount, double Precision, double Recall, double F1, double RocAuc,
    double AveragePrecision, double EstimatedNoiseRate, double ActualNoiseRate);

/// <summary>
/// Detectors of wrong labels from a model's predicted class probabilities on the training set (row-major N × K), as
/// plain functions: labels and probabilities in, a verdict per sample out.
/// </summary>
public static class LabelIssueDetectors
{
    /// <summary>The loss mixture flags a sample whose clean probability is below this.</summary>
    public const double LossMixtureFlagThreshold = 0.5;

    /// <summary>
    /// Confident learning (<see cref="ConfidentLearning"/>): pruning by noise rate, quality by normalised margin,
    /// the noise estimated from the calibrated confident joint.
    /// </summary>
    public static DetectorResult ConfidentLearning(int[] labels, float[] probabilities, int classCount)
    {
        var joint = Detection.ConfidentLearning.Calibrate(Detection.ConfidentLearning.ConfidentJoint(labels, probabilities, classCount), labels);
        var estimate = Detection.ConfidentLearning.EstimateNoise(joint);
        return new DetectorResult("confident-learning", Detection.ConfidentLearning.NormalizedMargin(labels, probabilities, classCount),
            Detection.ConfidentLearning.FindIssues(labels, probabilities, classCount, joint), Suggest(probabilities, classCount), estimate.NoiseRate, estimate);
    }

    /// <summary>
    /// DivideMix's loss mixture: per-sample cross-entropy losses, min-max normalised, a two-component Gaussian mixture;
    /// quality is the posterior of the low-loss component (the clean probability), a sample is flagged below <see cref="LossMixtureFlagThreshold"/>,
    /// and the noise rate estimated is the high-loss component's weight.
    /// </summary>
    public static DetectorResult LossMixture(int[] labels, float[] probabilities, int classCount, int seed = 0)
    {
        var losses = CleanProbability.CrossEntropyLosses(labels, probabilities, classCount);
        var (clean, cleanWeight) = CleanProbability.MixtureOfLosses(losses, new GaussianMixtureOptions { Seed = seed });
        var givenProbability = losses.Select(l => Math.Exp(-l)).ToArray();
        return new DetectorResult("loss-mixture", clean, clean.Select(p => p < LossMixtureFlagThreshold).ToArray(), Suggest(probabilities, classCount), 1 - cleanWeight, null,
            givenProbability);
    }

    /// <summary>Measures <paramref name="result"/> against <paramref name="wrong"/>, which says of each sample whether its label is wrong.</summary>
    public static DetectionMeasures Measure(DetectorResult result, IReadOnlyList<bool> wrong)
    {
        if (wrong.Count != result.Flagged.Length) throw new ArgumentException($"{wrong.Count} truths for {result.Flagged.Length} samples", nameof(wrong));
        int flagged = 0, hits = 0, positives = 0;
        for (int i = 0; i < wrong.Count; i++)
        {
            if (result.Flagged[i]) flagged++;
            if (wrong[i]) positives++;
            if (wrong[i] && result.Flagged[i]) hits++;
        }
        double precision = flagged == 0 ? double.NaN : (double)hits / flagged;
        double recall = positives == 0 ? double.NaN : (double)hits / positives;
        double f1 = hits == 0 ? 0 : 2 * precision * recall / (precision + recall);
        var suspicion = result.Quality.Select(q => -q).ToArray();
        return new DetectionMeasures(result.Detector, flagged, precision, recall, f1, RocAuc.Compute(suspicion, wrong),
            AveragePrecision(suspicion, wrong), result.EstimatedNoiseRate, (double)positives / wrong.Count);
    }

    /// <summary>
    /// Average precision of ranking by <paramref name="score"/>, highest first, for finding the positives: the mean,
    /// over the positives, of the precision among the samples ranked at or above each (ties ranked together).
    /// NaN without positives.
    /// </summary>
    public static double AveragePrecision(IReadOnlyList<double> score, IReadOnlyList<bool> positive)
    {
        if (score.Count != positive.Count) throw new ArgumentException($"{score.Count} scores but {positive.Count} labels");
        var order = Enumerable.Range(0, score.Count).OrderByDescending(i => score[i]).ToArray();
        int total = positive.Count(p => p);
        if (total == 0) return double.NaN;
        double sum = 0;
        int seen = 0, hits = 0;
        for (int i = 0; i < order.Length;)
        {
            int j = i, groupHits = 0;
            while (j < order.Length && score[order[j]] == score[order[i]]) { if (positive[order[j]]) groupHits++; j++; }
            seen += j - i;
            hits += groupHits;
            sum += groupHits * (double)hits / seen;
            i = j;
        }
        return sum / total;
    }

    private static int[] Suggest(float[] probabilities, int classCount)
    {
        int n = probabilities.Length / classCount;
        var suggested = new int[n];
        for (int i = 0; i < n; i++)
        {
            int best = 0;
            for (int k = 1; k < classCount; k++)
                if (probabilities[(long)i * classCount + k] > probabilities[(long)i * classCount + best]) best = k;
            suggested[i] = best;
        }
        return suggested;
    }
}
