using System.Text.Json;
using Winnow.Data;
using Winnow.Methods;
using Winnow.Models;
using Winnow.Training;

namespace Winnow.Tests.Training;

/// <summary>What a kill leaves in a run folder, and what --resume makes of it.</summary>
public class ResumeTests
{
    private static readonly TrainingOptions Four = new()
    {
        Epochs = 4, BatchSize = 32, Precision = Precision.Float32, CropPadding = 1, HorizontalFlip = false, Seed = 3, Threads = 2,
    };

    /// <summary>Bars to train on (seed 1) with symmetric noise of <paramref name="rate"/> (seed 5), and to test on (seed 2).</summary>
    private static (ImageDataset Train, NoisyLabelSet Labels, ImageDataset Test) Bars(int trainCount, int testCount, double rate)
    {
        var train = TestData.Bars(trainCount, seed: 1);
        return (train, NoisyLabelSet.Create(train, new SymmetricNoise(rate), 5), TestData.Bars(testCount, seed: 2));
    }

    /// <summary>Trains a new cross-entropy classifier (seeded by <paramref name="initialSeed"/>: a fresh process's own) into <paramref name="folder"/>, from <paramref name="resume"/> if given.</summary>
    private static TrainingResult Train(TrainingOptions options, (ImageDataset Train, NoisyLabelSet Labels, ImageDataset Test) data, RunFolder folder,
        CancellationToken cancellation, string? resume = null, IProgress<TrainingProgress>? progress = null, int? initialSeed = null)
    {
        TrainingLoop.SeedForInitialisation(initialSeed ?? options.Seed);
        using var method = new CrossEntropyMethod(ModelFactory.CreateClassifier(ModelFactory.DefaultEncoder, 1, 4), options);
        using var checkpoint = resume is null ? null : Checkpoint.Load(resume);
        return new TrainingLoop(options).Run(method, data.Train, data.Labels, data.Test, folder, checkpoint, progress, cancellation);
    }

    private static int EpochsIn(string checkpoint) => JsonSerializer.Deserialize<CheckpointState>(Checkpoint.ReadMetadata(checkpoint), RunFolder.Json)!.CompletedEpochs;

    [Fact]
    public void AKillWhileBestCkptIsWrittenLeavesAPairThatResumeMakesConsistent()
    {
        // 128 bars, 15 test images: 4, 11, 10 and 15 of them right in the four epochs, so epoch 4 is a new best.
        var data = Bars(128, 15, 0.4);
        var options = Four with { LearningRate = 0.01 };
        var folder = new RunFolder(TestData.TempDir());
        // After epoch 3 a folder takes the place of best.ckpt's temporary file: epoch 4's copy into best.ckpt fails
        // after last.ckpt is written, and the loop stops there, as a kill during that copy stops it.
        string temporary = folder.BestCheckpoint + $".tmp{Environment.ProcessId}";
        var blockAfterThree = new SynchronousProgress(p => { if (p.Finished?.Epoch == 3) Directory.CreateDirectory(temporary); });
        Assert.NotNull(Record.Exception(() => Train(options, data, folder, TestContext.Current.CancellationToken, progress: blockAfterThree)));
        Directory.Delete(temporary);
        File.WriteAllBytes(temporary, File.ReadAllBytes(folder.LastCheckpoint)[..1000]);
        Assert.Equal((4, 2), (EpochsIn(folder.LastCheckpoint), EpochsIn(folder.BestCheckpoint)));
        Assert.Equal([4, 11, 10, 15], EpochMetrics.ReadCsv(folder.MetricsFile).Select(r => (int)Math.Round(15 * r.TestAccuracy)));

        var resumed = Train(options, data, folder, TestContext.Current.CancellationToken, folder.LastCheckpoint, initialSeed: 99);
        Assert.Equal((1.0, 4), (resumed.Summary.Best, resumed.Summary.BestEpoch));
        Assert.Equal(File.ReadAllBytes(folder.LastCheckpoint), File.ReadAllBytes(folder.BestCheckpoint));

        // Resumed again, the run leaves the best.ckpt that holds its best epoch as it is (a rewrite needs room a nearly full disk may lack).
        var written = new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(folder.BestCheckpoint, written);
        Train(options, data, folder, TestContext.Current.CancellationToken, folder.LastCheckpoint, initialSeed: 99);
        Assert.Equal(written, File.GetLastWriteTimeUtc(folder.BestCheckpoint));
    }

