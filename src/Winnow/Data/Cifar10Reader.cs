namespace Winnow.Data;

/// <summary>
/// Reads the binary version of CIFAR-10 (data_batch_1.bin … data_batch_5.bin, test_batch.bin): records of
/// one label byte followed by 3072 pixel bytes (1024 red, 1024 green, 1024 blue, row-major 32×32).
/// </summary>
public static class Cifar10Reader
{
    private const int RecordSize = 1 + 3 * 32 * 32;

    /// <summary>CIFAR-10's class names.</summary>
    public static IReadOnlyList<string> Classes { get; } =
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    /// <summary>Loads the 50,000 training images (five batches) or the 10,000 test images from <paramref name="folder"/>.</summary>
    public static ImageDataset Load(string folder, bool train)
    {
        if (!Directory.Exists(folder)) throw new DataFormatException(folder, "folder not found; expected CIFAR-10's binary batches (data_batch_1.bin … test_batch.bin)");
        string[] files = train
            ? Enumerable.Range(1, 5).Select(i => Path.Combine(folder, $"data_batch_{i}.bin")).ToArray()
            : [Path.Combine(folder, "test_batch.bin")];
        var pixels = new List<byte[]>();
        var labels = new List<int>();
        foreach (string file in files) ReadBatch(file, pixels, labels);
        byte[] all = new byte[(long)labels.Count * 3072];
        for (int i = 0; i < pixels.Count; i++) pixels[i].CopyTo(all, (long)i * 3072);
        return new ImageDataset($"cifar10/{(train ? "train" : "test")}", all, labels.ToArray(), 3, 32, 32, Classes, Normalization.Cifar10);
    }

    /// <summary>Reads one batch file, appending its images and labels.</summary>
    internal static void ReadBatch(string file, List<byte[]> pixels, List<int> labels)
    {
        if (!File.Exists(file)) throw new DataFormatException(file, "file not found");
        byte[] data = File.ReadAllBytes(file);
        if (data.Length == 0) throw new DataFormatException(file, $"is empty (0 records); expected at least one {RecordSize}-byte record (1 label byte + 3072 pixels)");
        if (data.Length % RecordSize != 0)
            throw new DataFormatException(file, $"{data.Length} bytes is not a whole number of {RecordSize}-byte records (1 label byte + 3072 pixels); the file is truncated or not CIFAR-10's binary version");
        int n = data.Length / RecordSize;
        for (int i = 0; i < n; i++)
        {
            int label = data[i * RecordSize];
            if (label >= 10) throw new DataFormatException(file, $"label {label} of record {i} is outside 0..9");
            labels.Add(label);
            pixels.Add(data.AsSpan(i * RecordSize + 1, 3072).ToArray());
        }
    }
}
