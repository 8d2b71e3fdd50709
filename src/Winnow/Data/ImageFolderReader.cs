using SkiaSharp;

namespace Winnow.Data;

/// <summary>Options of <see cref="ImageFolderReader"/>.</summary>
public sealed record ImageFolderOptions
{
    /// <summary>Resize every image to Size × Size pixels; null keeps the images' own size, which must then be the same for all.</summary>
    public int? Size { get; init; }

    /// <summary>1 converts to grey (0.299 R + 0.587 G + 0.114 B); 3 keeps RGB.</summary>
    public int Channels { get; init; } = 3;
}

/// <summary>
/// Reads a folder laid out as root/&lt;class&gt;/&lt;image&gt;.png|jpg|jpeg. Classes are the sub-folder names in
/// ordinal order; images are taken in ordinal order of their relative paths, which fixes each image's index.
/// Images in sub-folders of a class folder belong to the class. Symbolic links are followed, to folders (inside the
/// root or outside it) and to images, but each folder and image is read once: a link to a folder or image already
/// read (a loop such as <c>ln -s . cat/loop</c>, a link back to the root, the same image linked into two classes) is
/// an error that names the link.
/// </summary>
public static class ImageFolderReader
{
    private static readonly string[] Extensions = [".png", ".jpg", ".jpeg"];

