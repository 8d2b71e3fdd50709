using System.Buffers.Binary;
using System.IO.Compression;
using Winnow.Data;

namespace Winnow.Tests;

/// <summary>Small datasets and files made on the fly.</summary>
internal static class TestData
{
    /// <summary>Asserts that <paramref name="html"/> embeds <paramref name="count"/> PNG images, each decodable and larger than 100×100 pixels.</summary>
    public static void AssertEmbeddedPlots(string html, int count)
    {
        const string prefix = "data:image/png;base64,";
        var pngs = html.Split(prefix).Skip(1).Select(part => Convert.FromBase64String(part[..part.IndexOf('"')])).ToArray();
        Xunit.Assert.Equal(count, pngs.Length);
        foreach (var png in pngs)
        {
            using var bitmap = SkiaSharp.SKBitmap.Decode(png);
            Xunit.Assert.NotNull(bitmap);
            Xunit.Assert.True(bitmap.Width > 100 && bitmap.Height > 100, $"a plot of {bitmap.Width}×{bitmap.Height} pixels");
        }
    }

    public static string TempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "winnow-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>
    /// A learnable set: class k is a bright horizontal bar at row 1 + k·(size−2)/classes over a noisy background.
    /// </summary>
    public static ImageDataset Bars(int count, int classes = 4, int size = 16, int seed = 0, string name = "bars")
    {
        var rng = new Random(seed);
        var pixels = new byte[count * size * size];
        var labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            int k = i % classes;
            labels[i] = k;
            int row = 1 + k * (size - 2) / classes;
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x++)
                {
                    int v = rng.Next(0, 60);
                    if (Math.Abs(y - row) <= 1) v += 150;
                    pixels[i * size * size + y * size + x] = (byte)Math.Min(255, v);
                }
        }
        var names = Enumerable.Range(0, classes).Select(c => $"class{c}").ToArray();
        return new ImageDataset(name, pixels, labels, 1, size, size, names, new Normalization([0.3f], [0.3f]));
    }

    /// <summary>
    /// A learnable colour set: class k has channel k % 3 bright over a noisy background, in the top half for k &lt; 3 and
    /// the bottom half otherwise.
    /// </summary>
    public static ImageDataset Colour(int count, int classes = 4, int size = 16, int seed = 0, string name = "colour")
    {
        var rng = new Random(seed);
        int plane = size * size;
        var pixels = new byte[count * 3 * plane];
        var labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            int k = i % classes;
            labels[i] = k;
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < size; y++)
                    for (int x = 0; x < size; x++)
                    {
                        int v = rng.Next(0, 80);
                        if (c == k % 3 && (y < size / 2) == (k < 3)) v += 150;
                        pixels[(i * 3 + c) * plane + y * size + x] = (byte)Math.Min(255, v);
                    }
        }
        var names = Enumerable.Range(0, classes).Select(c => $"class{c}").ToArray();
        return new ImageDataset(name, pixels, labels, 3, size, size, names, new Normalization([0.3f, 0.3f, 0.3f], [0.3f, 0.3f, 0.3f]));
    }

    /// <summary>A dataset with labels 0..classes−1 repeated, no pixels worth learning.</summary>
    public static ImageDataset Uniform(int count, int classes, string name = "uniform") =>
        new(name, new byte[count * 4], Enumerable.Range(0, count).Select(i => i % classes).ToArray(), 1, 2, 2,
            Enumerable.Range(0, classes).Select(c => c.ToString()).ToArray(), new Normalization([0.5f], [0.5f]));

    public static byte[] IdxImages(int count, int h, int w, byte fill = 7)
    {
        var data = new byte[16 + count * h * w];
        BinaryPrimitives.WriteInt32BigEndian(data, 0x803);
        BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(4), count);
        BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(8), h);
        BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(12), w);
        Array.Fill(data, fill, 16, count * h * w);
        return data;
    }

    public static byte[] IdxLabels(params byte[] labels)
    {
        var data = new byte[8 + labels.Length];
        BinaryPrimitives.WriteInt32BigEndian(data, 0x801);
        BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(4), labels.Length);
        labels.CopyTo(data, 8);
        return data;
    }

    public static byte[] Gzip(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest)) gz.Write(data);
        return ms.ToArray();
    }
}
