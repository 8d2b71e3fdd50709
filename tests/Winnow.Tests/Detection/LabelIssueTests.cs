using System.Globalization;
using Winnow.Data;
using Winnow.Detection;

namespace Winnow.Tests.Detection;

public class LabelIssueTests
{
    [Fact]
    public void AveragePrecisionAndMeasuresMatchHandComputedValues()
    {
        // Ranked 0, 1, 2, 3; positives at ranks 1 and 3: AP = (1/1 + 2/3) / 2.
        Assert.Equal((1 + 2.0 / 3) / 2, LabelIssueDetectors.AveragePrecision([0.9, 0.8, 0.7, 0.6], [true, false, true, false]), 12);
        // A tie ranks together: both at precision 1/2.
        Assert.Equal(0.5, LabelIssueDetectors.AveragePrecision([0.5, 0.5], [true, false]), 12);

        var result = new DetectorResult("d", Quality: [0.1, 0.2, 0.9, 0.8], Flagged: [true, true, false, false], Suggested: [1, 1, 0, 0], 0.5, null);
        var m = LabelIssueDetectors.Measure(result, [true, false, false, true]);
        Assert.Equal(2, m.FlaggedCount);
        Assert.Equal(0.5, m.Precision);
        Assert.Equal(0.5, m.Recall);
        Assert.Equal(0.5, m.F1);
        // Wrong labels have qualities 0.1 and 0.8, right ones 0.2 and 0.9: 3 of 4 pairs ranked right by suspicion.
        Assert.Equal(0.75, m.RocAuc, 12);
        Assert.Equal(0.5, m.ActualNoiseRate);
    }

    [Fact]
    public void TheLossMixtureFlagsHighLossLabelsAndEstimatesTheirShare()
    {
        // 1,000 samples of 4 classes; the model puts 0.9 on the true class; 250 labels point elsewhere.
        int n = 1000, k = 4;
        var truth = Enumerable.Range(0, n).Select(i => i % k).ToArray();
        var labels = truth.Select((t, i) => i % 4 == 1 ? (t + 1) % k : t).ToArray();
        var rng = new Random(3);
        var probs = new float[n * k];
        for (int i = 0; i < n; i++)
        {
            double peak = 0.8 + 0.15 * rng.NextDouble();
            for (int c = 0; c < k; c++) probs[i * k + c] = (float)(c == truth[i] ? peak : (1 - peak) / (k - 1));
        }
        var r = LabelIssueDetectors.LossMixture(labels, probs, k);
        var wrong = Enumerable.Range(0, n).Select(i => labels[i] != truth[i]).ToArray();
        var m = LabelIssueDetectors.Measure(r, wrong);
        Assert.True(m.F1 > 0.98 && m.RocAuc > 0.99, $"F1 {m.F1}, AUC {m.RocAuc}");
        Assert.InRange(r.EstimatedNoiseRate, 0.23, 0.27);
        Assert.Equal(truth, r.Suggested);
    }

    [Fact]
    public void TiedQualitiesRankTheLargerLossFirst()
    {
        // Samples 1 and 3 tie at quality 0; sample 3's given label has the lower predicted probability, so it comes first.
        var result = new DetectorResult("loss-mixture", [0.9, 0, 0.5, 0], [false, true, false, true], [0, 0, 0, 0], 0.5, null, [0.8, 0.3, 0.6, 0.01]);
        Assert.Equal([3, 1, 2, 0], result.MostSuspectFirst());
        Assert.Equal([1, 3, 2, 0], (result with { TieBreak = null }).MostSuspectFirst());
        // The loss mixture's tie-break is the predicted probability of the given label.
        var mixture = LabelIssueDetectors.LossMixture([0, 1], [0.7f, 0.3f, 0.6f, 0.4f], 2);
        Assert.Equal(0.7, mixture.TieBreak![0], 6);
        Assert.Equal(0.4, mixture.TieBreak![1], 6);
    }

    [Fact]
    public void TheIssueFileRanksTheMostSuspectFirstWithCleanlabsColumns()
    {
        var labels = new NoisyLabelSet([0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 2, 2], 3, "test labels");
        float[] probs =
        [
            0.8f, 0.1f, 0.1f,
            0.1f, 0.8f, 0.1f,   // labeled 0, looks like 1
            0.1f, 0.8f, 0.1f,
            0.2f, 0.7f, 0.1f,
            0.1f, 0.1f, 0.8f,
            0.1f, 0.2f, 0.7f,
        ];
        var findings = LabelIssueReport.Find(labels, probs);
        string dir = TestData.TempDir();
        var images = new ImageDataset("six", new byte[6 * 4], [0, 1, 1, 1, 2, 2], 1, 2, 2, ["a", "b", "c"], new Normalization([0.5f], [0.5f]),
            ["a/0.png", "a/1.png", "b/2.png", "b/3.png", "c/4.png", "c/5.png"]);
        LabelIssueReport.Write(dir, findings, labels, images, [10, 11, 12, 13, 14, 15]);
        var lines = File.ReadAllLines(Path.Combine(dir, LabelIssueReport.IssuesFile));
        Assert.Equal("index,path,given_label,predicted_label,label_quality,clean_probability,is_label_issue,true_label", lines[0]);
        Assert.Equal(7, lines.Length);
        var first = lines[1].Split(',');
        Assert.Equal(["11", "a/1.png", "0", "1"], first[..4]);
        Assert.Equal("True", first[6]);
        var quality = lines.Skip(1).Select(l => double.Parse(l.Split(',')[4], CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(quality.Order(), quality);
        string json = File.ReadAllText(Path.Combine(dir, LabelIssueReport.NoiseFile));
        Assert.Contains("\"transition\"", json);
        Assert.Contains("\"actual_noise_rate\": ", json);
        Assert.Contains("\"class_names\"", json);
    }
}
