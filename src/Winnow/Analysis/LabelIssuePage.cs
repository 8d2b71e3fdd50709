using System.Globalization;
using Winnow.Analysis;
using Winnow.Data;
using Winnow.Detection;
using Winnow.Training;

namespace Winnow.Analysis;

/// <summary>What report.html says besides the findings.</summary>
/// <param name="Facts">Facts about the run, the data and the machine, for the page's header block.</param>
/// <param name="Run">The training run the findings come from, whose metrics.csv gives per-epoch curves; null for none.</param>
public sealed record LabelIssueReportContext(IReadOnlyList<KeyValuePair<string, string>>? Facts = null, RunFolder? Run = null);

/// <summary>
/// The label-issue report as one HTML page (<see cref="HtmlReport"/>): a summary, the detectors compared, the
/// transition matrices and per-class noise rates, the label-quality histogram, the most suspect images and, for a
/// training run, its per-epoch curves.
/// </summary>
public static class LabelIssuePage
{
    /// <summary>The report's file name.</summary>
    public const string ReportFile = "report.html";

    /// <summary>
    /// Writes the three label-issue files into <paramref name="folder"/>: label_issues.csv and noise_estimate.json
    /// (<see cref="LabelIssueReport.Write"/>) and report.html (<see cref="Build"/>: the same findings for a person to
    /// read, with plots and the most suspect images), each atomically.
    /// </summary>
    public static void Write(string folder, LabelIssueFindings findings, NoisyLabelSet labels, ImageDataset images,
        IReadOnlyList<int>? sampleIndices = null, LabelIssueReportContext? context = null)
    {
        LabelIssueReport.Write(folder, findings, labels, images, sampleIndices);
        Build(findings, labels, images, sampleIndices, context).Write(Path.Combine(folder, ReportFile));
    }

    /// <summary>How many of the most suspect samples the page shows.</summary>
    public const int DefaultSuspectCount = 100;

    /// <summary>The ids of the page's sections, in order; <see cref="Training"/> only for a run with metrics.</summary>
    public static class SectionIds
    {
        /// <summary>Counts, the flagged share and the noise rates.</summary>
        public const string Summary = "summary";

        /// <summary>The detectors compared.</summary>
        public const string Detectors = "detectors";

        /// <summary>Transition matrices and per-class noise rates.</summary>
        public const string Transition = "transition";

        /// <summary>The label-quality histogram.</summary>
        public const string Quality = "quality";

        /// <summary>Thumbnails of the most suspect samples.</summary>
        public const string Suspects = "suspects";

        /// <summary>The run's per-epoch curves.</summary>
        public const string Training = "training";
    }

