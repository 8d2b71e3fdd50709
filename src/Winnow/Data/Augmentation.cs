namespace Winnow.Data;

/// <summary>
/// Turns one stored image (bytes, channel-height-width) into a normalised float image of the same shape,
/// possibly transformed at random. Implementations must draw all randomness from the given generator, so that
/// a seeded generator makes the same views.
/// </summary>
public interface IImageTransform
{
    /// <summary>Writes the transformed, normalised image into <paramref name="destination"/>, every element of it (buffers are reused uncleared).</summary>
    void Apply(ReadOnlySpan<byte> source, Span<float> destination, int channels, int height, int width, Normalization normalization, Random rng);

    /// <summary>
    /// As <see cref="Apply(ReadOnlySpan{byte}, Span{float}, int, int, int, Normalization, Random)"/> for the image at
    /// <paramref name="index"/> in its dataset, for transforms whose choice depends on the image as well as on the
    /// generator (alternating flips); by default the index is not used.
    /// </summary>
    void Apply(ReadOnlySpan<byte> source, Span<float> destination, int channels, int height, int width, Normalization normalization, Random rng, int index) =>
        Apply(source, destination, channels, height, width, normalization, rng);
}

/// <summary>No augmentation: scale to [0, 1] and normalise (the test and eval-train transform).</summary>
public sealed class NormalizeOnly : IImageTransform
{
    /// <summary>The shared instance.</summary>
    public static NormalizeOnly Instance { get; } = new();

    /// <inheritdoc/>
    public void Apply(ReadOnlySpan<byte> source, Span<float> destination, int channels, int height, int width, Normalization normalization, Random rng)
    {
        int plane = height * width;
        for (int c = 0; c < channels; c++)
        {
            float scale = 1f / (255f * normalization.Std[c]), shift = normalization.Mean[c] / normalization.Std[c];
            var src = source.Slice(c * plane, plane);
            var dst = destination.Slice(c * plane, plane);
            for (int p = 0; p < plane; p++) dst[p] = src[p] * scale - shift;
        }
    }
}

/// <summary>
/// The standard CIFAR training augmentation: pad by <see cref="Padding"/> pixels, take a random crop of the original
/// size, flip horizontally, then normalise. Padding is zero on the raw pixel scale (as torchvision's RandomCrop before
/// ToTensor/Normalize), or with <see cref="ReflectPadding"/> the image mirrored at its border (airbench's translate).
/// Flips are random with probability 0.5 for each image and epoch, or with <see cref="AlternatingFlipEpoch"/> set,
/// airbench's alternating flips: image i is flipped in epoch e when a coin drawn once for it from
/// <see cref="FlipSeed"/> says so, and in every odd epoch the other way, so each image is seen both ways in
/// turn (a random flip shows some images the same way several epochs running).
/// </summary>
/// <param name="Padding">Pixels of padding on each side before cropping.</param>
/// <param name="HorizontalFlip">Whether to flip images.</param>
public sealed record RandomCropFlip(int Padding, bool HorizontalFlip = true) : IImageTransform
{
    /// <summary>Pad with the mirror image at the border (reflection without repeating the edge pixel) instead of zeros.</summary>
    public bool ReflectPadding { get; init; }

    /// <summary>The 0-based epoch of alternating flips; null flips at random.</summary>
    public int? AlternatingFlipEpoch { get; init; }

    /// <summary>The seed of each image's first-epoch flip under alternating flips.</summary>
    public int FlipSeed { get; init; }

    /// <inheritdoc/>
    public void Apply(ReadOnlySpan<byte> source, Span<float> destination, int channels, int height, int width, Normalization normalization, Random rng) =>
        Apply(source, destination, channels, height, width, normalization, rng, -1);

    /// <inheritdoc/>
    public void Apply(ReadOnlySpan<byte> source, Span<float> destination, int channels, int height, int width, Normalization normalization, Random rng, int index)
    {
        int dy = rng.Next(2 * Padding + 1) - Padding, dx = rng.Next(2 * Padding + 1) - Padding;
        // The generator is drawn exactly as before alternating flips existed (no coin without flips), so seeded runs repeat.
        bool flip = HorizontalFlip && (AlternatingFlipEpoch is { } epoch && index >= 0
            ? FirstFlip(FlipSeed, index) ^ (epoch % 2 == 1)
            : rng.Next(2) == 1);
        int plane = height * width;
        for (int c = 0; c < channels; c++)
        {
            float scale = 1f / (255f * normalization.Std[c]), shift = normalization.Mean[c] / normalization.Std[c];
            var src = source.Slice(c * plane, plane);
            var dst = destination.Slice(c * plane, plane);
            for (int y = 0; y < height; y++)
            {
                int sy = y + dy;
                var row = dst.Slice(y * width, width);
                if ((uint)sy >= (uint)height)
                {
                    if (!ReflectPadding) { row.Fill(-shift); continue; }
                    sy = Reflect(sy, height);
                }
                for (int x = 0; x < width; x++)
                {
                    int sx = (flip ? width - 1 - x : x) + dx;
                    if ((uint)sx >= (uint)width)
                    {
                        if (!ReflectPadding) { row[x] = -shift; continue; }
                        sx = Reflect(sx, width);
                    }
                    row[x] = src[sy * width + sx] * scale - shift;
                }
            }
        }
    }

    /// <summary>Image <paramref name="index"/>'s flip in epoch 0 under alternating flips: a coin from a SplitMix64 hash of the seed and the index.</summary>
    public static bool FirstFlip(int seed, int index)
    {
        ulong z = (ulong)(uint)seed * 0x9E3779B97F4A7C15UL + (ulong)(uint)index * 0xBF58476D1CE4E5B9UL + 0x94D049BB133111EBUL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return ((z ^ (z >> 31)) & 1) == 1;
    }

    /// <summary>Coordinate <paramref name="i"/> reflected into 0..n−1 without repeating the edge (−1 → 1, n → n − 2), as PyTorch's reflect padding.</summary>
    private static int Reflect(int i, int n)
    {
        if (n == 1) return 0;
        while ((uint)i >= (uint)n) i = i < 0 ? -i : 2 * (n - 1) - i;
        return i;
    }
}
