using System.Globalization;
using System.Text;

namespace Winnow.Data;

/// <summary>
/// Training samples to leave out: a CSV whose first column names a sample by its index in the training set or, for
/// image folders, by its path relative to the folder's root; further columns are ignored, so a filtered
/// noisy_labels.csv or a list of likely label issues serves as it is, and a label_issues.csv (which lists every
/// sample) leaves out the rows whose is_label_issue is True. A first row whose first cell is "index", "path" or
/// "file" is a header. Retraining without the samples found mislabeled is the usual next step after
/// detection (cleanlab's workflow).
/// </summary>
public static class SampleExclusion
{
    /// <summary>The column of label_issues.csv that says whether a sample is flagged; a file with it leaves out only the flagged rows.</summary>
    public const string FlagColumn = "is_label_issue";

    /// <summary>The distinct indices listed in <paramref name="csvPath"/>, sorted, checked against <paramref name="dataset"/>.</summary>
    public static int[] Read(string csvPath, ImageDataset dataset)
    {
        var listed = new SortedSet<int>();
        var file = new SampleKeyedCsv(csvPath, dataset, "exclusion file");
        // A file that names each sample twice, by index and by path (label_issues.csv of an image folder), must name the
        // same image both ways: images added to or removed from the folder since shift the indices.
        int pathColumn = file.Header is { } header ? Array.FindIndex(header, h => h.Equals("path", StringComparison.OrdinalIgnoreCase)) : -1;
        // label_issues.csv lists every sample: only those it flags are left out.
        int flagColumn = file.Header is { } h2 ? Array.FindIndex(h2, h => h.Equals(FlagColumn, StringComparison.OrdinalIgnoreCase)) : -1;
        foreach (var (row, cells) in file.Rows)
        {
            int sample = file.Sample(row, cells[0]);
            if (flagColumn > 0)
            {
                string flag = flagColumn < cells.Length ? cells[flagColumn] : "";
                if (flag.Equals("False", StringComparison.OrdinalIgnoreCase)) continue;
                if (!flag.Equals("True", StringComparison.OrdinalIgnoreCase))
                    throw new DataFormatException(csvPath, $"row {row}: {FlagColumn} is '{flag}'; expected True or False");
            }
            if (pathColumn > 0 && dataset.ItemPaths is { } paths && pathColumn < cells.Length && file.Sample(row, cells[pathColumn]) != sample)
                throw new DataFormatException(csvPath, $"row {row}: index {sample} is the image {paths[sample]}, but the row's path is {cells[pathColumn]}; the folder changed since the file was written");
            listed.Add(sample);
        }
        if (listed.Count == dataset.Count) throw new DataFormatException(csvPath, $"lists all {dataset.Count} training samples; nothing would be left to train on");
        return [.. listed];
    }

    /// <summary>The indices of <paramref name="count"/> samples that <paramref name="excluded"/> (sorted) does not hold.</summary>
    public static int[] Kept(int count, int[] excluded)
    {
        var drop = new HashSet<int>(excluded);
        return Enumerable.Range(0, count).Where(i => !drop.Contains(i)).ToArray();
    }

    /// <summary>Writes <paramref name="indices"/> as a one-column CSV with the header "index", atomically.</summary>
    public static void Save(string path, IEnumerable<int> indices)
    {
        var sb = new StringBuilder("index\n");
        foreach (int i in indices) sb.Append(i.ToString(CultureInfo.InvariantCulture)).Append('\n');
        AtomicFile.WriteAllText(path, sb.ToString());
    }
}
