using System.Globalization;
using System.Text;
using Winnow.Data;
using Winnow.Detection;
using Winnow.Training;

namespace Winnow.Runs;

/// <summary>Which fold each training sample belongs to in K-fold cross-validation.</summary>
public static class FoldAssignment
{
    /// <summary>
    /// Stratified folds 0..K−1: within each given label, the samples in a seeded random order are dealt to the folds in
    /// turn, so every fold holds each label's share to within one sample.
    /// </summary>
    public static int[] Assign(int[] labels, int classCount, int folds, int seed)
    {
        if (folds < 2) throw new WinnowException($"--folds must be at least 2, got {folds}");
        var fold = new int[labels.Length];
        var rng = new Random(seed);
        int next = 0;
        for (int c = 0; c < classCount; c++)
        {
            var members = Enumerable.Range(0, labels.Length).Where(i => labels[i] == c).ToArray();
            rng.Shuffle(members);
            // Continue the deal where the last class stopped, so the folds' sizes also differ by at most one.
            foreach (int i in members) fold[i] = next++ % folds;
        }
        return fold;
    }
}

/// <summary>Progress of an out-of-fold job: the fold being trained (1-based) and that run's own progress.</summary>
/// <param name="Fold">1-based fold whose model is training or predicting.</param>
/// <param name="Folds">Folds in all.</param>
/// <param name="Training">The fold run's progress; null when the fold is predicting its held-out samples.</param>
public sealed record OutOfFoldProgress(int Fold, int Folds, TrainingProgress? Training);

/// <summary>What an out-of-fold job produced.</summary>
/// <param name="Train">The training images.</param>
/// <param name="Labels">Their labels.</param>
/// <param name="Fold">Each sample's fold (0-based).</param>
/// <param name="Probabilities">Each sample's predicted class probabilities (row-major N × K) from the model of its own fold, which never trained on it.</param>
/// <param name="Findings">The label issues found from those probabilities.</param>
/// <param name="FoldAccuracies">Each fold model's test accuracy (final epoch).</param>
public sealed record OutOfFoldResult(ImageDataset Train, NoisyLabelSet Labels, int[] Fold, float[] Probabilities, LabelIssueFindings Findings, double[] FoldAccuracies);

/// <summary>
/// cleanlab's recommended practice for label issues: K models, each trained (a whole Winnow run) on the samples of
/// K−1 folds, each predicting the fold it never saw; the detectors then read those out-of-fold probabilities, which a
/// model cannot have memorised. The folder holds folds.csv (index, fold), noisy_labels.csv, one run folder per fold
/// (fold-1 …, each resumable and reused once finished), out_of_fold_probabilities.csv, and the label-issue files.
/// </summary>
public static class OutOfFoldJob
{
    /// <summary>The probabilities file's name.</summary>
    public const string ProbabilitiesFile = "out_of_fold_probabilities.csv";

    /// <summary>The fold file's name.</summary>
    public const string FoldsFile = "folds.csv";