    /// <summary>Builds the page.</summary>
    /// <param name="findings">What <see cref="LabelIssueReport.Find"/> found.</param>
    /// <param name="labels">The labels it was found on.</param>
    /// <param name="images">The images the labels belong to, sample for sample (for thumbnails and class names).</param>
    /// <param name="sampleIndices">Each sample's index in the whole dataset when some were left out; null when none were.</param>
    /// <param name="context">Facts for the header and the run, if any.</param>
    /// <param name="suspectCount">How many of the most suspect samples to show.</param>
    public static HtmlReport Build(LabelIssueFindings findings, NoisyLabelSet labels, ImageDataset images, IReadOnlyList<int>? sampleIndices = null,
        LabelIssueReportContext? context = null, int suspectCount = DefaultSuspectCount)
    {
        if (images.Count != labels.Count) throw new ArgumentException($"{images.Count} images for {labels.Count} labels", nameof(images));
        var ci = CultureInfo.InvariantCulture;
        var names = images.ClassNames;
        int n = labels.Count, k = names.Count;
        var primary = findings.Primary;
        int flagged = primary.Flagged.Count(f => f);
        bool truthKnown = labels.True is not null;
        var wrong = truthKnown ? Enumerable.Range(0, n).Select(labels.IsMislabeled).ToArray() : null;
        double? actualRate = wrong is null ? null : (double)wrong.Count(w => w) / Math.Max(1, n);
        var estimate = findings.Detectors.Select(d => d.NoiseEstimate).OfType<NoiseSummary>().First();
        var estimator = findings.Detectors.First(d => d.NoiseEstimate is not null).Detector;

        var report = new HtmlReport($"Label issues: {images.Name}");
        if (context?.Facts is { } facts) report.AddFacts(facts);
        report.AddFact("dataset", string.Create(ci, $"{images.Name}: {n} samples, {k} classes, {images.Channels}×{images.Height}×{images.Width}"))
              .AddFact("labels", labels.Description)
              .AddFact("decided by", primary.Detector);

        report.AddSection(SectionIds.Summary, "Summary")
            .Paragraph(string.Create(ci, $"{primary.Detector} flagged {flagged} of {n} labels ({Percent(flagged, n)}) as probably wrong and estimates that {Pct(primary.EstimatedNoiseRate)} of all labels are wrong")
                + (actualRate is { } a ? string.Create(ci, $"; the actual share is {Pct(a)}.") : "; the true labels are unknown, so the estimate cannot be checked."))
            .Table(["measure", "value"], SummaryRows(findings, primary, flagged, n, actualRate, estimate, estimator));

        var detectors = report.AddSection(SectionIds.Detectors, "Detectors compared");
        if (findings.Measures.Count > 0)
        {
            detectors.Paragraph("Each detector against the true labels: precision and recall of its flags, the ROC-AUC and average precision of its label-quality ranking (most suspect first), and its estimate of the noise rate.")
                .Table(["detector", "flagged", "precision", "recall", "F1", "ROC-AUC", "average precision", "estimated noise", "actual noise"],
                    findings.Measures.Select(m => (IReadOnlyList<string>)[Decided(m.Detector, primary), m.FlaggedCount.ToString(ci), F3(m.Precision), F3(m.Recall), F3(m.F1),
                        F4(m.RocAuc), F4(m.AveragePrecision), Pct(m.EstimatedNoiseRate), Pct(m.ActualNoiseRate)]));
        }
        else
        {
            detectors.Paragraph("The true labels are unknown: each detector's flags and estimate of the noise rate.")
                .Table(["detector", "flagged", "flagged share", "estimated noise"],
                    findings.Detectors.Select(d => (IReadOnlyList<string>)[Decided(d.Detector, primary), d.Flagged.Count(f => f).ToString(ci), Percent(d.Flagged.Count(f => f), n), Pct(d.EstimatedNoiseRate)]));
        }

        var actual = truthKnown ? labels.Summarize() : null;
        var transition = report.AddSection(SectionIds.Transition, "Transition matrix and per-class noise");
        var figures = new List<ReportFigure>
        {
            new(ReportPlots.TransitionHeatmap(estimate.Transition, names, $"Estimated P(given | true), % ({estimator})"),
                $"Estimated P(given label | true class) from {estimator}'s calibrated confident joint, in percent; rows are true classes."),
        };
        if (actual is not null)
            figures.Add(new(ReportPlots.TransitionHeatmap(actual.Transition, names, "Actual P(given | true), %"), "Actual P(given label | true class), in percent, from the known true labels."));
        transition.Figures(figures)
            .Table(actual is null ? ["class", "estimated noise"] : ["class", "estimated noise", "actual noise", "samples (true class)"],
                Enumerable.Range(0, k).Select(c => actual is null
                    ? (IReadOnlyList<string>)[names[c], Pct(estimate.PerClassNoiseRate[c])]
                    : [names[c], Pct(estimate.PerClassNoiseRate[c]), Pct(actual.PerClassNoiseRate[c]), RowCount(actual.Counts, c).ToString(ci)]),
                "Share of each true class's samples whose given label is another class");

        double? threshold = FlagThreshold(primary);
        report.AddSection(SectionIds.Quality, "Label quality")
            .Paragraph($"The label quality that {primary.Detector} gives each sample; samples are ranked by it in {LabelIssueReport.IssuesFile}, lowest first."
                + (wrong is null ? "" : " Bars are stacked: samples whose given label is right, and those whose label is wrong."))
            .Figure(ReportPlots.QualityHistogram(primary.Quality, wrong, threshold, $"Label quality ({primary.Detector})"),
                threshold is null ? "Label quality histogram." : string.Create(ci, $"Label quality histogram; the dashed line marks the flag threshold {threshold:0.###}."));

        var order = primary.MostSuspectFirst().Take(Math.Max(0, suspectCount)).ToArray();
        report.AddSection(SectionIds.Suspects, $"The {order.Length} most suspect samples")
            .Paragraph($"Ranked as in {LabelIssueReport.IssuesFile}, most suspect first; each captioned index: given label → suggested label."
                + (truthKnown ? " A green frame marks a sample where the flag is right (flagged with a wrong label, or unflagged with a right one), a red frame one where it is wrong." : ""))
            .Thumbnails(order.Select(i => Thumbnail(images, labels, primary, sampleIndices, i)));

        if (context?.Run is { } run && File.Exists(run.MetricsFile)) AddTraining(report, run);
        return report;
    }

