using System.Globalization;

namespace Winnow.Data;

/// <summary>
/// A CSV label file that replaces a dataset's labels: one row per image, two columns, (path or index, label).
/// The key is either the image's index in the dataset or, for image folders, its path relative to the folder's
/// root. The label is a class name (exact, or differing in case only when no other class matches so) or a class
/// index; when a class name is itself a number (folders "1", "2", ...), labels are read as class names only, so that
/// "1" never means the class at index 1. A first row whose key is "path", "file" or "index" is a header. Every image
/// must be listed exactly once.
/// </summary>
public static class LabelFile
{
    /// <summary>Returns the dataset with the labels read from <paramref name="csvPath"/>.</summary>
    public static ImageDataset Apply(ImageDataset dataset, string csvPath)
    {
        var exact = dataset.ClassNames.Select((n, i) => (n, i)).ToDictionary(t => t.n, t => t.i, StringComparer.Ordinal);
        // Names that differ only in case (folders "Cat" and "cat") match only exactly.
        var ignoringCase = dataset.ClassNames.Select((n, i) => (n, i)).GroupBy(t => t.n, StringComparer.OrdinalIgnoreCase)
            .Where(g => g.Count() == 1).ToDictionary(g => g.Key, g => g.First().i, StringComparer.OrdinalIgnoreCase);
        string? numericName = dataset.ClassNames.FirstOrDefault(n => int.TryParse(n, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _));
        var labels = new int[dataset.Count];
        var seenRow = new int[dataset.Count];
        var file = new SampleKeyedCsv(csvPath, dataset, "label file");
        int labelRows = 0;
        foreach (var (row, cells) in file.Rows("path", "file", "index"))
        {
            labelRows++;
            if (cells.Length != 2) throw new DataFormatException(csvPath, $"row {row}: {cells.Length} columns, expected 2 (path or index, label)");
            int index = file.Sample(row, cells[0]);
            if (!exact.TryGetValue(cells[1], out int label) && !ignoringCase.TryGetValue(cells[1], out label))
            {
                if (!int.TryParse(cells[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out label))
                    throw new DataFormatException(csvPath, $"row {row}: label '{cells[1]}' is neither a class index nor one of the class names ({string.Join(", ", dataset.ClassNames)})");
                if (numericName is not null)
                    throw new DataFormatException(csvPath, $"row {row}: label {label} is not a class name, and labels are read as class names because class '{numericName}' is a number ({string.Join(", ", dataset.ClassNames)})");
                if ((uint)label >= (uint)dataset.ClassCount) throw new DataFormatException(csvPath, $"row {row}: label {label} is outside 0..{dataset.ClassCount - 1}");
            }
            if (seenRow[index] != 0) throw new DataFormatException(csvPath, $"row {row}: image {index} was already labeled on row {seenRow[index]}");
            seenRow[index] = row;
            labels[index] = label;
        }
        if (labelRows == 0)
            throw new DataFormatException(csvPath, $"holds no label rows; expected one row (path or index, label) for each of the {dataset.Count} images");
        int missing = Array.IndexOf(seenRow, 0);
        if (missing >= 0)
            throw new DataFormatException(csvPath, $"image {missing}{(dataset.ItemPaths is null ? "" : $" ({dataset.ItemPaths[missing]})")} has no row; every image needs a label");
        return dataset.WithLabels(labels);
    }
}