    /// <summary>Loads the folder; the normalisation is computed from its pixels.</summary>
    public static ImageDataset Load(string root, ImageFolderOptions? options = null)
    {
        options ??= new ImageFolderOptions();
        if (options.Channels is not (1 or 3)) throw new WinnowException($"--channels must be 1 or 3, got {options.Channels}");
        if (options.Size is <= 0 or > 1024) throw new WinnowException($"--image-size must be in 1..1024, got {options.Size}");
        if (!Directory.Exists(root)) throw new DataFormatException(root, "folder not found");
        string[] classDirs = Directory.GetDirectories(root).OrderBy(d => Path.GetFileName(d), StringComparer.Ordinal).ToArray();
        if (classDirs.Length == 0) throw new DataFormatException(root, "no class sub-folders; expected root/<class>/<image>.png|jpg");
        var files = new List<(string Path, int Label)>();
        string realRoot = RealPath(root);
        var read = new Dictionary<string, string>(StringComparer.Ordinal) { [realRoot] = root };
        for (int c = 0; c < classDirs.Length; c++)
        {
            var images = new List<string>();
            AddImages(new DirectoryInfo(classDirs[c]), realRoot, read, images);
            if (images.Count == 0) throw new DataFormatException(classDirs[c], "class folder holds no .png, .jpg or .jpeg image");
            files.AddRange(images.Order(StringComparer.Ordinal).Select(f => (f, c)));
        }
        var relative = files.Select(f => Path.GetRelativePath(root, f.Path).Replace('\\', '/')).ToArray();

        int channels = options.Channels;
        int width, height;
        if (options.Size is int s) { width = height = s; }
        else
        {
            using var first = Decode(files[0].Path);
            width = first.Width;
            height = first.Height;
        }
        int imageSize = channels * width * height;
        long total = (long)files.Count * imageSize;
        if (total > Array.MaxLength)
            throw new DataFormatException(root, $"{files.Count} images of {channels}x{width}x{height} need {total / (1 << 20):N0} MiB in one array, over .NET's limit of {Array.MaxLength / (1 << 20):N0} MiB; pass a smaller --image-size");
        var pixels = new byte[total];
        bool mixedSizes = false;
        try
        {
            Parallel.For(0, files.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, (i, loop) =>
            {
                string path = files[i].Path;
                try
                {
                    using var bitmap = Decode(path);
                    if (options.Size is null && (bitmap.Width != width || bitmap.Height != height))
                    {
                        mixedSizes = true;
                        loop.Stop();
                        return;
                    }
                    WritePixels(bitmap, path, width, height, channels, pixels.AsSpan((int)((long)i * imageSize), imageSize));
                }
                catch (Exception e) when (e is not WinnowException and not OutOfMemoryException)
                {
                    throw new DataFormatException(path, $"cannot read image: {e.Message}", e);
                }
            });
        }
        catch (AggregateException e) when (e.InnerExceptions.OfType<OutOfMemoryException>().FirstOrDefault() is { } outOfMemory)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(outOfMemory);
        }
        catch (AggregateException e) when (e.InnerExceptions.FirstOrDefault(x => x is WinnowException) is WinnowException first)
        {
            // Report the failing image that comes first in the folder's order, whichever thread met it first.
            throw e.InnerExceptions.OfType<DataFormatException>().OrderBy(x => x.Path, StringComparer.Ordinal).FirstOrDefault() ?? first;
        }
        if (mixedSizes) throw MixedSizes(root, files.Select(f => f.Path).ToArray(), relative);
        var names = classDirs.Select(d => Path.GetFileName(d)!).ToArray();
        var labels = files.Select(f => f.Label).ToArray();
        var provisional = new ImageDataset(Path.GetFileName(Path.TrimEndingDirectorySeparator(root)), pixels, labels,
            channels, height, width, names, new Normalization(new float[channels], Enumerable.Repeat(1f, channels).ToArray()), relative);
        return provisional.WithNormalization(provisional.ComputeNormalization());
    }

    /// <summary>
    /// The error for images of several sizes without a resize: how many images have each size, most common first, and
    /// the first image of each other size (an odd image is named, not the images of the common size around it).
    /// </summary>
    private static DataFormatException MixedSizes(string root, string[] paths, string[] relative)
    {
        var sizes = paths.Select((path, i) =>
            {
                using var codec = SKCodec.Create(path);
                return (Size: codec is null ? "" : $"{codec.Info.Width}x{codec.Info.Height}", Index: i);
            })
            .Where(s => s.Size.Length > 0).GroupBy(s => s.Size)
            .OrderByDescending(g => g.Count()).ThenBy(g => g.First().Index).ToArray();
        var counts = sizes.Select((g, k) => $"{g.Count()} of {g.Key}" + (k == 0 ? "" : $" (the first: {relative[g.First().Index]})"));
        return new DataFormatException(root, $"images of {sizes.Length} sizes: {string.Join(", ", counts)}; pass --image-size N to resize every image to N x N");
    }

    /// <summary>
    /// Adds the images in <paramref name="folder"/> and its sub-folders to <paramref name="images"/>, following symbolic
    /// links. <paramref name="read"/> maps the real path (links resolved) of every folder and image read so far to the
    /// path it was read as; <paramref name="parentReal"/> is the real path of the folder that holds <paramref name="folder"/>.
    /// </summary>
    private static void AddImages(FileSystemInfo folder, string parentReal, Dictionary<string, string> read, List<string> images)
    {
        string real = RealPathOf(folder, parentReal, read, "a folder");
        foreach (var entry in ((DirectoryInfo)folder).EnumerateFileSystemInfos())
        {
            if (entry is DirectoryInfo) AddImages(entry, real, read, images);
            else if (Extensions.Contains(entry.Extension.ToLowerInvariant()))
            {
                RealPathOf(entry, real, read, "an image");
                images.Add(entry.FullName);
            }
        }
    }

    /// <summary>
    /// The real path of <paramref name="entry"/>, which <paramref name="read"/> then holds; an error naming the entry
    /// when it was read before (through a link) or is a link to nothing.
    /// </summary>
    private static string RealPathOf(FileSystemInfo entry, string parentReal, Dictionary<string, string> read, string kind)
    {
        bool link = entry.LinkTarget is not null;
        string real = link ? RealPath(entry.FullName) : Path.Combine(parentReal, entry.Name);
        if (link && !Path.Exists(real)) throw new DataFormatException(entry.FullName, $"symbolic link to {real}, which does not exist");
        if (read.TryAdd(real, entry.FullName)) return real;
        throw new DataFormatException(entry.FullName, link
            ? $"symbolic link to {real}, {kind} already read; remove the link (each folder and image is read once)"
            : $"already read as {read[real]} through a symbolic link; remove the link (each folder and image is read once)");
    }

    /// <summary>
    /// The absolute form of <paramref name="path"/> with every symbolic link in it resolved (up to 40 links deep, as
    /// Linux's own limit; a chain of links that loops is an error).
    /// </summary>
    private static string RealPath(string path, int depth = 0)
    {
        if (depth > 40) throw new DataFormatException(path, "too many levels of symbolic links");
        string full = Path.GetFullPath(path);
        string real = Path.GetPathRoot(full)!;
        foreach (string part in full[real.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
            real = new FileInfo(Path.Combine(real, part)).LinkTarget is { } target ? RealPath(Path.Combine(real, target), depth + 1) : Path.Combine(real, part);
        return real;
    }

    /// <summary>
    /// Decodes every pixel of the image or fails naming it. SKBitmap.Decode accepts a file that ends early (a half-copied
    /// image) and leaves its missing rows blank; here that is an error. Otherwise the pixels are SKBitmap.Decode's: the
    /// codec's colour type, premultiplied alpha (a transparent image over black), no colour-space conversion.
    /// </summary>
    private static SKBitmap Decode(string path)
    {
        using var codec = SKCodec.Create(path, out var opened)
            ?? throw new DataFormatException(path, new FileInfo(path).Length == 0 ? "empty file (0 bytes); expected a PNG or JPEG image"
                : $"cannot decode image: not a valid PNG or JPEG file ({opened})");
        var info = codec.Info;
        if (info.AlphaType == SKAlphaType.Unpremul) info.AlphaType = SKAlphaType.Premul;
        info.ColorSpace = null;
        var bitmap = new SKBitmap(info);
        var result = codec.GetPixels(bitmap.Info, bitmap.GetPixels());
        if (result == SKCodecResult.Success) return bitmap;
        bitmap.Dispose();
        throw new DataFormatException(path, result == SKCodecResult.IncompleteInput
            ? "truncated image: the file ends before its last pixel row"
            : $"cannot decode image: {result}");
    }

    private static void WritePixels(SKBitmap source, string path, int width, int height, int channels, Span<byte> dest)
    {
        using var rgba = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        if (source.Width == width && source.Height == height)
        {
            if (!source.CopyTo(rgba, SKColorType.Rgba8888))
            {
                using var canvas = new SKCanvas(rgba);
                canvas.DrawBitmap(source, 0, 0);
            }
        }
        else if (!source.ScalePixels(rgba, new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear)))
            throw new DataFormatException(path, $"cannot resize image of {source.Width}x{source.Height} to {width}x{height}");
        ReadOnlySpan<byte> px = rgba.GetPixelSpan();
        int plane = width * height;
        for (int p = 0; p < plane; p++)
        {
            byte r = px[4 * p], g = px[4 * p + 1], b = px[4 * p + 2];
            if (channels == 1) dest[p] = (byte)Math.Clamp((int)Math.Round(0.299 * r + 0.587 * g + 0.114 * b), 0, 255);
            else { dest[p] = r; dest[plane + p] = g; dest[2 * plane + p] = b; }
        }
    }
}
