using SkiaSharp;
using Winnow.Analysis;
using Winnow.Data;

namespace Winnow.Tests.Analysis;

public class ImageThumbnailTests
{
    [Fact]
    public void GreyImagesAreEnlargedByAWholeFactorWithSharpPixels()
    {
        // 28×28 grey image, left half black, right half white.
        var pixels = new byte[28 * 28];
        for (int y = 0; y < 28; y++) for (int x = 14; x < 28; x++) pixels[y * 28 + x] = 255;
        var ds = new ImageDataset("grey", pixels, [0], 1, 28, 28, ["a"], new Normalization([0.5f], [0.5f]));
        using var bmp = SKBitmap.Decode(ImageThumbnail.Png(ds, 0));
        Assert.Equal((56, 56), (bmp.Width, bmp.Height));
        Assert.Equal(new SKColor(0, 0, 0), bmp.GetPixel(27, 10));
        Assert.Equal(new SKColor(255, 255, 255), bmp.GetPixel(28, 10));
    }

    [Fact]
    public void ColourImagesKeepTheirChannelsAndLargeOnesShrink()
    {
        // 3×100×50 image: red everywhere.
        var pixels = new byte[3 * 100 * 50];
        Array.Fill(pixels, (byte)255, 0, 100 * 50);
        var ds = new ImageDataset("colour", pixels, [0], 3, 100, 50, ["a"], new Normalization([0.5f, 0.5f, 0.5f], [0.5f, 0.5f, 0.5f]));
        using var bmp = SKBitmap.Decode(ImageThumbnail.Png(ds, 0));
        Assert.Equal((28, 56), (bmp.Width, bmp.Height));
        Assert.Equal(new SKColor(255, 0, 0), bmp.GetPixel(5, 5));
    }
}
