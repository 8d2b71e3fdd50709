namespace Winnow.Data;

/// <summary>
/// A labeled image set held compactly in memory: one byte per pixel and channel, images stored one after the
/// other in channel-height-width order. Images become floats only batch by batch, when they are normalised.
/// </summary>
public sealed class ImageDataset
{
    /// <summary>Creates a dataset after checking that pixels, labels and class names agree.</summary>
    /// <param name="name">A short name, e.g. "fashion-mnist/train".</param>
    /// <param name="pixels">Count × channels × height × width bytes.</param>
    /// <param name="labels">One label per image, each in [0, classNames.Count).</param>
    /// <param name="channels">1 (grey) or 3 (RGB).</param>
    /// <param name="height">Image height in pixels.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="classNames">The class names, indexed by label.</param>
    /// <param name="normalization">Per-channel mean and standard deviation, on the [0, 1] pixel scale.</param>
    /// <param name="itemPaths">For sets read from files one image each, the image's path relative to the set's root.</param>
    public ImageDataset(string name, byte[] pixels, int[] labels, int channels, int height, int width,
        IReadOnlyList<string> classNames, Normalization normalization, IReadOnlyList<string>? itemPaths = null)
    {
        if (itemPaths is not null && itemPaths.Count != labels.Length)
            throw new ArgumentException($"{name}: {itemPaths.Count} paths for {labels.Length} images");
        if (channels is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(channels), "channels must be 1 or 3");
        if (height <= 0 || width <= 0) throw new ArgumentOutOfRangeException(nameof(height), "image size must be positive");
        long per = (long)channels * height * width;
        if (pixels.LongLength != per * labels.Length)
            throw new ArgumentException($"{name}: {pixels.LongLength} pixel bytes do not make {labels.Length} images of {channels}x{height}x{width}");
        if (normalization.Mean.Length != channels || normalization.Std.Length != channels)
            throw new ArgumentException($"{name}: normalisation must have {channels} channel(s)");
        for (int i = 0; i < labels.Length; i++)
            if ((uint)labels[i] >= (uint)classNames.Count)
                throw new ArgumentException($"{name}: label {labels[i]} of image {i} is outside 0..{classNames.Count - 1}");
        Name = name;
        Pixels = pixels;
        Labels = labels;
        Channels = channels;
        Height = height;
        Width = width;
        ClassNames = classNames;
        Normalization = normalization;
        ItemPaths = itemPaths;
    }

    /// <summary>Each image's path relative to the set's root, for sets read from an image folder; otherwise null.</summary>
    public IReadOnlyList<string>? ItemPaths { get; }

    /// <summary>A short name for messages and output files.</summary>
    public string Name { get; }

    /// <summary>All images, Count × Channels × Height × Width bytes.</summary>
    public byte[] Pixels { get; }

    /// <summary>The label of each image, as read from its source (the clean labels for benchmark sets).</summary>
    public int[] Labels { get; }

    /// <summary>Number of images.</summary>
    public int Count => Labels.Length;

    /// <summary>Channels per image (1 or 3).</summary>
    public int Channels { get; }

    /// <summary>Image height in pixels.</summary>
    public int Height { get; }

    /// <summary>Image width in pixels.</summary>
    public int Width { get; }

    /// <summary>Bytes per image.</summary>
    public int ImageSize => Channels * Height * Width;

    /// <summary>Class names, indexed by label.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Number of classes.</summary>
    public int ClassCount => ClassNames.Count;

    /// <summary>Per-channel mean and standard deviation used to normalise pixels.</summary>
    public Normalization Normalization { get; }

    /// <summary>The bytes of image <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> Image(int index) => Pixels.AsSpan(index * ImageSize, ImageSize);

    /// <summary>The same images with other labels (for example noisy ones).</summary>
    public ImageDataset WithLabels(int[] labels, string? name = null)
    {
        if (labels.Length != Count) throw new ArgumentException($"{Name}: {labels.Length} labels given for {Count} images");
        return new ImageDataset(name ?? Name, Pixels, labels, Channels, Height, Width, ClassNames, Normalization, ItemPaths);
    }

    /// <summary>The same images and labels, normalised with other statistics.</summary>
    public ImageDataset WithNormalization(Normalization normalization) =>
        new(Name, Pixels, Labels, Channels, Height, Width, ClassNames, normalization, ItemPaths);

    /// <summary>The images at <paramref name="indices"/>, copied into a new set.</summary>
    public ImageDataset Subset(IReadOnlyList<int> indices, string? name = null)
    {
        var pixels = new byte[(long)indices.Count * ImageSize];
        var labels = new int[indices.Count];
        for (int i = 0; i < indices.Count; i++)
        {
            int src = indices[i];
            if ((uint)src >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(indices), $"index {src} outside 0..{Count - 1}");
            Image(src).CopyTo(pixels.AsSpan(i * ImageSize, ImageSize));
            labels[i] = Labels[src];
        }
        return new ImageDataset(name ?? Name, pixels, labels, Channels, Height, Width, ClassNames, Normalization,
            ItemPaths is null ? null : indices.Select(i => ItemPaths[i]).ToArray());
    }

    /// <summary>Per-channel mean and standard deviation of this set's pixels on the [0, 1] scale.</summary>
    public Normalization ComputeNormalization()
    {
        var sum = new double[Channels];
        var sq = new double[Channels];
        int plane = Height * Width;
        for (int i = 0; i < Count; i++)
        {
            var img = Image(i);
            for (int c = 0; c < Channels; c++)
            {
                long s = 0, q = 0;
                foreach (byte b in img.Slice(c * plane, plane)) { s += b; q += b * b; }
                sum[c] += s;
                sq[c] += q;
            }
        }
        double n = (double)Count * plane;
        var mean = new float[Channels];
        var std = new float[Channels];
        for (int c = 0; c < Channels; c++)
        {
            double m = sum[c] / n / 255.0;
            double v = sq[c] / n / (255.0 * 255.0) - m * m;
            mean[c] = (float)m;
            std[c] = (float)Math.Sqrt(Math.Max(v, 1e-12));
        }
        return new Normalization(mean, std);
    }
}

/// <summary>Per-channel mean and standard deviation on the [0, 1] pixel scale.</summary>
/// <param name="Mean">Mean per channel.</param>
/// <param name="Std">Standard deviation per channel.</param>
public sealed record Normalization(float[] Mean, float[] Std)
{
    /// <summary>Fashion-MNIST's customary values (mean 0.2860, std 0.3530).</summary>
    public static Normalization FashionMnist { get; } = new([0.2860f], [0.3530f]);

    /// <summary>MNIST's customary values (mean 0.1307, std 0.3081).</summary>
    public static Normalization Mnist { get; } = new([0.1307f], [0.3081f]);

    /// <summary>CIFAR-10's values as DivideMix uses them.</summary>
    public static Normalization Cifar10 { get; } = new([0.4914f, 0.4822f, 0.4465f], [0.2023f, 0.1994f, 0.2010f]);
}
