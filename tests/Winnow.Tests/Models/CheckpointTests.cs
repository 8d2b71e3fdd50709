using Winnow.Methods;
using Winnow.Models;
using Winnow.Training;
using static TorchSharp.torch;

namespace Winnow.Tests.Models;

public class CheckpointTests
{
    /// <summary>A checkpoint with metadata "{}" and one float32 tensor "w" of shape [2, 3]; its bytes.</summary>
    private static (string Path, byte[] Bytes) SmallCheckpoint()
    {
        string path = Path.Combine(TestData.TempDir(), "small.ckpt");
        using var w = tensor(new float[] { 0, 1, 2, 3, 4, 5 }).reshape(2, 3);
        Checkpoint.Save(path, "{}", [("w", w)]);
        return (path, File.ReadAllBytes(path));
    }

    // Layout: magic 8, version 4, JSON length 4, "{}" 2, tensor count 4, name "w" (length byte + 1) 2, then dtype at 24,
    // rank at 28, the two dimensions at 32 and 40, the byte count at 48 and the 24 bytes of data at 56.
    private const int DtypeAt = 24, FirstDimensionAt = 32, ByteCountAt = 48;

    private static string Corrupted(byte[] bytes, Action<byte[]> change)
    {
        var copy = (byte[])bytes.Clone();
        change(copy);
        string path = Path.Combine(TestData.TempDir(), "damaged.ckpt");
        File.WriteAllBytes(path, copy);
        return path;
    }

    [Fact]
    public void ACheckpointRoundTripsAndEachDamageIsNamed()
    {
        var (path, bytes) = SmallCheckpoint();
        Assert.Equal(80, bytes.Length);
        using (var loaded = Checkpoint.Load(path))
        {
            Assert.Equal([0f, 1, 2, 3, 4, 5], loaded.Tensors["w"].data<float>().ToArray());
            Assert.Equal(path, loaded.SourcePath);
        }

        var unknownType = Corrupted(bytes, b => BitConverter.TryWriteBytes(b.AsSpan(DtypeAt), 99));
        Assert.Equal($"{unknownType}: damaged checkpoint (tensor 'w' has unknown element type 99)", Assert.Throws<DataFormatException>(() => Checkpoint.Load(unknownType)).Message);
        var hugeDimension = Corrupted(bytes, b => BitConverter.TryWriteBytes(b.AsSpan(FirstDimensionAt), 1L << 40));
        Assert.Equal($"{hugeDimension}: damaged checkpoint (tensor 'w' has dimension {1L << 40})", Assert.Throws<DataFormatException>(() => Checkpoint.Load(hugeDimension)).Message);
        var wrongCount = Corrupted(bytes, b => BitConverter.TryWriteBytes(b.AsSpan(ByteCountAt), 20L));
        Assert.Equal($"{wrongCount}: damaged checkpoint (tensor 'w' holds 20 bytes, its shape needs 24)", Assert.Throws<DataFormatException>(() => Checkpoint.Load(wrongCount)).Message);
        string truncated = Path.Combine(TestData.TempDir(), "truncated.ckpt");
        File.WriteAllBytes(truncated, bytes[..60]);
        Assert.Equal($"{truncated}: truncated checkpoint (tensor 'w' needs 24 bytes)", Assert.Throws<DataFormatException>(() => Checkpoint.Load(truncated)).Message);
        File.WriteAllBytes(truncated, bytes[..30]);
        Assert.Equal($"{truncated}: truncated checkpoint", Assert.Throws<DataFormatException>(() => Checkpoint.Load(truncated)).Message);
    }

    [Fact]
    public void RestoringAnotherMethodsCheckpointNamesTheFile()
    {
        string path = Path.Combine(TestData.TempDir(), "other.ckpt");
        Checkpoint.Save(path, """{"method":"dividemix","completedEpochs":3,"networks":["net1","net2"]}""", []);
        using var checkpoint = Checkpoint.Load(path);
        using var method = new CrossEntropyMethod(ModelFactory.CreateClassifier(ModelFactory.DefaultEncoder, 1, 4), new TrainingOptions { Epochs = 1, Precision = Precision.Float32 });
        var e = Assert.Throws<DataFormatException>(() => TrainingLoop.RestoreFrom(method, checkpoint));
        Assert.Equal($"{path}: the checkpoint was written by method 'dividemix', not 'ce'", e.Message);

        string broken = Path.Combine(TestData.TempDir(), "broken.ckpt");
        Checkpoint.Save(broken, "{not json", []);
        using var brokenCheckpoint = Checkpoint.Load(broken);
        Assert.StartsWith($"{broken}: damaged checkpoint metadata (", Assert.Throws<DataFormatException>(() => TrainingLoop.RestoreFrom(method, brokenCheckpoint)).Message);
    }

    [Fact]
    public void AMissingRunFolderIsNamedAndNotCreated()
    {
        string missing = Path.Combine(TestData.TempDir(), "typo");
        Assert.Equal($"{missing}: folder not found; expected the folder of a 'winnow train' run", Assert.Throws<DataFormatException>(() => RunFolder.Existing(missing)).Message);
        Assert.False(Directory.Exists(missing));
        string checkpoint = Path.Combine(missing, "best.ckpt");
        Assert.Equal($"{checkpoint}: checkpoint not found", Assert.Throws<DataFormatException>(() => Winnow.Runs.TrainingJob.ReadManifestBeside(checkpoint)).Message);
        Assert.False(Directory.Exists(missing));
    }

    [Fact]
    public void ADamagedMetricsRowIsNamed()
    {
        string path = Path.Combine(TestData.TempDir(), "metrics.csv");
        File.WriteAllText(path, "epoch,lr,train_loss,test_acc,train_acc_noisy,train_acc_true,memorization,clean_auc,train_seconds,seconds\n"
            + "1,0.02,1.5,0.8,0.7,0.75,0.1,0.9,10,12\n2,0.02,1.4,0.8x,0.7,0.75,0.1,0.9,10,12\n");
        Assert.Equal($"{path}: row 3: test_acc '0.8x' is not a number", Assert.Throws<DataFormatException>(() => EpochMetrics.ReadCsv(path)).Message);
        File.WriteAllText(path, "epoch,lr,train_loss,test_acc,train_acc_noisy,train_acc_true,memorization,clean_auc,train_seconds,seconds\n"
            + "one,0.02,1.5,0.8,0.7,0.75,0.1,0.9,10,12\n");
        Assert.Equal($"{path}: row 2: epoch 'one' is not a whole number", Assert.Throws<DataFormatException>(() => EpochMetrics.ReadCsv(path)).Message);
    }
}
