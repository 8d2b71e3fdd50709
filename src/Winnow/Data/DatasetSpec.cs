namespace Winnow.Data;

/// <summary>The dataset formats Winnow reads.</summary>
public enum DatasetKind
{
    /// <summary>Fashion-MNIST IDX files (the default; Debian's dataset-fashion-mnist).</summary>
    FashionMnist,
    /// <summary>MNIST IDX files.</summary>
    Mnist,
    /// <summary>CIFAR-10, binary version.</summary>
    Cifar10,
    /// <summary>An image folder root/&lt;class&gt;/&lt;image&gt;.</summary>
    Folder,
}

/// <summary>
/// Where a run's training and test images come from; stored in options.json so that the run can be repeated.
/// </summary>
public sealed record DatasetSpec
{
    /// <summary>The format.</summary>
    public DatasetKind Kind { get; init; } = DatasetKind.FashionMnist;

    /// <summary>The folder of the files (IDX, CIFAR-10 batches) or the training image folder; null uses the default location.</summary>
    public string? Path { get; init; }

    /// <summary>For image folders: the test image folder (same class sub-folders).</summary>
    public string? TestPath { get; init; }

    /// <summary>For image folders: resize to Size × Size.</summary>
    public int? ImageSize { get; init; }

    /// <summary>For image folders: 1 (grey) or 3 (RGB); null means 3. The built-in datasets have their own (and ignore it).</summary>
    public int? Channels { get; init; }

    /// <summary>A CSV label file (path or index, label) that replaces the training labels.</summary>
    public string? LabelFile { get; init; }

    /// <summary>The folder actually read.</summary>
    public string ResolvedPath => Path ?? Kind switch
    {
        DatasetKind.FashionMnist => MnistFamily.DefaultFashionMnistFolder,
        DatasetKind.Mnist => "/usr/share/datasets/mnist",
        _ => throw new WinnowException($"dataset '{Kind}' needs a path (--data)"),
    };

    /// <summary>Loads the training set; an empty one is an error naming its folder.</summary>
    public ImageDataset LoadTrain()
    {
        var train = RequireImages(Load(ResolvedPath, train: true), ResolvedPath, "training");
        return LabelFile is null ? train : Winnow.Data.LabelFile.Apply(train, LabelFile);
    }

    /// <summary>Loads the test set, normalised like the training set; an empty one is an error naming its folder.</summary>
    public ImageDataset LoadTest(ImageDataset train)
    {
        if (Kind == DatasetKind.Folder)
        {
            if (TestPath is null) throw new WinnowException("an image-folder dataset needs a test folder (--test-data)");
            var test = RequireImages(Load(TestPath, train: false), TestPath, "test");
            if (!test.ClassNames.SequenceEqual(train.ClassNames))
                throw new DataFormatException(TestPath, $"class folders ({string.Join(", ", test.ClassNames)}) differ from the training folder's ({string.Join(", ", train.ClassNames)})");
            if (test.Height != train.Height || test.Width != train.Width)
                throw new DataFormatException(TestPath, $"images are {test.Width}x{test.Height}, the training folder's {train.Width}x{train.Height}; pass --image-size to resize both");
            return test.WithNormalization(train.Normalization);
        }
        return RequireImages(Load(ResolvedPath, train: false), ResolvedPath, "test");
    }

    /// <summary>
    /// <paramref name="dataset"/>, read from <paramref name="path"/> as the <paramref name="split"/> set, if it holds an
    /// image. The readers refuse empty files and folders themselves, naming the file; this is the check for every format.
    /// </summary>
    internal static ImageDataset RequireImages(ImageDataset dataset, string path, string split) =>
        dataset.Count > 0 ? dataset : throw new DataFormatException(path, $"the {split} set holds 0 images; expected at least one");

    private ImageDataset Load(string path, bool train) => Kind switch
    {
        DatasetKind.FashionMnist => MnistFamily.LoadFashionMnist(path, train),
        DatasetKind.Mnist => MnistFamily.LoadMnist(path, train),
        DatasetKind.Cifar10 => Cifar10Reader.Load(path, train),
        DatasetKind.Folder => ImageFolderReader.Load(path, new ImageFolderOptions { Size = ImageSize, Channels = Channels ?? 3 }),
        _ => throw new ArgumentOutOfRangeException(nameof(Kind)),
    };
}

/// <summary>How a run's training labels are made: synthetic noise on the true labels, or read from a file.</summary>
public sealed record NoiseSpec
{
    /// <summary>The kind of synthetic noise.</summary>
    public NoiseKind Kind { get; init; } = NoiseKind.None;

    /// <summary>The noise rate.</summary>
    public double Rate { get; init; }

    /// <summary>Symmetric noise: whether the redrawn label may be the true one (DivideMix convention: yes).</summary>
    public bool IncludeTrueClass { get; init; } = true;

    /// <summary>Seed of the noise (DivideMix's is 123).</summary>
    public int Seed { get; init; } = 123;

    /// <summary>A noisy-label CSV written by Winnow (index, noisy_label, true_label) to use instead of making noise.</summary>
    public string? File { get; init; }

    /// <summary>The training labels for <paramref name="train"/>.</summary>
    public NoisyLabelSet Create(ImageDataset train, bool trueLabelsKnown)
    {
        if (File is not null) return NoisyLabelSet.Load(File, train.Count, train.ClassCount, trueLabelsKnown ? train.Labels : null);
        var set = NoisyLabelSet.Create(train, LabelNoiseFactory.Create(Kind, Rate, train, IncludeTrueClass), Seed);
        return trueLabelsKnown || Kind != NoiseKind.None ? set : new NoisyLabelSet(set.Noisy, null, set.ClassCount, "user-supplied labels (truth unknown)");
    }
}