    /// <summary>summary.json without its "seconds" line (the run's wall-clock time).</summary>
    private static string[] SummaryWithoutTime(RunFolder folder) =>
        [.. File.ReadAllLines(folder.SummaryFile).Where(l => !l.TrimStart().StartsWith("\"seconds\"", StringComparison.Ordinal))];

    [Fact]
    public void TiedAccuraciesKeepTheFirstBestAndEveryResumeTheSummary()
    {
        // Nine test images and a barely trained model that predicts one class: 3 of 9 right in every epoch, exactly
        // 1/3, which metrics.csv rounds to 0.333333.
        var data = Bars(64, 9, 0.6);
        var options = Four with { LearningRate = 0.002 };
        var whole = new RunFolder(TestData.TempDir());
        var full = Train(options, data, whole, TestContext.Current.CancellationToken);
        Assert.All(full.Epochs, e => Assert.Equal(1.0 / 3, e.TestAccuracy));
        Assert.Equal(1, full.Summary.BestEpoch);

        var parts = new RunFolder(TestData.TempDir());
        using var kill = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var killAfterTwo = new SynchronousProgress(p => { if (p.Finished?.Epoch == 2) kill.Cancel(); });
        Assert.Throws<OperationCanceledException>(() => Train(options, data, parts, kill.Token, progress: killAfterTwo));
        var resumed = Train(options, data, parts, TestContext.Current.CancellationToken, parts.LastCheckpoint, initialSeed: 99);
        Assert.Equal(full.Summary with { Seconds = 0 }, resumed.Summary with { Seconds = 0 });
        Assert.Equal(SummaryWithoutTime(whole), SummaryWithoutTime(parts));
        Assert.Equal(1, EpochsIn(parts.BestCheckpoint));

        // Resumed once it is finished, the run trains nothing and rewrites the same summary.json, to the byte.
        byte[] summary = File.ReadAllBytes(parts.SummaryFile);
        Train(options, data, parts, TestContext.Current.CancellationToken, parts.LastCheckpoint, initialSeed: 99);
        Assert.Equal(summary, File.ReadAllBytes(parts.SummaryFile));
    }

    [Fact]
    public void ACheckpointWithoutRecordedAccuraciesResumesFromMetricsCsv()
    {
        var data = Bars(64, 15, 0.4);
        var options = Four with { Epochs = 2, LearningRate = 0.01 };
        var folder = new RunFolder(TestData.TempDir());
        using var kill = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var killAfterOne = new SynchronousProgress(p => { if (p.Finished?.Epoch == 1) kill.Cancel(); });
        Assert.Throws<OperationCanceledException>(() => Train(options, data, folder, kill.Token, progress: killAfterOne));
        // last.ckpt as versions before the recorded accuracies wrote it: method, epochs and networks only.
        using (var written = Checkpoint.Load(folder.LastCheckpoint))
            Checkpoint.Save(folder.LastCheckpoint, """{"method":"ce","completedEpochs":1,"networks":["net"]}""", written.Tensors.Select(kv => (kv.Key, kv.Value)));

        var resumed = Train(options, data, folder, TestContext.Current.CancellationToken, folder.LastCheckpoint, initialSeed: 99);
        Assert.Equal(2, resumed.Epochs.Count);
        Assert.Equal(EpochMetrics.ReadCsv(folder.MetricsFile)[0].TestAccuracy, resumed.Epochs[0].TestAccuracy);
    }
}
