using Winnow.Data;

namespace Winnow.Tests.Data;

public class Cifar10ReaderTests
{
    private static byte[] Records(params byte[] labels)
    {
        var data = new byte[labels.Length * 3073];
        for (int i = 0; i < labels.Length; i++)
        {
            data[i * 3073] = labels[i];
            data[i * 3073 + 1] = 200;            // first red pixel
            data[i * 3073 + 1 + 1024] = 100;     // first green pixel
            data[i * 3073 + 1 + 2048] = 50;      // first blue pixel
        }
        return data;
    }

    [Fact]
    public void ReadsTestBatchInPlaneOrder()
    {
        string dir = TestData.TempDir();
        File.WriteAllBytes(Path.Combine(dir, "test_batch.bin"), Records(3, 9));
        var test = Cifar10Reader.Load(dir, train: false);
        Assert.Equal([3, 9], test.Labels);
        Assert.Equal((3, 32, 32), (test.Channels, test.Height, test.Width));
        var img = test.Image(1);
        Assert.Equal(200, img[0]);
        Assert.Equal(100, img[1024]);
        Assert.Equal(50, img[2048]);
    }

    [Fact]
    public void ReadsFiveTrainingBatches()
    {
        string dir = TestData.TempDir();
        for (int i = 1; i <= 5; i++) File.WriteAllBytes(Path.Combine(dir, $"data_batch_{i}.bin"), Records((byte)i, (byte)(i + 1)));
        var train = Cifar10Reader.Load(dir, train: true);
        Assert.Equal([1, 2, 2, 3, 3, 4, 4, 5, 5, 6], train.Labels);
    }

    [Fact]
    public void TruncatedBatchIsRejected()
    {
        string dir = TestData.TempDir();
        File.WriteAllBytes(Path.Combine(dir, "test_batch.bin"), Records(1, 2)[..^7]);
        var e = Assert.Throws<DataFormatException>(() => Cifar10Reader.Load(dir, train: false));
        Assert.Contains("test_batch.bin", e.Message);
        Assert.Contains("3073-byte records", e.Message);
    }

    [Fact]
    public void EmptyBatchIsRejectedWithTheFileNamed()
    {
        string dir = TestData.TempDir();
        File.WriteAllBytes(Path.Combine(dir, "test_batch.bin"), []);
        Assert.Equal($"{Path.Combine(dir, "test_batch.bin")}: is empty (0 records); expected at least one 3073-byte record (1 label byte + 3072 pixels)",
            Assert.Throws<DataFormatException>(() => Cifar10Reader.Load(dir, train: false)).Message);
        for (int i = 1; i <= 5; i++) File.WriteAllBytes(Path.Combine(dir, $"data_batch_{i}.bin"), i == 3 ? [] : Records(1));
        Assert.StartsWith(Path.Combine(dir, "data_batch_3.bin") + ": is empty", Assert.Throws<DataFormatException>(() => Cifar10Reader.Load(dir, train: true)).Message);
    }

    [Fact]
    public void LabelAboveNineIsRejected()
    {
        string dir = TestData.TempDir();
        File.WriteAllBytes(Path.Combine(dir, "test_batch.bin"), Records(1, 10));
        Assert.Contains("label 10 of record 1", Assert.Throws<DataFormatException>(() => Cifar10Reader.Load(dir, train: false)).Message);
    }

    [Fact]
    public void MissingBatchIsNamed()
    {
        string dir = TestData.TempDir();
        for (int i = 1; i <= 4; i++) File.WriteAllBytes(Path.Combine(dir, $"data_batch_{i}.bin"), Records(1));
        var e = Assert.Throws<DataFormatException>(() => Cifar10Reader.Load(dir, train: true));
        Assert.Contains("data_batch_5.bin", e.Message);
    }
}
