using SkiaSharp;
using Winnow.Data;

namespace Winnow.Tests.Data;

public class ImageFolderReaderTests
{
    internal static void WriteImage(string path, int w, int h, SKColor color, SKEncodedImageFormat format = SKEncodedImageFormat.Png)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var bmp = new SKBitmap(w, h);
        bmp.Erase(color);
        using var data = bmp.Encode(format, 95);
        File.WriteAllBytes(path, data.ToArray());
    }

    /// <summary>root/cat (2 red PNGs), root/dog (1 blue JPEG).</summary>
    internal static string MakeFolder(int size = 8)
    {
        string root = TestData.TempDir();
        WriteImage(Path.Combine(root, "cat", "a.png"), size, size, new SKColor(255, 0, 0));
        WriteImage(Path.Combine(root, "cat", "b.png"), size, size, new SKColor(255, 0, 0));
        WriteImage(Path.Combine(root, "dog", "c.jpg"), size, size, new SKColor(0, 0, 255), SKEncodedImageFormat.Jpeg);
        return root;
    }

    [Fact]
    public void ReadsClassesFromSubfoldersInOrdinalOrder()
    {
        var ds = ImageFolderReader.Load(MakeFolder());
        Assert.Equal(["cat", "dog"], ds.ClassNames);
        Assert.Equal([0, 0, 1], ds.Labels);
        Assert.Equal(["cat/a.png", "cat/b.png", "dog/c.jpg"], ds.ItemPaths);
        Assert.Equal((3, 8, 8), (ds.Channels, ds.Height, ds.Width));
        var red = ds.Image(0);
        Assert.Equal(255, red[0]);
        Assert.Equal(0, red[64]);
        var blue = ds.Image(2);
        Assert.InRange(blue[128], 240, 255);
        Assert.InRange(blue[0], 0, 15);
    }

    [Fact]
    public void ResizesAndConvertsToGrey()
    {
        var ds = ImageFolderReader.Load(MakeFolder(size: 20), new ImageFolderOptions { Size = 10, Channels = 1 });
        Assert.Equal((1, 10, 10), (ds.Channels, ds.Height, ds.Width));
        Assert.InRange(ds.Image(0)[55], 72, 80); // 0.299 · 255
    }

    [Fact]
    public void DifferentSizesWithoutResizeNameTheImageOfTheLessCommonSize()
    {
        string root = MakeFolder();
        WriteImage(Path.Combine(root, "dog", "d.png"), 9, 8, SKColors.White);
        var e = Assert.Throws<DataFormatException>(() => ImageFolderReader.Load(root));
        Assert.Equal($"{root}: images of 2 sizes: 3 of 8x8, 1 of 9x8 (the first: dog/d.png); pass --image-size N to resize every image to N x N", e.Message);
        // The odd image sorts first: it is still the one named, not the three images of the common size.
        WriteImage(Path.Combine(root, "cat", "0.png"), 32, 32, SKColors.White);
        e = Assert.Throws<DataFormatException>(() => ImageFolderReader.Load(root));
        Assert.Equal($"{root}: images of 3 sizes: 3 of 8x8, 1 of 32x32 (the first: cat/0.png), 1 of 9x8 (the first: dog/d.png); pass --image-size N to resize every image to N x N", e.Message);
    }

    [Fact]
    public void ASymbolicLinkLoopIsRefusedNamingTheLink()
    {
        // ln -s . circle/loop: without a check, the walk reads circle's images again at every level, 40 levels deep.
        string root = MakeFolder();
        string loop = Path.Combine(root, "cat", "loop");
        Directory.CreateSymbolicLink(loop, ".");
        var e = Assert.Throws<DataFormatException>(() => ImageFolderReader.Load(root));
        Assert.Equal($"{loop}: symbolic link to {Path.Combine(root, "cat")}, a folder already read; remove the link (each folder and image is read once)", e.Message);
        // A link back to the root from a class folder is a loop too, not a new class.
        File.Delete(loop);
        string up = Path.Combine(root, "dog", "up");
        Directory.CreateSymbolicLink(up, "..");
        Assert.StartsWith($"{up}: symbolic link to {root}, a folder already read", Assert.Throws<DataFormatException>(() => ImageFolderReader.Load(root)).Message);
    }

    [Fact]
    public void ASymbolicLinkToAFolderOutsideIsReadOnceAndALinkedImageReadTwiceIsRefused()
    {
        string root = MakeFolder();
        string outside = TestData.TempDir();
        WriteImage(Path.Combine(outside, "e.png"), 8, 8, SKColors.Red);
        Directory.CreateSymbolicLink(Path.Combine(root, "cat", "more"), outside);
        var ds = ImageFolderReader.Load(root);
        Assert.Equal(["cat/a.png", "cat/b.png", "cat/more/e.png", "dog/c.jpg"], ds.ItemPaths);
        Assert.Equal([0, 0, 0, 1], ds.Labels);
        // The same file once as a dog and once as a cat: two labels for one image.
        string copy = Path.Combine(root, "dog", "b.png");
        File.CreateSymbolicLink(copy, Path.Combine("..", "cat", "b.png"));
        var e = Assert.Throws<DataFormatException>(() => ImageFolderReader.Load(root));
        Assert.Equal($"{copy}: symbolic link to {Path.Combine(root, "cat", "b.png")}, an image already read; remove the link (each folder and image is read once)", e.Message);
        // A link to nothing is named as such, not as an image that does not decode.
        File.Delete(copy);
        File.CreateSymbolicLink(copy, Path.Combine(outside, "gone.png"));
        Assert.Equal($"{copy}: symbolic link to {Path.Combine(outside, "gone.png")}, which does not exist", Assert.Throws<DataFormatException>(() => ImageFolderReader.Load(root)).Message);
    }

    [Fact]
    public void UndecodableImageIsNamed()
    {
        string root = MakeFolder();
        File.WriteAllText(Path.Combine(root, "dog", "broken.png"), "not a png");
        var e = Assert.Throws<DataFormatException>(() => ImageFolderReader.Load(root));
        Assert.Contains("broken.png", e.Message);
        Assert.Contains("cannot decode", e.Message);
    }

    [Fact]
    public void AnEmptyImageFileIsNamedAsEmpty()
    {
        string root = MakeFolder();
        string path = Path.Combine(root, "dog", "empty.png");
        File.WriteAllBytes(path, []);
        Assert.Equal($"{path}: empty file (0 bytes); expected a PNG or JPEG image", Assert.Throws<DataFormatException>(() => ImageFolderReader.Load(root)).Message);
    }

    [Fact]
    public void TruncatedImageIsAnErrorNotABlankImage()
    {
        // A half-copied PNG: SkiaSharp's own decoder returns it with the missing rows blank.
        string root = MakeFolder(size: 64);
        string path = Path.Combine(root, "dog", "half.png");
        using (var bmp = new SKBitmap(64, 64))
        {
            for (int y = 0; y < 64; y++)
                for (int x = 0; x < 64; x++) bmp.SetPixel(x, y, new SKColor((byte)(x * 4), (byte)(y * 4), (byte)(x ^ y)));
            using var data = bmp.Encode(SKEncodedImageFormat.Png, 100);
            var bytes = data.ToArray();
            File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        }
        var e = Assert.Throws<DataFormatException>(() => ImageFolderReader.Load(root));
        Assert.Equal($"{path}: truncated image: the file ends before its last pixel row", e.Message);
    }

    [Fact]
    public void ATransparentImageIsReadOverBlack()
    {
        // (200, 100, 50) at half opacity reads as (100, 50, 25): premultiplied, as SkiaSharp's own decoder gives it.
        string root = TestData.TempDir();
        WriteImage(Path.Combine(root, "a", "x.png"), 4, 4, new SKColor(200, 100, 50, 128));
        WriteImage(Path.Combine(root, "b", "y.png"), 4, 4, new SKColor(200, 100, 50, 255));
        var ds = ImageFolderReader.Load(root);
        Assert.InRange(ds.Image(0)[0], 98, 102);
        Assert.InRange(ds.Image(0)[16], 48, 52);
        Assert.InRange(ds.Image(0)[32], 23, 27);
        Assert.Equal(200, ds.Image(1)[0]);
    }

    [Fact]
    public void TestImagesOfAnotherSizeAreRefused()
    {
        var spec = new DatasetSpec { Kind = DatasetKind.Folder, Path = MakeFolder(size: 8), TestPath = MakeFolder(size: 16) };
        var e = Assert.Throws<DataFormatException>(() => spec.LoadTest(spec.LoadTrain()));
        Assert.Equal($"{spec.TestPath}: images are 16x16, the training folder's 8x8; pass --image-size to resize both", e.Message);
        // Resized to one size, both are read.
        var resized = spec with { ImageSize = 4 };
        Assert.Equal(4, resized.LoadTest(resized.LoadTrain()).Height);
    }

    [Fact]
    public void EmptyFolderAndEmptyClassAreRejected()
    {
        string root = TestData.TempDir();
        Assert.Equal($"{root}: no class sub-folders; expected root/<class>/<image>.png|jpg", Assert.Throws<DataFormatException>(() => ImageFolderReader.Load(root)).Message);
        Directory.CreateDirectory(Path.Combine(root, "empty"));
        File.WriteAllText(Path.Combine(root, "empty", "notes.txt"), "not an image");
        var e = Assert.Throws<DataFormatException>(() => ImageFolderReader.Load(root));
        Assert.Equal($"{Path.Combine(root, "empty")}: class folder holds no .png, .jpg or .jpeg image", e.Message);
        // Through a dataset spec, an empty test folder is named too.
        var spec = new DatasetSpec { Kind = DatasetKind.Folder, Path = MakeFolder(), TestPath = root };
        Assert.StartsWith(Path.Combine(root, "empty") + ": ", Assert.Throws<DataFormatException>(() => spec.LoadTest(spec.LoadTrain())).Message);
    }
}

