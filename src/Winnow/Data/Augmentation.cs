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
/// The standard CIFAR training augmentation: pad by <see cref="Padding"/> pixels with zeros, take a random crop of the
/// original size, flip horizontally with probability 0.5, then normalise. Padding is zero on the raw pixel scale
/// (as torchvision's RandomCrop before ToTensor/Normalize).
/// </summary>
/// <param name="Padding">Pixels of zero padding on each side before cropping.</param>
/// <param name="HorizontalFlip">Whether to flip half of the images.</param>
public sealed record RandomCropFlip(int Padding, bool HorizontalFlip = true) : IImageTransform
{
    /// <inheritdoc/>
    public void Apply(ReadOnlySpan<byte> source, Span<float> destination, int channels, int height, int width, Normalization normalization, Random rng)
    {
        int dy = rng.Next(2 * Padding + 1) - Padding, dx = rng.Next(2 * Padding + 1) - Padding;
        bool flip = HorizontalFlip && rng.Next(2) == 1;
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
                if ((uint)sy >= (uint)height) { row.Fill(-shift); continue; }
                for (int x = 0; x < width; x++)
                {
                    int sx = (flip ? width - 1 - x : x) + dx;
                    row[x] = (uint)sx >= (uint)width ? -shift : src[sy * width + sx] * scale - shift;
                }
            }
        }
    }
}
