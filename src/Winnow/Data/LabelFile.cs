using System.Globalization;

namespace Winnow.Data;

/// <summary>
/// A CSV label file that replaces a dataset's labels: one row per image, two columns, (path or index, label).
/// The key is either the image's index in the dataset or, for image folders, its path relative to the folder's
/// root. The label is a class name (exact, or differing in case only when no other class matches so) or a class
/// index (what Winnow's own files hold). A first row whose key is "path", "file" or "index" is a header; its second
/// cell may say how labels are read: "class_name" (names only) or "class_index" (indices only). Without that, a label
/// that is both a class's name and another class's index (folders "1", "2", ...: is "1" the folder 1 or index 1?) is
/// an error that asks for the header. Every image must be listed exactly once.
/// </summary>
public static class LabelFile
{
    private enum Reading { Either, Names, Indices }

    /// <summary>Returns the dataset with the labels read from <paramref name="csvPath"/>.</summary>
    public static ImageDataset Apply(ImageDataset dataset, string csvPath)
    {
        var exact = dataset.ClassNames.Select((n, i) => (n, i)).ToDictionary(t => t.n, t => t.i, StringComparer.Ordinal);
        // Names that differ only in case (folders "Cat" and "cat") match only exactly.
        var ignoringCase = dataset.ClassNames.Select((n, i) => (n, i)).GroupBy(t => t.n, StringComparer.OrdinalIgnoreCase)
            .Where(g => g.Count() == 1).ToDictionary(g => g.Key, g => g.First().i, StringComparer.OrdinalIgnoreCase);
        var labels = new int[dataset.Count];
        var seenRow = new int[dataset.Count];
        var file = new SampleKeyedCsv(csvPath, dataset, "label file");
        var reading = file.Header is [_, var column, ..] ? column.ToLowerInvariant() switch
        {
            "class_name" => Reading.Names,
            "class_index" => Reading.Indices,
            _ => Reading.Either,
        } : Reading.Either;
        foreach (var (row, cells) in file.Rows)
        {
            if (cells.Length != 2) throw new DataFormatException(csvPath, $"row {row}: {cells.Length} columns, expected 2 (path or index, label)");
            int index = file.Sample(row, cells[0]);
            int? byName = reading == Reading.Indices ? null
                : exact.TryGetValue(cells[1], out int n) || ignoringCase.TryGetValue(cells[1], out n) ? n : null;
            int? byIndex = reading != Reading.Names && int.TryParse(cells[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int k) ? k : null;
            if (byIndex is int outside && (uint)outside >= (uint)dataset.ClassCount)
            {
                if (byName is null) throw new DataFormatException(csvPath, $"row {row}: label {outside} is outside 0..{dataset.ClassCount - 1}");
                byIndex = null;
            }
            if (byName is int name && byIndex is int number && name != number)
                throw new DataFormatException(csvPath, $"row {row}: label '{cells[1]}' is the class named {cells[1]} (index {name}) and the class at index {number} ({dataset.ClassNames[number]}); give the header 'path,class_name' or 'path,class_index' to say which");
            labels[index] = byName ?? byIndex ?? throw new DataFormatException(csvPath, reading switch
            {
                Reading.Names => $"row {row}: label '{cells[1]}' is not one of the class names ({string.Join(", ", dataset.ClassNames)})",
                Reading.Indices => $"row {row}: label '{cells[1]}' is not a class index in 0..{dataset.ClassCount - 1}",
                _ => $"row {row}: label '{cells[1]}' is neither a class index nor one of the class names ({string.Join(", ", dataset.ClassNames)})",
            });
            if (seenRow[index] != 0) throw new DataFormatException(csvPath, $"row {row}: image {index} was already labeled on row {seenRow[index]}");
            seenRow[index] = row;
        }
        if (file.Rows.Count == 0)
            throw new DataFormatException(csvPath, $"holds no label rows; expected one row (path or index, label) for each of the {dataset.Count} images");
        int missing = Array.IndexOf(seenRow, 0);
        if (missing >= 0)
            throw new DataFormatException(csvPath, $"image {missing}{(dataset.ItemPaths is null ? "" : $" ({dataset.ItemPaths[missing]})")} has no row; every image needs a label");
        return dataset.WithLabels(labels);
    }
}
