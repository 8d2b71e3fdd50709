using System.Buffers.Binary;
using System.IO.Compression;

namespace Winnow.Data;

/// <summary>
/// Reads the IDX files of MNIST and Fashion-MNIST, plain or gzipped (detected from the content, not the name).
/// Images are IDX type 0x08 (unsigned byte) with 3 dimensions; labels are type 0x08 with 1 dimension.
/// </summary>
public static class IdxReader
{
    private const int ImagesMagic = 0x00000803;
    private const int LabelsMagic = 0x00000801;

    /// <summary>Reads an image file: returns the pixels and the image count, height and width.</summary>
    public static (byte[] Pixels, int Count, int Height, int Width) ReadImages(string path)
    {
        byte[] data = ReadAll(path);
        if (data.Length < 16) throw new DataFormatException(path, $"truncated IDX image file: {data.Length} bytes, expected a 16-byte header");
        int magic = BinaryPrimitives.ReadInt32BigEndian(data);
        if (magic != ImagesMagic)
            throw new DataFormatException(path, $"wrong magic number 0x{magic:X8}, expected 0x{ImagesMagic:X8} (IDX unsigned-byte images, 3 dimensions)");
        int count = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(4));
        int height = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(8));
        int width = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(12));
        if (count < 0 || height <= 0 || width <= 0 || height > 4096 || width > 4096)
            throw new DataFormatException(path, $"implausible IDX dimensions {count}x{height}x{width}");
        if (count == 0) throw new DataFormatException(path, "declares 0 images; expected at least one");
        long expected = 16L + (long)count * height * width;
        if (data.Length != expected)
            throw new DataFormatException(path, data.Length < expected
                ? $"truncated: {data.Length} bytes, expected {expected} for {count} images of {height}x{width}"
                : $"{data.Length - expected} unexpected bytes after {count} images of {height}x{width}");
        return (data[16..], count, height, width);
    }

    /// <summary>Reads a label file; every label must be below <paramref name="classCount"/>.</summary>
    public static int[] ReadLabels(string path, int classCount)
    {
        byte[] data = ReadAll(path);
        if (data.Length < 8) throw new DataFormatException(path, $"truncated IDX label file: {data.Length} bytes, expected an 8-byte header");
        int magic = BinaryPrimitives.ReadInt32BigEndian(data);
        if (magic != LabelsMagic)
            throw new DataFormatException(path, $"wrong magic number 0x{magic:X8}, expected 0x{LabelsMagic:X8} (IDX unsigned-byte labels, 1 dimension)");
        int count = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(4));
        if (count < 0) throw new DataFormatException(path, $"negative label count {count}");
        if (count == 0) throw new DataFormatException(path, "declares 0 labels; expected at least one");
        long expected = 8L + count;
        if (data.Length != expected)
            throw new DataFormatException(path, data.Length < expected
                ? $"truncated: {data.Length} bytes, expected {expected} for {count} labels"
                : $"{data.Length - expected} unexpected bytes after {count} labels");
        var labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            labels[i] = data[8 + i];
            if (labels[i] >= classCount)
                throw new DataFormatException(path, $"label {labels[i]} at index {i} is outside 0..{classCount - 1}");
        }
        return labels;
    }

    private static byte[] ReadAll(string path)
    {
        if (!File.Exists(path)) throw new DataFormatException(path, "file not found");
        byte[] raw = File.ReadAllBytes(path);
        if (raw.Length >= 2 && raw[0] == 0x1f && raw[1] == 0x8b)
        {
            try
            {
                using var gz = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress);
                using var ms = new MemoryStream();
                gz.CopyTo(ms);
                return ms.ToArray();
            }
            catch (InvalidDataException e)
            {
                throw new DataFormatException(path, $"corrupt gzip stream ({e.Message.TrimEnd('.')})", e);
            }
        }
        return raw;
    }
}
