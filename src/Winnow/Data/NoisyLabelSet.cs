using System.Globalization;
using System.Text;

namespace Winnow.Data;

/// <summary>
/// The labels a model is trained on beside the true labels, where these are known. Saved as CSV with a header
/// <c>index,noisy_label,true_label</c>, one row per sample in index order; true_label may be empty when unknown.
/// </summary>
public sealed class NoisyLabelSet
{
    /// <summary>Creates the set; both arrays must have the same length and labels must be below <paramref name="classCount"/>.</summary>
    public NoisyLabelSet(int[] noisy, int[]? trueLabels, int classCount, string description)
    {
        if (trueLabels is not null && trueLabels.Length != noisy.Length)
            throw new ArgumentException($"{noisy.Length} noisy labels but {trueLabels.Length} true labels");
        Noisy = noisy;
        True = trueLabels;
        ClassCount = classCount;
        Description = description;
    }

    /// <summary>The labels used for training.</summary>
    public int[] Noisy { get; }

    /// <summary>The true labels, or null when they are not known.</summary>
    public int[]? True { get; }

    /// <summary>Number of classes.</summary>
    public int ClassCount { get; }

    /// <summary>How the noisy labels were made.</summary>
    public string Description { get; }

    /// <summary>Number of samples.</summary>
    public int Count => Noisy.Length;

    /// <summary>Applies <paramref name="noise"/> to the dataset's labels (taken as true); no noise keeps them.</summary>
    public static NoisyLabelSet Create(ImageDataset dataset, ILabelNoise? noise, int seed) =>
        new(noise is null ? (int[])dataset.Labels.Clone() : noise.Apply(dataset, seed), (int[])dataset.Labels.Clone(),
            dataset.ClassCount, noise is null ? "clean (no synthetic noise)" : $"{noise.Description}, seed {seed}");

    /// <summary>The labels of the samples at <paramref name="indices"/>, in that order.</summary>
    public NoisyLabelSet Subset(IReadOnlyList<int> indices) =>
        new(indices.Select(i => Noisy[i]).ToArray(), True is null ? null : indices.Select(i => True[i]).ToArray(), ClassCount,
            $"{Description}; {Count - indices.Count} of {Count} samples left out");

    /// <summary>Whether sample i's training label differs from its true label (false where the truth is unknown).</summary>
    public bool IsMislabeled(int i) => True is not null && Noisy[i] != True[i];

    /// <summary>Writes the CSV atomically (a temporary file, then a rename).</summary>
    public void Save(string path)
    {
        var sb = new StringBuilder("index,noisy_label,true_label\n");
        for (int i = 0; i < Count; i++)
            sb.Append(i).Append(',').Append(Noisy[i]).Append(',').Append(True is null ? "" : True[i].ToString(CultureInfo.InvariantCulture)).Append('\n');
        AtomicFile.WriteAllText(path, sb.ToString());
    }

    /// <summary>
    /// Reads a CSV written by <see cref="Save"/> for a dataset of <paramref name="expectedCount"/> samples. With
    /// <paramref name="datasetLabels"/> (the dataset's own, true labels) every row's true_label must be the dataset's: a
    /// file made for other images of the same count (MNIST's beside Fashion-MNIST's) would otherwise be trusted for every
    /// figure measured against the truth.
    /// </summary>
    public static NoisyLabelSet Load(string path, int expectedCount, int classCount, IReadOnlyList<int>? datasetLabels = null)
    {
        if (!File.Exists(path)) throw new DataFormatException(path, "noisy-label file not found");
        using var reader = new StreamReader(path);
        string? header = reader.ReadLine();
        if (header is null || header.Trim() != "index,noisy_label,true_label")
            throw new DataFormatException(path, "row 1: expected the header 'index,noisy_label,true_label'");
        var noisy = new int[expectedCount];
        var truth = new int[expectedCount];
        bool hasTruth = true;
        int row = 1, count = 0;
        for (string? line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            row++;
            if (line.Length == 0) continue;
            string[] cells = line.Split(',');
            if (cells.Length != 3) throw new DataFormatException(path, $"row {row}: {cells.Length} columns, expected 3 (index, noisy_label, true_label)");
            if (!int.TryParse(cells[0], NumberStyles.None, CultureInfo.InvariantCulture, out int index) || index != count)
                throw new DataFormatException(path, $"row {row}: index '{cells[0]}', expected {count} (rows in index order)");
            if (count >= expectedCount) throw new DataFormatException(path, $"row {row}: more rows than the dataset's {expectedCount} samples");
            noisy[count] = ParseLabel(path, row, cells[1], classCount, "noisy_label");
            if (cells[2].Length == 0) hasTruth = false;
            else truth[count] = ParseLabel(path, row, cells[2], classCount, "true_label");
            if (datasetLabels is not null && cells[2].Length > 0 && truth[count] != datasetLabels[count])
                throw new DataFormatException(path, $"row {row}: true_label {truth[count]}, but image {count} is labeled {datasetLabels[count]} in the dataset; the file was made for other images");
            count++;
        }
        if (count != expectedCount)
            throw new DataFormatException(path, $"{(count == 0 ? "no rows after the header" : $"{count} rows")}, expected {expectedCount} (one per sample of the dataset)");
        return new NoisyLabelSet(noisy, hasTruth ? truth : null, classCount, $"loaded from {Path.GetFileName(path)}");
    }

    private static int ParseLabel(string path, int row, string cell, int classCount, string column)
    {
        if (!int.TryParse(cell, NumberStyles.None, CultureInfo.InvariantCulture, out int v) || v >= classCount)
            throw new DataFormatException(path, $"row {row}: {column} '{cell}' is not a class index in 0..{classCount - 1}");
        return v;
    }

    /// <summary>Statistics of the noise: needs the true labels.</summary>
    public NoiseSummary Summarize()
    {
        if (True is null) throw new WinnowException("the true labels are unknown, so the noise cannot be summarised");
        var counts = new long[ClassCount, ClassCount];
        for (int i = 0; i < Count; i++) counts[True[i], Noisy[i]]++;
        return new NoiseSummary(counts);
    }
}

/// <summary>What a set of noisy labels looks like against the true ones.</summary>
public sealed class NoiseSummary
{
    /// <summary>Builds the summary from a count matrix: rows are true classes, columns noisy ones.</summary>
    public NoiseSummary(long[,] counts)
    {
        Counts = counts;
        int c = counts.GetLength(0);
        Transition = new double[c, c];
        PerClassNoiseRate = new double[c];
        long total = 0, wrong = 0;
        for (int t = 0; t < c; t++)
        {
            long row = 0;
            for (int k = 0; k < c; k++) row += counts[t, k];
            for (int k = 0; k < c; k++) Transition[t, k] = row == 0 ? 0 : (double)counts[t, k] / row;
            PerClassNoiseRate[t] = row == 0 ? 0 : 1 - (double)counts[t, t] / row;
            total += row;
            wrong += row - counts[t, t];
        }
        NoiseRate = total == 0 ? 0 : (double)wrong / total;
    }

    /// <summary>Samples per (true, noisy) class pair.</summary>
    public long[,] Counts { get; }

    /// <summary>The empirical transition matrix: P(noisy = k | true = t), rows summing to one.</summary>
    public double[,] Transition { get; }

    /// <summary>The fraction of all labels that are wrong.</summary>
    public double NoiseRate { get; }

    /// <summary>The fraction of wrong labels among the samples of each true class.</summary>
    public double[] PerClassNoiseRate { get; }
}
