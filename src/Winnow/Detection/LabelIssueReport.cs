using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Winnow.Data;

namespace Winnow.Detection;

/// <summary>What <see cref="LabelIssueReport.Find"/> found: every detector's verdict, the one that decides, and its measures.</summary>
/// <param name="Detectors">Each detector's result.</param>
/// <param name="Primary">The detector whose flags and quality the label-issue file uses.</param>
/// <param name="CleanProbability">The loss mixture's clean probability of each sample; null without a trained model.</param>
/// <param name="Measures">Each detector against the true labels; empty when they are unknown.</param>
public sealed record LabelIssueFindings(IReadOnlyList<DetectorResult> Detectors, DetectorResult Primary, double[]? CleanProbability,
    IReadOnlyList<DetectionMeasures> Measures);

/// <summary>The estimate written to noise_estimate.json.</summary>
/// <param name="Detector">The detector whose estimate <paramref name="EstimatedNoiseRate"/> is.</param>
/// <param name="EstimatedNoiseRate">Estimated share of wrong labels.</param>
/// <param name="ConfidentJointNoiseRate">Confident learning's estimate, from the calibrated confident joint.</param>
/// <param name="PerClassNoiseRate">Per true class, the estimated share of its samples whose given label is another class (confident joint).</param>
/// <param name="Transition">Estimated P(given label | true class), rows true classes (confident joint).</param>
/// <param name="ClassNames">The classes, in index order.</param>
/// <param name="ActualNoiseRate">The actual share of wrong labels, where the true labels are known.</param>
/// <param name="Measures">Each detector against the true labels, where they are known.</param>
public sealed record NoiseEstimateFile(string Detector, double EstimatedNoiseRate, double ConfidentJointNoiseRate, double[] PerClassNoiseRate,
    double[][] Transition, string[] ClassNames, double? ActualNoiseRate, IReadOnlyList<DetectionMeasures> Measures);

/// <summary>
/// Finds the wrong labels of a training set from a model's predicted probabilities and writes what it found:
/// label_issues.csv (one row per sample, most suspect first), noise_estimate.json and report.html.
/// </summary>
public static class LabelIssueReport
{
    /// <summary>The label-issue file's name.</summary>
    public const string IssuesFile = "label_issues.csv";

    /// <summary>The noise-estimate file's name.</summary>
    public const string NoiseFile = "noise_estimate.json";

    /// <summary>
    /// Runs the detectors that the inputs allow. With a trained model's predicted probabilities on the training set:
    /// confident learning and the loss mixture, and the loss mixture's flags and clean probability decide. With an
    /// encoder's neighbour label distributions (<see cref="KnnLabelAgreement.NeighbourLabelDistribution"/>): kNN vote
    /// and kNN rank, and kNN rank decides when there is no model. Confident learning (on the model's probabilities, else
    /// on the neighbour distributions) gives the per-class rates and the transition matrix.
    /// </summary>
    public static LabelIssueFindings Find(NoisyLabelSet labels, float[]? modelProbabilities, float[]? neighbourDistribution = null, int seed = 0)
    {
        if (modelProbabilities is null && neighbourDistribution is null) throw new ArgumentException("give a model's probabilities, neighbour label distributions, or both");
        int k = labels.ClassCount;
        var all = new List<DetectorResult>();
        DetectorResult? mixture = null;
        if (modelProbabilities is not null)
        {
            all.Add(LabelIssueDetectors.ConfidentLearning(labels.Noisy, modelProbabilities, k));
            all.Add(mixture = LabelIssueDetectors.LossMixture(labels.Noisy, modelProbabilities, k, seed));
        }
        if (neighbourDistribution is not null)
        {
            all.Add(KnnLabelAgreement.Rank(labels.Noisy, neighbourDistribution, k));
            all.Add(KnnLabelAgreement.Vote(labels.Noisy, neighbourDistribution, k));
        }
        var wrong = labels.True is null ? null : Enumerable.Range(0, labels.Count).Select(labels.IsMislabeled).ToArray();
        var measures = wrong is null ? [] : all.Select(d => LabelIssueDetectors.Measure(d, wrong)).ToArray();
        // The loss mixture decides when there is a model: on Fashion-MNIST at 40% symmetric noise it ranked and flagged
        // better than confident learning from the same predictions (F1 0.937 against 0.911; docs/label-issues.md).
        var primary = mixture ?? all.First(d => d.Detector == "knn-rank");
        return new LabelIssueFindings(all, primary, mixture?.Quality, measures);
    }

    /// <summary>
    /// Writes label_issues.csv (index, path where the images have one, given_label, predicted_label, label_quality,
    /// clean_probability, is_label_issue, and true_label when known; cleanlab's column names; most suspect first),
    /// and noise_estimate.json into <paramref name="folder"/>, each atomically (Analysis.LabelIssuePage adds report.html).
    /// </summary>
    /// <param name="folder">Where the files go.</param>
    /// <param name="findings">What <see cref="Find"/> found.</param>
    /// <param name="labels">The labels it was found on.</param>
    /// <param name="images">The images the labels belong to, sample for sample: their class names and their files (for image folders).</param>
    /// <param name="sampleIndices">Each sample's index in the whole dataset when some were left out; null when none were.</param>
    public static void Write(string folder, LabelIssueFindings findings, NoisyLabelSet labels, ImageDataset images, IReadOnlyList<int>? sampleIndices = null)
    {
        var classNames = images.ClassNames;
        var itemPaths = images.ItemPaths;
        Directory.CreateDirectory(folder);
        var ci = CultureInfo.InvariantCulture;
        var primary = findings.Primary;
        var order = primary.MostSuspectFirst();
        var sb = new StringBuilder("index,");
        if (itemPaths is not null) sb.Append("path,");
        sb.Append("given_label,predicted_label,label_quality,clean_probability,is_label_issue");
        if (labels.True is not null) sb.Append(",true_label");
        sb.Append('\n');
        foreach (int i in order)
        {
            sb.Append(sampleIndices is null ? i : sampleIndices[i]).Append(',');
            if (itemPaths is not null) sb.Append(CsvField.Escape(itemPaths[i])).Append(',');
            sb.Append(labels.Noisy[i]).Append(',').Append(primary.Suggested[i]).Append(',')
              .Append(primary.Quality[i].ToString("G6", ci)).Append(',').Append(findings.CleanProbability?[i].ToString("G6", ci)).Append(',')
              .Append(primary.Flagged[i] ? "True" : "False");
            if (labels.True is not null) sb.Append(',').Append(labels.True[i]);
            sb.Append('\n');
        }
        AtomicFile.WriteAllText(Path.Combine(folder, IssuesFile), sb.ToString());

        var estimate = findings.Detectors.Select(d => d.NoiseEstimate).OfType<NoiseSummary>().First();
        int k = classNames.Count;
        var file = new NoiseEstimateFile(primary.Detector, primary.EstimatedNoiseRate, estimate.NoiseRate, estimate.PerClassNoiseRate,
            Enumerable.Range(0, k).Select(t => Enumerable.Range(0, k).Select(g => estimate.Transition[t, g]).ToArray()).ToArray(),
            classNames.ToArray(), labels.True is null ? null : labels.Summarize().NoiseRate, findings.Measures);
        AtomicFile.WriteAllText(Path.Combine(folder, NoiseFile), JsonSerializer.Serialize(file, Json) + "\n");
    }

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };
}
