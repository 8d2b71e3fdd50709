using Winnow.Data;

namespace Winnow.Tests.Data;

public class IdxReaderTests
{
    [Fact]
    public void ReadsPlainAndGzippedFilesAlike()
    {
        string dir = TestData.TempDir();
        File.WriteAllBytes(Path.Combine(dir, "a"), TestData.IdxImages(3, 4, 5, fill: 9));
        File.WriteAllBytes(Path.Combine(dir, "b.gz"), TestData.Gzip(TestData.IdxImages(3, 4, 5, fill: 9)));
        var plain = IdxReader.ReadImages(Path.Combine(dir, "a"));
        var gz = IdxReader.ReadImages(Path.Combine(dir, "b.gz"));
        Assert.Equal((3, 4, 5), (plain.Count, plain.Height, plain.Width));
        Assert.Equal(plain.Pixels, gz.Pixels);
        Assert.Equal(60, plain.Pixels.Length);
        Assert.All(plain.Pixels, b => Assert.Equal(9, b));
    }

    [Fact]
    public void WrongMagicNumberNamesFileAndExpectation()
    {
        string path = Path.Combine(TestData.TempDir(), "labels-as-images");
        File.WriteAllBytes(path, TestData.IdxLabels(new byte[20]));
        var e = Assert.Throws<DataFormatException>(() => IdxReader.ReadImages(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("0x00000803", e.Message);
    }

    [Fact]
    public void TruncatedImageFileIsRejected()
    {
        string path = Path.Combine(TestData.TempDir(), "short");
        var data = TestData.IdxImages(10, 28, 28);
        File.WriteAllBytes(path, data[..^100]);
        var e = Assert.Throws<DataFormatException>(() => IdxReader.ReadImages(path));
        Assert.Contains("truncated", e.Message);
        Assert.Contains("10 images of 28x28", e.Message);
    }

    [Fact]
    public void ImageFileDeclaringNoImagesIsRejectedWithTheFileNamed()
    {
        string path = Path.Combine(TestData.TempDir(), "train-images-idx3-ubyte");
        File.WriteAllBytes(path, TestData.IdxImages(0, 28, 28));
        Assert.Equal($"{path}: declares 0 images; expected at least one", Assert.Throws<DataFormatException>(() => IdxReader.ReadImages(path)).Message);
    }

    [Fact]
    public void LabelFileDeclaringNoLabelsIsRejectedWithTheFileNamed()
    {
        string path = Path.Combine(TestData.TempDir(), "train-labels-idx1-ubyte");
        File.WriteAllBytes(path, TestData.IdxLabels());
        Assert.Equal($"{path}: declares 0 labels; expected at least one", Assert.Throws<DataFormatException>(() => IdxReader.ReadLabels(path, 10)).Message);
    }

    [Fact]
    public void AnEmptyFashionMnistTrainingSplitIsRefusedNamingItsImageFile()
    {
        string dir = TestData.TempDir();
        File.WriteAllBytes(Path.Combine(dir, "train-images-idx3-ubyte.gz"), TestData.Gzip(TestData.IdxImages(0, 28, 28)));
        File.WriteAllBytes(Path.Combine(dir, "train-labels-idx1-ubyte.gz"), TestData.Gzip(TestData.IdxLabels()));
        var spec = new DatasetSpec { Kind = DatasetKind.FashionMnist, Path = dir };
        var e = Assert.Throws<DataFormatException>(spec.LoadTrain);
        Assert.Equal(Path.Combine(dir, "train-images-idx3-ubyte.gz"), e.Path);
        Assert.Contains("declares 0 images", e.Message);
    }

    [Fact]
    public void CorruptGzipIsRejected()
    {
        string path = Path.Combine(TestData.TempDir(), "bad.gz");
        var gz = TestData.Gzip(TestData.IdxImages(10, 28, 28));
        File.WriteAllBytes(path, gz[..(gz.Length / 2)]);
        Assert.Throws<DataFormatException>(() => IdxReader.ReadImages(path));
    }

    [Fact]
    public void LabelOutOfRangeNamesIndex()
    {
        string path = Path.Combine(TestData.TempDir(), "labels");
        File.WriteAllBytes(path, TestData.IdxLabels(1, 2, 12, 3));
        var e = Assert.Throws<DataFormatException>(() => IdxReader.ReadLabels(path, 10));
        Assert.Contains("label 12 at index 2", e.Message);
    }

    [Fact]
    public void TruncatedLabelFileIsRejected()
    {
        string path = Path.Combine(TestData.TempDir(), "labels");
        File.WriteAllBytes(path, TestData.IdxLabels(1, 2, 3)[..^1]);
        Assert.Contains("truncated", Assert.Throws<DataFormatException>(() => IdxReader.ReadLabels(path, 10)).Message);
    }

    [Fact]
    public void ImageAndLabelCountMismatchIsRejected()
    {
        string dir = TestData.TempDir();
        File.WriteAllBytes(Path.Combine(dir, "train-images-idx3-ubyte.gz"), TestData.Gzip(TestData.IdxImages(3, 28, 28)));
        File.WriteAllBytes(Path.Combine(dir, "train-labels-idx1-ubyte.gz"), TestData.Gzip(TestData.IdxLabels(1, 2)));
        var e = Assert.Throws<DataFormatException>(() => MnistFamily.LoadFashionMnist(dir, train: true));
        Assert.Contains("2 labels, expected 3", e.Message);
    }

    [Fact]
    public void MissingFolderAndFileAreReported()
    {
        Assert.Contains("folder not found", Assert.Throws<DataFormatException>(() => MnistFamily.LoadFashionMnist("/nonexistent/winnow", true)).Message);
        string dir = TestData.TempDir();
        Assert.Contains("file not found", Assert.Throws<DataFormatException>(() => MnistFamily.LoadFashionMnist(dir, true)).Message);
    }

    [Fact]
    public void LoadsAMiniatureFashionMnistFolder()
    {
        string dir = TestData.TempDir();
        File.WriteAllBytes(Path.Combine(dir, "t10k-images-idx3-ubyte"), TestData.IdxImages(2, 28, 28));
        File.WriteAllBytes(Path.Combine(dir, "t10k-labels-idx1-ubyte"), TestData.IdxLabels(9, 0));
        var test = MnistFamily.LoadFashionMnist(dir, train: false);
        Assert.Equal(2, test.Count);
        Assert.Equal([9, 0], test.Labels);
        Assert.Equal("ankle boot", test.ClassNames[9]);
        Assert.Equal(784, test.ImageSize);
    }
}
