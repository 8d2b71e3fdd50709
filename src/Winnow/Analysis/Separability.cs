using System.Globalization;
using Winnow.Data;
using Winnow.Detection;
using Winnow.Training;

namespace Winnow.Analysis;

/// <summary>
/// What a model at one point of a run leaves for the loss-based division (C2D's warm-up analysis): the per-sample
/// losses of the training labels, min-max normalised as DivideMix's mixture sees them, split into right and wrong
/// labels; the ROC-AUC with which the two-component mixture's clean probability separates them; and, where measured,
/// the linear-probe test accuracy of the model's encoder.
/// </summary>
/// <param name="Stage">Where in the run (e.g. "end of warm-up", "end").</param>
/// <param name="CompletedEpochs">Epochs the model had trained.</param>
/// <param name="NormalisedLosses">Each training sample's loss, min-max normalised to [0, 1].</param>
/// <param name="Wrong">Whether each sample's given label is wrong (the true labels must be known).</param>
/// <param name="MixtureAuc">ROC-AUC of the mixture's clean probability against the right labels.</param>
/// <param name="ProbeAccuracy">Linear-probe test accuracy of the encoder at that point; null when not measured.</param>
public sealed record StageSeparability(string Stage, int CompletedEpochs, double[] NormalisedLosses, bool[] Wrong, double MixtureAuc, double? ProbeAccuracy)
{
    /// <summary>Mean normalised loss of the right labels.</summary>
    public double MeanRightLoss => Mean(false);

    /// <summary>Mean normalised loss of the wrong labels.</summary>
    public double MeanWrongLoss => Mean(true);

    private double Mean(bool wrong)
    {
        double sum = 0;
        int count = 0;
        for (int i = 0; i < Wrong.Length; i++)
            if (Wrong[i] == wrong) { sum += NormalisedLosses[i]; count++; }
        return count == 0 ? double.NaN : sum / count;
    }
}

/// <summary>Measures <see cref="StageSeparability"/> from a model's predictions on the training set.</summary>
public static class Separability
{
    /// <summary>
    /// The separability of <paramref name="labels"/> (true labels known) under <paramref name="predictions"/> of the
    /// un-augmented training set: cross-entropy losses of the given labels, normalised, and the mixture's ROC-AUC.
    /// </summary>
    /// <exception cref="ArgumentException">The true labels are unknown, or the predictions are of another set.</exception>
    public static StageSeparability Measure(string stage, int completedEpochs, DatasetPredictions predictions, NoisyLabelSet labels, double? probeAccuracy = null, int seed = 0)
    {
        if (labels.True is null) throw new ArgumentException("separability needs the true labels", nameof(labels));
        if (predictions.Count != labels.Count) throw new ArgumentException($"{predictions.Count} predictions for {labels.Count} labels", nameof(predictions));
        var losses = predictions.Losses(labels.Noisy);
        var clean = CleanProbability.FromLosses(losses, new GaussianMixtureOptions { Seed = seed });
        var wrong = Enumerable.Range(0, labels.Count).Select(labels.IsMislabeled).ToArray();
        return new StageSeparability(stage, completedEpochs, CleanProbability.MinMaxNormalise(losses), wrong, CleanSetMeasures.RocAucOf(clean, labels), probeAccuracy);
    }
}

/// <summary>
/// The separability section of an <see cref="HtmlReport"/>: per run and stage, the mixture's ROC-AUC, the probe
/// accuracy and the histogram of normalised losses of right and wrong labels.
/// </summary>
public static class SeparabilitySection
{
    /// <summary>The section's HTML id.</summary>
    public const string Id = "separability";

    /// <summary>The CSV file <see cref="WriteCsv"/> writes.</summary>
    public const string CsvFile = "separability.csv";

    /// <summary>Adds the section to <paramref name="report"/> and returns it.</summary>
    /// <exception cref="ArgumentException">No stage to show.</exception>
    public static HtmlReportSection AddTo(HtmlReport report, IReadOnlyList<(string Run, IReadOnlyList<StageSeparability> Stages)> runs)
    {
        if (!runs.Any(r => r.Stages.Count > 0)) throw new ArgumentException("no stage to show", nameof(runs));
        var ci = CultureInfo.InvariantCulture;
        var section = report.AddSection(Id, "Loss separability: what the warm-up leaves behind");
        section.Paragraph("A method that divides the data by per-sample loss (DivideMix, SANM) needs the wrong labels to have larger losses than the right ones when the division starts. "
            + "For each run, at the end of its warm-up and at its end: the losses of the given labels (min-max normalised, as the mixture sees them) of right and wrong labels, "
            + "the ROC-AUC with which the two-component mixture's clean probability separates them, and the linear-probe test accuracy of the encoder at that point (C2D's analysis: both are expected to be higher from a SimCLR start).")
            .Table(["run", "stage", "epochs", "mixture ROC-AUC", "mean loss, right labels", "mean loss, wrong labels", "linear probe"],
                runs.SelectMany(r => r.Stages.Select(s => (IReadOnlyList<string>)[
                    r.Run, s.Stage, s.CompletedEpochs.ToString(ci), s.MixtureAuc.ToString("0.0000", ci),
                    s.MeanRightLoss.ToString("0.000", ci), s.MeanWrongLoss.ToString("0.000", ci),
                    s.ProbeAccuracy is { } p ? (100 * p).ToString("0.00", ci) + "%" : "–"])));
        section.Figures(runs.SelectMany(r => r.Stages.Select(s => new ReportFigure(
            ReportPlots.QualityHistogram(s.NormalisedLosses, s.Wrong, null, string.Create(ci, $"{r.Run}: {s.Stage} (epoch {s.CompletedEpochs})"),
                xLabel: "normalised loss of the given label (high: probably wrong)"),
            string.Create(ci, $"{r.Run}, {s.Stage}: normalised per-sample losses of right (blue) and wrong (red) labels; mixture ROC-AUC {s.MixtureAuc:0.0000}.")))));
        return section;
    }

    /// <summary>Writes one row per run and stage: run, stage, epochs, mixture_auc, mean losses of right and wrong labels, probe_accuracy.</summary>
    public static void WriteCsv(string path, IReadOnlyList<(string Run, IReadOnlyList<StageSeparability> Stages)> runs)
    {
        var ci = CultureInfo.InvariantCulture;
        var lines = new List<string> { "run,stage,epochs,mixture_auc,mean_loss_right,mean_loss_wrong,probe_accuracy" };
        foreach (var (run, stages) in runs)
            foreach (var s in stages)
                lines.Add(string.Join(",", CsvField.Escape(run), CsvField.Escape(s.Stage), s.CompletedEpochs.ToString(ci), s.MixtureAuc.ToString("R", ci),
                    s.MeanRightLoss.ToString("R", ci), s.MeanWrongLoss.ToString("R", ci), s.ProbeAccuracy is { } p ? p.ToString("R", ci) : "NaN"));
        AtomicFile.WriteAllText(path, string.Join("\n", lines) + "\n");
    }
}