    /// <summary>
    /// Runs (or continues) the K fold runs of <paramref name="manifest"/> in <paramref name="folder"/>, predicts each
    /// fold's held-out samples with its run's final model (with the run's test-time views), and finds the label issues.
    /// </summary>
    public static OutOfFoldResult Run(RunManifest manifest, string folder, int folds, IProgress<OutOfFoldProgress>? progress = null, CancellationToken cancellation = default)
    {
        if (manifest.Definition().Kind != MethodKind.Classifier) throw new WinnowException($"out-of-fold predictions need a classifier method, not '{manifest.Method}'");
        if (manifest.ExcludeFile is not null) throw new WinnowException("--exclude and --folds do not combine: the folds leave out their own samples");
        Directory.CreateDirectory(folder);
        using var held = FolderLock.Take(folder);
        AtomicFile.RemoveLeftovers(folder);
        var train = manifest.Dataset.LoadTrain();
        var labelsPath = Path.Combine(folder, "noisy_labels.csv");
        var labels = File.Exists(labelsPath) ? NoisyLabelSet.Load(labelsPath, train.Count, train.ClassCount)
            : manifest.Noise.Create(train, trueLabelsKnown: manifest.Dataset.LabelFile is null);
        if (folds > train.Count) throw new WinnowException($"--folds {folds} is more than the {train.Count} training images");
        var fold = FoldAssignment.Assign(labels.Noisy, labels.ClassCount, folds, manifest.Training.Seed);
        var foldsPath = Path.Combine(folder, FoldsFile);
        if (File.Exists(foldsPath) && !File.ReadAllText(foldsPath).Equals(FoldsCsv(fold), StringComparison.Ordinal))
            throw new DataFormatException(foldsPath, "assigns other folds than these options give (another --folds, --seed or data); use a new --out");
        labels.Save(labelsPath);
        AtomicFile.WriteAllText(foldsPath, FoldsCsv(fold));

        int k = train.ClassCount;
        var probabilities = new float[(long)train.Count * k];
        var accuracies = new double[folds];
        for (int f = 0; f < folds; f++)
        {
            cancellation.ThrowIfCancellationRequested();
            int[] heldOut = [.. Enumerable.Range(0, train.Count).Where(i => fold[i] == f)];
            var runFolder = new RunFolder(Path.Combine(folder, $"fold-{f + 1}"));
            var heldOutPath = Path.Combine(folder, $"fold-{f + 1}-held-out.csv");
            SampleExclusion.Save(heldOutPath, heldOut);
            int foldNumber = f + 1;
            var inner = progress is null ? null : new FoldProgress(progress, foldNumber, folds);
            if (!File.Exists(runFolder.SummaryFile))
            {
                if (File.Exists(runFolder.OptionsFile)) TrainingJob.Resume(runFolder, inner, cancellation, findLabelIssues: false).Job.Dispose();
                else
                {
                    using var job = TrainingJob.Prepare(manifest with { ExcludeFile = heldOutPath }, _ => labels);
                    job.Run(runFolder, inner, cancellation, findLabelIssues: false);
                }
            }
            progress?.Report(new OutOfFoldProgress(foldNumber, folds, null));
            var (recorded, method) = TrainingJob.LoadTrained(runFolder.LastCheckpoint);
            using (method)
            {
                var excluded = SampleExclusion.Read(runFolder.ExcludedSamplesFile, train);
                if (!excluded.SequenceEqual(heldOut))
                    throw new DataFormatException(runFolder.ExcludedSamplesFile, $"fold {foldNumber}'s run left out other samples than the fold holds; use a new --out");
                var predict = TestTimeAugmenter.Wrap(method.PredictLogits, recorded.Training.TestTimeAugmentation);
                var predictions = Evaluation.Predict(predict, train.Subset(heldOut), cancellation: cancellation);
                for (int j = 0; j < heldOut.Length; j++)
                    Array.Copy(predictions.Probabilities, (long)j * k, probabilities, (long)heldOut[j] * k, k);
            }
            var rows = EpochMetrics.ReadCsv(runFolder.MetricsFile);
            accuracies[f] = rows.Count == 0 ? double.NaN : rows[^1].TestAccuracy;
        }
        AtomicFile.WriteAllText(Path.Combine(folder, ProbabilitiesFile), ProbabilitiesCsv(fold, probabilities, k));
        var findings = LabelIssueReport.Find(labels, probabilities, seed: manifest.Training.Seed);
        return new OutOfFoldResult(train, labels, fold, probabilities, findings, accuracies);
    }

    /// <summary>Passes a fold run's progress on, synchronously, tagged with the fold.</summary>
    private sealed class FoldProgress(IProgress<OutOfFoldProgress> outer, int fold, int folds) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => outer.Report(new OutOfFoldProgress(fold, folds, value));
    }

    private static string FoldsCsv(int[] fold)
    {
        var sb = new StringBuilder("index,fold\n");
        for (int i = 0; i < fold.Length; i++) sb.Append(i.ToString(CultureInfo.InvariantCulture)).Append(',').Append((fold[i] + 1).ToString(CultureInfo.InvariantCulture)).Append('\n');
        return sb.ToString();
    }

    private static string ProbabilitiesCsv(int[] fold, float[] probabilities, int k)
    {
        var sb = new StringBuilder("index,fold");
        for (int c = 0; c < k; c++) sb.Append(",p_").Append(c.ToString(CultureInfo.InvariantCulture));
        sb.Append('\n');
        for (int i = 0; i < fold.Length; i++)
        {
            sb.Append(i.ToString(CultureInfo.InvariantCulture)).Append(',').Append((fold[i] + 1).ToString(CultureInfo.InvariantCulture));
            for (int c = 0; c < k; c++) sb.Append(',').Append(probabilities[(long)i * k + c].ToString("G6", CultureInfo.InvariantCulture));
            sb.Append('\n');
        }
        return sb.ToString();
    }
}