public class LabelFileTests
{
    [Fact]
    public void ReplacesLabelsByPathOrIndexAndClassNameOrNumber()
    {
        var ds = ImageFolderReader.Load(ImageFolderReaderTests.MakeFolder());
        string csv = Path.Combine(TestData.TempDir(), "labels.csv");
        File.WriteAllText(csv, "path,label\ncat/a.png,dog\n1,1\ndog/c.jpg,0\n");
        var relabeled = LabelFile.Apply(ds, csv);
        Assert.Equal([1, 1, 0], relabeled.Labels);
        Assert.Equal([0, 0, 1], ds.Labels);
    }

    [Fact]
    public void ALabelThatIsOneClassesNameAndAnothersIndexNeedsTheHeaderToSayWhich()
    {
        // Folders "1" and "2": is the label "1" the folder 1 (index 0) or index 1 (the folder 2)?
        string root = TestData.TempDir();
        ImageFolderReaderTests.WriteImage(Path.Combine(root, "1", "a.png"), 4, 4, SKColors.Red);
        ImageFolderReaderTests.WriteImage(Path.Combine(root, "2", "b.png"), 4, 4, SKColors.Blue);
        var numbered = ImageFolderReader.Load(root);
        string csv = Path.Combine(TestData.TempDir(), "labels.csv");
        File.WriteAllText(csv, "path,label\n1/a.png,2\n2/b.png,1\n");
        Assert.Equal($"{csv}: row 3: label '1' is the class named 1 (index 0) and the class at index 1 (2); give the header 'path,class_name' or 'path,class_index' to say which",
            Assert.Throws<DataFormatException>(() => LabelFile.Apply(numbered, csv)).Message);
        File.WriteAllText(csv, "path,class_name\n1/a.png,2\n2/b.png,1\n");
        Assert.Equal([1, 0], LabelFile.Apply(numbered, csv).Labels);
        File.WriteAllText(csv, "path,class_index\n1/a.png,1\n2/b.png,0\n");
        Assert.Equal([1, 0], LabelFile.Apply(numbered, csv).Labels);
        // Unambiguous numbers read as before: "0" is no class name, so it is index 0; "2" is no index, so it is the folder 2.
        File.WriteAllText(csv, "path,label\n1/a.png,2\n2/b.png,0\n");
        Assert.Equal([1, 0], LabelFile.Apply(numbered, csv).Labels);
        File.WriteAllText(csv, "path,class_name\n1/a.png,0\n2/b.png,1\n");
        Assert.EndsWith("row 2: label '0' is not one of the class names (1, 2)", Assert.Throws<DataFormatException>(() => LabelFile.Apply(numbered, csv)).Message);

        // Folders "Cat", "cat" and "dog": exact names pick their class, "DOG" is dog, "CAT" is neither.
        root = TestData.TempDir();
        foreach (var (folder, file) in new[] { ("Cat", "a.png"), ("cat", "b.png"), ("dog", "c.png") })
            ImageFolderReaderTests.WriteImage(Path.Combine(root, folder, file), 4, 4, SKColors.Green);
        var cased = ImageFolderReader.Load(root);
        File.WriteAllText(csv, "path,label\nCat/a.png,cat\ncat/b.png,Cat\ndog/c.png,DOG\n");
        Assert.Equal([1, 0, 2], LabelFile.Apply(cased, csv).Labels);
        File.WriteAllText(csv, "path,label\nCat/a.png,CAT\ncat/b.png,Cat\ndog/c.png,dog\n");
        Assert.Contains("row 2: label 'CAT' is neither a class index nor one of the class names (Cat, cat, dog)", Assert.Throws<DataFormatException>(() => LabelFile.Apply(cased, csv)).Message);
    }