    private static IEnumerable<IReadOnlyList<string>> SummaryRows(LabelIssueFindings findings, DetectorResult primary, int flagged, int n, double? actualRate,
        NoiseSummary estimate, string estimator)
    {
        var ci = CultureInfo.InvariantCulture;
        yield return ["samples", n.ToString(ci)];
        yield return ["flagged", string.Create(ci, $"{flagged} ({Percent(flagged, n)})")];
        yield return ["decided by", primary.Detector];
        yield return [$"estimated noise rate ({primary.Detector})", Pct(primary.EstimatedNoiseRate)];
        if (estimator != primary.Detector) yield return [$"estimated noise rate ({estimator}, confident joint)", Pct(estimate.NoiseRate)];
        if (actualRate is { } a) yield return ["actual noise rate", Pct(a)];
        if (findings.Measures.FirstOrDefault(m => m.Detector == primary.Detector) is { } m)
            yield return ["precision / recall of the flags", string.Create(ci, $"{F3(m.Precision)} / {F3(m.Recall)}")];
    }

    private static ReportThumbnail Thumbnail(ImageDataset images, NoisyLabelSet labels, DetectorResult primary, IReadOnlyList<int>? sampleIndices, int i)
    {
        var names = images.ClassNames;
        var ci = CultureInfo.InvariantCulture;
        int index = sampleIndices is null ? i : sampleIndices[i];
        string caption = string.Create(ci, $"{index}: {names[labels.Noisy[i]]} → {names[primary.Suggested[i]]}\nquality {primary.Quality[i]:0.###}{(primary.Flagged[i] ? ", flagged" : "")}");
        var mark = ThumbnailMark.None;
        if (labels.True is { } truth)
        {
            bool flagRight = primary.Flagged[i] == labels.IsMislabeled(i);
            caption += $"\ntrue: {names[truth[i]]} {(flagRight ? "✓" : "✗")}";
            mark = flagRight ? ThumbnailMark.Confirmed : ThumbnailMark.Contradicted;
        }
        return new ReportThumbnail(ImageThumbnail.Png(images, i), caption, mark);
    }

    private static void AddTraining(HtmlReport report, RunFolder run)
    {
        var section = report.AddSection(SectionIds.Training, "Training");
        List<EpochMetrics> rows;
        try { rows = EpochMetrics.ReadCsv(run.MetricsFile); }
        catch (DataFormatException e)
        {
            section.Paragraph($"The run's metrics could not be read: {e.Message}");
            return;
        }
        if (rows.Count == 0)
        {
            section.Paragraph("The run's metrics file has no epochs.");
            return;
        }
        section.Paragraph(string.Create(CultureInfo.InvariantCulture,
            $"{rows.Count} epoch(s) from {run.MetricsFile}. Memorisation is the share of wrongly labelled training samples that the model predicts as their wrong label; clean AUC is how well its per-sample losses separate right labels from wrong ones."));
        var figures = new List<ReportFigure>();
        if (ReportPlots.EpochCurves(rows) is { } curves) figures.Add(new(curves, "Accuracies, memorisation and clean AUC per epoch (each where it was measured)."));
        if (ReportPlots.TrainingLossCurve(rows) is { } loss) figures.Add(new(loss, "Mean training loss per epoch."));
        if (figures.Count > 0) section.Figures(figures);
        var last = rows[^1];
        section.Table(["epoch", "test accuracy", "train accuracy (noisy)", "train accuracy (true)", "memorisation", "clean AUC", "train loss"],
            [[last.Epoch.ToString(CultureInfo.InvariantCulture), Pct(last.TestAccuracy), Pct(last.TrainAccuracyNoisy), Pct(last.TrainAccuracyTrue), Pct(last.Memorization),
                F4(last.CleanAuc), F4(last.TrainLoss)]], "Last epoch");
    }

    /// <summary>The quality below which <paramref name="result"/> flags: the loss mixture's threshold, else none.</summary>
    private static double? FlagThreshold(DetectorResult result) => result.Detector == "loss-mixture" ? LabelIssueDetectors.LossMixtureFlagThreshold : null;

    private static string Decided(string detector, DetectorResult primary) => detector == primary.Detector ? detector + " (decides)" : detector;

    private static long RowCount(long[,] counts, int row)
    {
        long sum = 0;
        for (int c = 0; c < counts.GetLength(1); c++) sum += counts[row, c];
        return sum;
    }

    private static string Percent(int part, int whole) => whole == 0 ? "–" : Pct((double)part / whole);

    private static string Pct(double v) => double.IsNaN(v) ? "–" : (100 * v).ToString("F1", CultureInfo.InvariantCulture) + "%";

    private static string F3(double v) => double.IsNaN(v) ? "–" : v.ToString("F3", CultureInfo.InvariantCulture);

    private static string F4(double v) => double.IsNaN(v) ? "–" : v.ToString("F4", CultureInfo.InvariantCulture);
}
