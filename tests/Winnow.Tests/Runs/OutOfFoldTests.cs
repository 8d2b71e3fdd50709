using Winnow.Data;
using Winnow.Models;
using Winnow.Runs;
using Winnow.Training;

namespace Winnow.Tests.Runs;

/// <summary>Out-of-fold predictions: folds, bookkeeping, and that no sample is scored by a model that trained on it.</summary>
public class OutOfFoldTests
{
    [Fact]
    public void FoldsPartitionTheSamplesStratifiedByLabelAndDependOnlyOnTheSeed()
    {
        var labels = Enumerable.Range(0, 103).Select(i => i % 7 == 0 ? 2 : i % 3).ToArray();
        var fold = FoldAssignment.Assign(labels, 3, 4, seed: 5);
        Assert.Equal(fold, FoldAssignment.Assign(labels, 3, 4, seed: 5));
        Assert.NotEqual(fold, FoldAssignment.Assign(labels, 3, 4, seed: 6));
        Assert.All(fold, f => Assert.InRange(f, 0, 3));
        var sizes = Enumerable.Range(0, 4).Select(f => fold.Count(x => x == f)).ToArray();
        Assert.True(sizes.Max() - sizes.Min() <= 1, string.Join(",", sizes));
        for (int c = 0; c < 3; c++)
        {
            var perFold = Enumerable.Range(0, 4).Select(f => Enumerable.Range(0, labels.Length).Count(i => labels[i] == c && fold[i] == f)).ToArray();
            Assert.True(perFold.Max() - perFold.Min() <= 1, $"class {c}: {string.Join(",", perFold)}");
        }
        Assert.Contains("at least 2", Assert.Throws<WinnowException>(() => FoldAssignment.Assign(labels, 3, 1, 0)).Message);
    }

    [Fact]
    public void EverySampleIsScoredByTheOneFoldModelThatNeverTrainedOnIt()
    {
        string train = Cli.CliTests.BarsFolder(60, seed: 1), test = Cli.CliTests.BarsFolder(16, seed: 2);
        var manifest = new RunManifest
        {
            Method = "ce",
            Model = ModelFactory.DefaultEncoder,
            Dataset = new DatasetSpec { Kind = DatasetKind.Folder, Path = train, TestPath = test, Channels = 1 },
            Noise = new NoiseSpec { Kind = NoiseKind.Symmetric, Rate = 0.3, Seed = 4 },
            Training = new TrainingOptions { Epochs = 2, BatchSize = 16, Precision = Precision.Float32, Threads = 2, Seed = 3, EvaluateTrainingSet = false },
        };
        string folder = TestData.TempDir();
        var result = OutOfFoldJob.Run(manifest, folder, 3, cancellation: TestContext.Current.CancellationToken);
        Assert.Equal(60, result.Fold.Length);
        var dataset = manifest.Dataset.LoadTrain();
        for (int f = 0; f < 3; f++)
        {
            var run = new RunFolder(Path.Combine(folder, $"fold-{f + 1}"));
            var leftOut = SampleExclusion.Read(run.ExcludedSamplesFile, dataset);
            // The fold's model left out exactly the samples it scores, and trained on all the others.
            Assert.Equal(Enumerable.Range(0, 60).Where(i => result.Fold[i] == f), leftOut);
            Assert.Equal(60 - leftOut.Length, RunManifest.Read(run).SampleCount);
            var (_, method) = TrainingJob.LoadTrained(run.LastCheckpoint);
            using (method)
            {
                var direct = Evaluation.Predict(method.PredictLogits, dataset.Subset(leftOut), cancellation: TestContext.Current.CancellationToken).Probabilities;
                for (int j = 0; j < leftOut.Length; j++)
                    for (int c = 0; c < 4; c++)
                        Assert.Equal(direct[j * 4 + c], result.Probabilities[leftOut[j] * 4 + c], 5);
            }
            Assert.False(File.Exists(Path.Combine(run.Path, "label_issues.csv")), "a fold run writes no label issues of its own");
        }
        Assert.True(File.Exists(Path.Combine(folder, OutOfFoldJob.ProbabilitiesFile)));
        Assert.Equal(61, File.ReadAllLines(Path.Combine(folder, OutOfFoldJob.FoldsFile)).Length);

        // Started again, the finished fold runs are reused, not retrained.
        var stamp = File.GetLastWriteTimeUtc(Path.Combine(folder, "fold-2", "last.ckpt"));
        var again = OutOfFoldJob.Run(manifest, folder, 3, cancellation: TestContext.Current.CancellationToken);
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(Path.Combine(folder, "fold-2", "last.ckpt")));
        Assert.Equal(result.Probabilities, again.Probabilities);
        // Other folds for the same folder are refused, naming the file.
        var other = Assert.Throws<DataFormatException>(() => OutOfFoldJob.Run(manifest with { Training = manifest.Training with { Seed = 9 } }, folder, 3, cancellation: TestContext.Current.CancellationToken));
        Assert.Contains(OutOfFoldJob.FoldsFile, other.Message);
    }
}
