using SkiaSharp;
using Winnow.Data;

namespace Winnow.Analysis;

/// <summary>Small PNG pictures of a dataset's images: grey for one channel, colour for three.</summary>
public static class ImageThumbnail
{
    /// <summary>
    /// Image <paramref name="index"/> of <paramref name="dataset"/> as a PNG whose longer side is about
    /// <paramref name="size"/> pixels: small images are enlarged by a whole factor with nearest-neighbour sampling
    /// (28 px → 56 px), so that their pixels stay sharp; larger ones are reduced by nearest-neighbour sampling.
    /// </summary>
    public static byte[] Png(ImageDataset dataset, int index, int size = 56)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        int h = dataset.Height, w = dataset.Width, channels = dataset.Channels;
        int longer = Math.Max(h, w);
        int outH, outW;
        if (longer <= size)
        {
            int factor = size / longer;
            (outH, outW) = (h * factor, w * factor);
        }
        else (outH, outW) = (Math.Max(1, h * size / longer), Math.Max(1, w * size / longer));

        var source = dataset.Image(index);
        int plane = h * w;
        int outChannels = channels == 1 ? 1 : 4;
        var pixels = new byte[outH * outW * outChannels];
        for (int y = 0; y < outH; y++)
        {
            int sy = y * h / outH;
            for (int x = 0; x < outW; x++)
            {
                int s = sy * w + x * w / outW;
                int o = (y * outW + x) * outChannels;
                if (channels == 1) pixels[o] = source[s];
                else
                {
                    pixels[o] = source[s];
                    pixels[o + 1] = source[plane + s];
                    pixels[o + 2] = source[2 * plane + s];
                    pixels[o + 3] = 255;
                }
            }
        }
        var info = new SKImageInfo(outW, outH, channels == 1 ? SKColorType.Gray8 : SKColorType.Rgba8888, SKAlphaType.Opaque);
        using var image = SKImage.FromPixelCopy(info, pixels, outW * outChannels)
            ?? throw new InvalidOperationException($"could not make a {outW}x{outH} picture of image {index}");
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        return png.ToArray();
    }
}
