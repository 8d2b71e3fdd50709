using System.Globalization;
using System.Text;

namespace Winnow.Training;

/// <summary>What one epoch measured. Accuracies are fractions in [0, 1]; NaN where not measured.</summary>
public sealed record EpochMetrics
{
    /// <summary>1-based epoch number.</summary>
    public int Epoch { get; init; }

    /// <summary>The epoch's learning rate.</summary>
    public double LearningRate { get; init; }

    /// <summary>Mean training loss over the epoch's steps.</summary>
    public double TrainLoss { get; init; }

    /// <summary>Test accuracy.</summary>
    public double TestAccuracy { get; init; }

    /// <summary>Accuracy on the un-augmented training set against the (noisy) training labels.</summary>
    public double TrainAccuracyNoisy { get; init; } = double.NaN;

    /// <summary>Accuracy on the un-augmented training set against the true labels.</summary>
    public double TrainAccuracyTrue { get; init; } = double.NaN;

    /// <summary>Fraction of the mislabeled training samples that the model predicts as their wrong label.</summary>
    public double Memorization { get; init; } = double.NaN;

    /// <summary>
    /// ROC-AUC of the clean probability (<see cref="Detection.CleanProbability.FromLosses"/> on the model's per-sample
    /// losses over the un-augmented training set) against the true clean mask: how well the model's losses separate
    /// right labels from wrong ones at this epoch (C2D's measure). NaN without true labels or without noise.
    /// </summary>
    public double CleanAuc { get; init; } = double.NaN;

    /// <summary>Seconds spent training (steps only).</summary>
    public double TrainSeconds { get; init; }

    /// <summary>Seconds of the whole epoch: steps, evaluation and checkpoint.</summary>
    public double Seconds { get; init; }

    /// <summary>Method-specific figures (e.g. DivideMix's labeled-set size), written as extra columns.</summary>
    public IReadOnlyDictionary<string, double> Extra { get; init; } = new Dictionary<string, double>();

    private static readonly string[] Columns =
        ["epoch", "lr", "train_loss", "test_acc", "train_acc_noisy", "train_acc_true", "memorization", "clean_auc", "train_seconds", "seconds"];

    /// <summary>Writes the rows as CSV (atomically), with the extra columns of the first row appended.</summary>
    public static void WriteCsv(string path, IReadOnlyList<EpochMetrics> rows)
    {
        var extra = rows.Count == 0 ? [] : rows[0].Extra.Keys.ToArray();
        var sb = new StringBuilder(string.Join(',', Columns.Concat(extra))).Append('\n');
        foreach (var r in rows)
        {
            sb.Append(r.Epoch.ToString(CultureInfo.InvariantCulture));
            foreach (double v in new[] { r.LearningRate, r.TrainLoss, r.TestAccuracy, r.TrainAccuracyNoisy, r.TrainAccuracyTrue, r.Memorization, r.CleanAuc, r.TrainSeconds, r.Seconds })
                sb.Append(',').Append(Format(v));
            foreach (string k in extra) sb.Append(',').Append(Format(r.Extra.TryGetValue(k, out double v) ? v : double.NaN));
            sb.Append('\n');
        }
        AtomicFile.WriteAllText(path, sb.ToString());
    }

    /// <summary>Reads the rows written by <see cref="WriteCsv"/>.</summary>
    public static List<EpochMetrics> ReadCsv(string path)
    {
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0) throw new DataFormatException(path, "empty metrics file; expected a header row");
        var header = lines[0].Split(',');
        if (!header.Take(Columns.Length).SequenceEqual(Columns)) throw new DataFormatException(path, $"row 1: expected the header to start with {string.Join(',', Columns)}");
        var rows = new List<EpochMetrics>();
        for (int i = 1; i < lines.Length; i++)
        {
            if (lines[i].Length == 0) continue;
            var c = lines[i].Split(',');
            if (c.Length != header.Length) throw new DataFormatException(path, $"row {i + 1}: {c.Length} columns, expected {header.Length}");
            int row = i + 1;
            double D(int k) => double.TryParse(c[k], NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v
                : throw new DataFormatException(path, $"row {row}: {header[k]} '{c[k]}' is not a number");
            rows.Add(new EpochMetrics
            {
                Epoch = int.TryParse(c[0], NumberStyles.None, CultureInfo.InvariantCulture, out int epoch) ? epoch
                    : throw new DataFormatException(path, $"row {row}: epoch '{c[0]}' is not a whole number"), LearningRate = D(1), TrainLoss = D(2), TestAccuracy = D(3),
                TrainAccuracyNoisy = D(4), TrainAccuracyTrue = D(5), Memorization = D(6), CleanAuc = D(7), TrainSeconds = D(8), Seconds = D(9),
                Extra = Enumerable.Range(Columns.Length, header.Length - Columns.Length).ToDictionary(k => header[k], D),
            });
        }
        return rows;
    }

    private static string Format(double v) => double.IsNaN(v) ? "NaN" : v.ToString("G6", CultureInfo.InvariantCulture);

    /// <summary><paramref name="v"/> as <see cref="ReadCsv"/> reads it back from the file <see cref="WriteCsv"/> writes (to 6 digits).</summary>
    internal static double AsWritten(double v) => double.Parse(Format(v), CultureInfo.InvariantCulture);
}

/// <summary>The run's headline figures, as the seeds report them.</summary>
/// <param name="Best">Highest test accuracy over all epochs.</param>
/// <param name="BestEpoch">Epoch (1-based) of <paramref name="Best"/>.</param>
/// <param name="Last">Mean test accuracy of the last <paramref name="LastEpochs"/> epochs.</param>
/// <param name="LastEpochs">How many epochs <paramref name="Last"/> averages (fewer when the run is shorter than asked).</param>
/// <param name="Epochs">Epochs run.</param>
/// <param name="Seconds">Total seconds: the sum of metrics.csv's seconds column, as written there (to 6 digits), so that
/// a resumed run, which reads the earlier epochs' times from that file, adds them up alike.</param>
/// <param name="Final">Test accuracy after the last epoch: the model the run leaves behind. On runs of a few epochs
/// "Last" averages most of the run, early epochs included, so the two differ.</param>
public sealed record RunSummary(double Best, int BestEpoch, double Last, int LastEpochs, int Epochs, double Seconds, double Final)
{
    /// <summary>Computes Best and Last from the epoch rows.</summary>
    public static RunSummary From(IReadOnlyList<EpochMetrics> rows, int lastEpochs)
    {
        if (rows.Count == 0) return new RunSummary(double.NaN, 0, double.NaN, 0, 0, 0, double.NaN);
        var best = rows.MaxBy(r => r.TestAccuracy)!;
        int k = Math.Min(lastEpochs, rows.Count);
        return new RunSummary(best.TestAccuracy, best.Epoch, rows.TakeLast(k).Average(r => r.TestAccuracy), k, rows.Count, rows.Sum(r => EpochMetrics.AsWritten(r.Seconds)), rows[^1].TestAccuracy);
    }
}