    [Theory]
    [InlineData("cat/a.png,dog\ncat/b.png,cat\n", "image 2 (dog/c.jpg) has no row")]
    [InlineData("0,1\n1,1\n2,5\n", "row 3: label 5 is outside 0..1")]
    [InlineData("0,1\n1,1\n2,bird\n", "row 3: label 'bird'")]
    [InlineData("0,1\n0,1\n2,1\n", "row 2: image 0 was already labeled on row 1")]
    [InlineData("0,1\ncat/zzz.png,1\n", "row 2: 'cat/zzz.png' is neither")]
    [InlineData("0,1,2\n", "row 1: 3 columns, expected 2")]
    [InlineData("7,1\n", "row 1: index 7 is outside 0..2")]
    [InlineData("path,label\n", "holds no label rows; expected one row (path or index, label) for each of the 3 images")]
    [InlineData("", "holds no label rows")]
    public void BadRowsGiveOneLineErrorNamingTheRow(string content, string expected)
    {
        var ds = ImageFolderReader.Load(ImageFolderReaderTests.MakeFolder());
        string csv = Path.Combine(TestData.TempDir(), "labels.csv");
        File.WriteAllText(csv, content);
        var e = Assert.Throws<DataFormatException>(() => LabelFile.Apply(ds, csv));
        Assert.Contains(expected, e.Message);
        Assert.StartsWith(csv, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
