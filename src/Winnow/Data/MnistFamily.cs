namespace Winnow.Data;

/// <summary>
/// Loads MNIST-format datasets (Fashion-MNIST, MNIST) from a folder of IDX files named as the originals
/// (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-…).
/// </summary>
public static class MnistFamily
{
    /// <summary>Where Debian's package dataset-fashion-mnist puts Fashion-MNIST.</summary>
    public const string DefaultFashionMnistFolder = "/usr/share/datasets/fashion-mnist";

    /// <summary>Fashion-MNIST's ten class names.</summary>
    public static IReadOnlyList<string> FashionMnistClasses { get; } =
        ["t-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle boot"];

    /// <summary>MNIST's ten class names.</summary>
    public static IReadOnlyList<string> DigitClasses { get; } = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    /// <summary>Loads the training or test split of Fashion-MNIST.</summary>
    public static ImageDataset LoadFashionMnist(string folder, bool train) =>
        Load(folder, train, "fashion-mnist", FashionMnistClasses, Normalization.FashionMnist);

    /// <summary>Loads the training or test split of MNIST.</summary>
    public static ImageDataset LoadMnist(string folder, bool train) =>
        Load(folder, train, "mnist", DigitClasses, Normalization.Mnist);

    private static ImageDataset Load(string folder, bool train, string name, IReadOnlyList<string> classes, Normalization norm)
    {
        if (!Directory.Exists(folder))
            throw new DataFormatException(folder, $"folder not found; expected the {name} IDX files there" +
                (folder == DefaultFashionMnistFolder ? " (install Debian's package dataset-fashion-mnist)" : ""));
        string prefix = train ? "train" : "t10k";
        string images = Find(folder, $"{prefix}-images-idx3-ubyte");
        string labelsPath = Find(folder, $"{prefix}-labels-idx1-ubyte");
        var (pixels, count, h, w) = IdxReader.ReadImages(images);
        int[] labels = IdxReader.ReadLabels(labelsPath, classes.Count);
        if (labels.Length != count)
            throw new DataFormatException(labelsPath, $"{labels.Length} labels, expected {count} to match {Path.GetFileName(images)}");
        return new ImageDataset($"{name}/{(train ? "train" : "test")}", pixels, labels, 1, h, w, classes, norm);
    }

    private static string Find(string folder, string stem)
    {
        foreach (string candidate in new[] { stem, stem + ".gz", stem.Replace("-idx", ".idx"), stem.Replace("-idx", ".idx") + ".gz" })
        {
            string p = Path.Combine(folder, candidate);
            if (File.Exists(p)) return p;
        }
        throw new DataFormatException(Path.Combine(folder, stem + ".gz"), "file not found (looked for the plain and gzipped IDX file)");
    }
}
