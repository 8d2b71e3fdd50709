using System.Globalization;

namespace Winnow.Data;

/// <summary>
/// A CSV label file that replaces a dataset's labels: one row per image, two columns, (path or index, label).
/// The key is either the image's index in the dataset or, for image folders, its path relative to the folder's
/// root. The label is a class index or a class name. A first row whose key is "path", "file" or "index" is a header.
/// Every image must be listed exactly once.
/// </summary>
public static class LabelFile
{
    /// <summary>Returns the dataset with the labels read from <paramref name="csvPath"/>.</summary>
    public static ImageDataset Apply(ImageDataset dataset, string csvPath)
    {
        var byName = dataset.ClassNames.Select((n, i) => (n, i)).ToDictionary(t => t.n, t => t.i, StringComparer.OrdinalIgnoreCase);
        var labels = new int[dataset.Count];
        var seenRow = new int[dataset.Count];
        var file = new SampleKeyedCsv(csvPath, dataset, "label file");
        int labelRows = 0;
        foreach (var (row, cells) in file.Rows("path", "file", "index"))
        {
            labelRows++;
            if (cells.Length != 2) throw new DataFormatException(csvPath, $"row {row}: {cells.Length} columns, expected 2 (path or index, label)");
            int index = file.Sample(row, cells[0]);
            int label;
            if (int.TryParse(cells[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int l))
            {
                if ((uint)l >= (uint)dataset.ClassCount) throw new DataFormatException(csvPath, $"row {row}: label {l} is outside 0..{dataset.ClassCount - 1}");
                label = l;
            }
            else if (!byName.TryGetValue(cells[1], out label))
                throw new DataFormatException(csvPath, $"row {row}: label '{cells[1]}' is neither a class index nor one of the class names ({string.Join(", ", dataset.ClassNames)})");
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
