using Winnow.Detection;

namespace Winnow.Tests.Detection;

public class ConfidentLearningTests
{
    // Seven samples, three classes; sample 2 is labeled 0 but looks like class 1, sample 6 is labeled 2 but looks like 0.
    private static readonly int[] Labels = [0, 0, 0, 1, 1, 2, 2];
    private static readonly float[] Probabilities =
    [
        0.9f, 0.05f, 0.05f,
        0.7f, 0.2f, 0.1f,
        0.1f, 0.8f, 0.1f,
        0.1f, 0.8f, 0.1f,
        0.2f, 0.6f, 0.2f,
        0.1f, 0.1f, 0.8f,
        0.6f, 0.1f, 0.3f,
    ];

    [Fact]
    public void ThresholdsAndConfidentJointOfAHandMadeExampleMatchTheHandComputedValues()
    {
        var t = ConfidentLearning.Thresholds(Labels, Probabilities, 3);
        Assert.Equal(1.7 / 3, t[0], 6);
        Assert.Equal(0.7, t[1], 6);
        Assert.Equal(0.55, t[2], 6);
        // Sample 4 reaches no threshold (0.6 < 0.7 for class 1) and is not counted.
        Assert.Equal([0, 0, 1, 1, -1, 2, 0], ConfidentLearning.ConfidentClass(Probabilities, 3, t));
        var joint = ConfidentLearning.ConfidentJoint(Labels, Probabilities, 3);
        Assert.Equal(new long[,] { { 2, 1, 0 }, { 0, 1, 0 }, { 1, 0, 1 } }, joint);
        // Calibration: each row sums to its label count (3, 2, 2).
        var calibrated = ConfidentLearning.Calibrate(joint, Labels);
        Assert.Equal(new long[,] { { 2, 1, 0 }, { 0, 2, 0 }, { 1, 0, 1 } }, calibrated);
        var noise = ConfidentLearning.EstimateNoise(calibrated);
        Assert.Equal(2.0 / 7, noise.NoiseRate, 9);
        // P(given 0 | true 1) = 1 of the 3 samples estimated to be truly class 1.
        Assert.Equal(1.0 / 3, noise.Transition[1, 0], 9);
        Assert.Equal([false, false, true, false, false, false, true], ConfidentLearning.FindIssues(Labels, Probabilities, 3, calibrated));
    }

    [Fact]
    public void ACollisionCountsTheMostProbableClassAboveItsThreshold()
    {
        // Classes 0 and 1 reach their thresholds; class 2 is the most probable overall but below its own threshold.
        // The paper counts the sample into class 1 (cleanlab 2.9 would take class 2).
        Assert.Equal([1], ConfidentLearning.ConfidentClass([0.31f, 0.32f, 0.37f], 3, [0.3, 0.3, 0.9]));
    }

    [Fact]
    public void ScoresRankTheLikelyWrongLabelsLowest()
    {
        var self = ConfidentLearning.SelfConfidence(Labels, Probabilities, 3);
        Assert.Equal(0.1, self[2], 6);
        var margin = ConfidentLearning.NormalizedMargin(Labels, Probabilities, 3);
        Assert.Equal((0.1 - 0.8 + 1) / 2, margin[2], 6);
        Assert.Equal((0.3 - 0.6 + 1) / 2, margin[6], 6);
        var lowest = Enumerable.Range(0, Labels.Length).OrderBy(i => margin[i]).Take(2).Order().ToArray();
        Assert.Equal([2, 6], lowest);
    }

    [Fact]
    public void RoundingKeepsTheSum()
    {
        Assert.Equal([1L, 0, 1], ConfidentLearning.RoundPreservingSum([0.5, 0.5, 1.0]));
        Assert.Equal([3L, 2, 2], ConfidentLearning.RoundPreservingSum([2.4, 2.4, 2.2]));
    }

    [Fact]
    public void PlantedFlipsAreFoundAndTheirRateEstimated()
    {
        // 3,000 samples of 5 classes; the classifier is right about the true class with some confusion; 30% of the
        // labels are flipped to another class at random.
        var rng = new Random(7);
        int n = 3000, k = 5;
        var truth = Enumerable.Range(0, n).Select(i => i % k).ToArray();
        var labels = truth.Select(t => rng.NextDouble() < 0.3 ? (t + 1 + rng.Next(k - 1)) % k : t).ToArray();
        var probs = new float[n * k];
        for (int i = 0; i < n; i++)
        {
            double peak = 0.5 + 0.45 * rng.NextDouble();
            for (int c = 0; c < k; c++) probs[i * k + c] = (float)(c == truth[i] ? peak : (1 - peak) / (k - 1));
        }
        var joint = ConfidentLearning.Calibrate(ConfidentLearning.ConfidentJoint(labels, probs, k), labels);
        double actual = Enumerable.Range(0, n).Count(i => labels[i] != truth[i]) / (double)n;
        Assert.InRange(ConfidentLearning.EstimateNoise(joint).NoiseRate, actual - 0.02, actual + 0.02);
        var issues = ConfidentLearning.FindIssues(labels, probs, k, joint);
        int tp = Enumerable.Range(0, n).Count(i => issues[i] && labels[i] != truth[i]);
        double precision = tp / (double)issues.Count(f => f), recall = tp / (actual * n);
        Assert.True(precision > 0.97 && recall > 0.95, $"precision {precision}, recall {recall}");
    }

    [Fact]
    public void MismatchedInputIsAnError()
    {
        Assert.Throws<ArgumentException>(() => ConfidentLearning.Thresholds([0, 1], [0.5f, 0.5f, 1f], 2));
        Assert.Throws<ArgumentException>(() => ConfidentLearning.SelfConfidence([0, 3], [0.5f, 0.5f, 0.5f, 0.5f], 2));
    }
}
