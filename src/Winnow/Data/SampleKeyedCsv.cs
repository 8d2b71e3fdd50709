using System.Globalization;
using CsvHelper;
using CsvHelper.Configuration;

namespace Winnow.Data;

/// <summary>
/// Reading of CSV files whose first column names a sample of a dataset, by its index or, for image folders, by its
/// path relative to the folder's root (label files, exclusion lists).
/// </summary>
internal sealed class SampleKeyedCsv
{
    private readonly string path;
    private readonly ImageDataset dataset;
    private readonly Dictionary<string, int>? byPath;

    /// <summary>First cells that make the first row a header (case-insensitive).</summary>
    private static readonly string[] HeaderKeys = ["path", "file", "index"];

    /// <summary>
    /// Reads <paramref name="csvPath"/> and keys its rows to the samples of <paramref name="dataset"/>; a missing file is
    /// an error that names it as <paramref name="kind"/> ("label file", "exclusion file").
    /// </summary>
    public SampleKeyedCsv(string csvPath, ImageDataset dataset, string kind)
    {
        if (!File.Exists(csvPath)) throw new DataFormatException(csvPath, $"{kind} not found");
        path = csvPath;
        this.dataset = dataset;
        byPath = dataset.ItemPaths?.Select((p, i) => (p, i)).ToDictionary(t => t.p, t => t.i, StringComparer.Ordinal);
        var config = new CsvConfiguration(CultureInfo.InvariantCulture) { HasHeaderRecord = false, TrimOptions = TrimOptions.Trim, BadDataFound = null, IgnoreBlankLines = false }; // blank lines counted, so rows are line numbers
        using var reader = new StreamReader(path);
        using var csv = new CsvParser(reader, config);
        var rows = new List<(int Row, string[] Cells)>();
        for (int row = 1; csv.Read(); row++)
        {
            string[] cells = csv.Record ?? [];
            if (cells.All(c => c.Length == 0)) continue;
            if (row == 1 && HeaderKeys.Contains(cells[0], StringComparer.OrdinalIgnoreCase)) Header = cells;
            else rows.Add((row, cells));
        }
        Rows = rows;
    }

    /// <summary>The header row's cells (a first row whose first cell is "path", "file" or "index"); null when there is none.</summary>
    public string[]? Header { get; }

    /// <summary>The rows after any header, with their 1-based line numbers, trimmed; rows with no text left out.</summary>
    public IReadOnlyList<(int Row, string[] Cells)> Rows { get; }

    /// <summary>The index of the sample that <paramref name="key"/> (row <paramref name="row"/>'s first cell) names.</summary>
    public int Sample(int row, string key)
    {
        if (int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out int index))
        {
            if (index >= dataset.Count) throw new DataFormatException(path, $"row {row}: index {index} is outside 0..{dataset.Count - 1}");
            return index;
        }
        if (byPath is not null && byPath.TryGetValue(key.Replace('\\', '/'), out int found)) return found;
        throw new DataFormatException(path, byPath is null
            ? $"row {row}: '{key}' is not an image index (0..{dataset.Count - 1})"
            : $"row {row}: '{key}' is neither an image index nor the relative path of an image in the folder");
    }
}
