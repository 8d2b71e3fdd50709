using System.Globalization;
using Winnow.Training;

namespace Winnow.Analysis;

/// <summary>
/// The memorisation section of an <see cref="HtmlReport"/>: several runs' per-epoch measures overlaid (test accuracy,
/// training-set accuracy against the true and the noisy labels, memorisation of the wrong labels, clean AUC), with a
/// table of each run's last epoch: how fast and how far each run learns the clean labels before the noise.
/// </summary>
public static class MemorisationSection
{
    /// <summary>The section's HTML id.</summary>
    public const string Id = "memorisation";

    /// <summary>The CSV file of every run's per-epoch measures that <see cref="WriteCsv"/> writes.</summary>
    public const string CsvFile = "memorisation.csv";

    private static readonly (string Title, string Column, Func<EpochMetrics, double> Value)[] Measures =
    [
        ("Test accuracy", "test_acc", r => r.TestAccuracy),
        ("Training accuracy against the true labels", "train_acc_true", r => r.TrainAccuracyTrue),
        ("Training accuracy against the noisy labels", "train_acc_noisy", r => r.TrainAccuracyNoisy),
        ("Memorisation: wrong labels predicted as given", "memorization", r => r.Memorization),
        ("Clean AUC of the per-sample losses", "clean_auc", r => r.CleanAuc),
    ];

    /// <summary>Adds the section to <paramref name="report"/> and returns it.</summary>
    /// <param name="report">The page.</param>
    /// <param name="runs">Each run's name and metrics.csv rows (at least one run with a row).</param>
    /// <exception cref="ArgumentException">No run has a row.</exception>
    public static HtmlReportSection AddTo(HtmlReport report, IReadOnlyList<(string Name, IReadOnlyList<EpochMetrics> Rows)> runs)
    {
        if (!runs.Any(r => r.Rows.Count > 0)) throw new ArgumentException("no run has an epoch to show", nameof(runs));
        var ci = CultureInfo.InvariantCulture;
        static string Percent(double v) => double.IsNaN(v) ? "–" : (100 * v).ToString("0.00", CultureInfo.InvariantCulture) + "%";
        var section = report.AddSection(Id, "Memorisation over the runs");
        section.Paragraph("Per epoch, each run's test accuracy, its accuracy on the (un-augmented) training images against their true and their noisy labels, "
            + "the share of the wrong labels it predicts as given (memorisation), and how well its per-sample losses separate right labels from wrong ones (clean AUC). "
            + "A run that resists the noise climbs in accuracy against the true labels while its memorisation stays low; one that memorises follows the noisy labels.")
            .Table(["run", "epochs", "best test", "last epoch's test", "train (true)", "train (noisy)", "memorised", "clean AUC"],
                runs.Where(r => r.Rows.Count > 0).Select(r => (IReadOnlyList<string>)[
                    r.Name, r.Rows.Count.ToString(ci), Percent(r.Rows.Max(x => x.TestAccuracy)), Percent(r.Rows[^1].TestAccuracy),
                    Percent(r.Rows[^1].TrainAccuracyTrue), Percent(r.Rows[^1].TrainAccuracyNoisy), Percent(r.Rows[^1].Memorization),
                    double.IsNaN(r.Rows[^1].CleanAuc) ? "–" : r.Rows[^1].CleanAuc.ToString("0.000", ci)]));
        var figures = Measures.Select(m => (Png: ReportPlots.RunComparison(runs, m.Value, m.Title), m.Title))
            .Where(f => f.Png is not null).Select(f => new ReportFigure(f.Png!, f.Title + ", per epoch.")).ToArray();
        if (figures.Length > 0) section.Figures(figures);
        return section;
    }

    /// <summary>Writes every run's per-epoch measures to <paramref name="path"/>: run, epoch and the five measures (NaN where not measured).</summary>
    public static void WriteCsv(string path, IReadOnlyList<(string Name, IReadOnlyList<EpochMetrics> Rows)> runs)
    {
        var ci = CultureInfo.InvariantCulture;
        var lines = new List<string> { "run,epoch," + string.Join(",", Measures.Select(m => m.Column)) };
        foreach (var (name, rows) in runs)
            foreach (var row in rows)
                lines.Add(Data.CsvField.Escape(name) + "," + row.Epoch.ToString(ci) + "," + string.Join(",", Measures.Select(m => m.Value(row).ToString("R", ci))));
        AtomicFile.WriteAllText(path, string.Join("\n", lines) + "\n");
    }
}
