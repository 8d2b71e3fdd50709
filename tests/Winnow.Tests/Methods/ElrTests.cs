using Winnow.Analysis;
using Winnow.Runs;
using TorchSharp;
using Winnow.Data;
using Winnow.Methods;
using Winnow.Models;
using Winnow.Training;
using static TorchSharp.torch;

namespace Winnow.Tests.Methods;

public class ElrTests
{
    [Fact]
    public void TargetUpdateMatchesTheHandComputedValue()
    {
        using var _ = NewDisposeScope();
        var targets = zeros(3, 2);
        targets[1] = tensor(new float[] { 0.5f, 0.5f });
        // Probabilities (0.6, 0.3) renormalise to (2/3, 1/3); with β = 0.7: 0.7·(0.5, 0.5) + 0.3·(2/3, 1/3) = (0.55, 0.45).
        ElrLoss.UpdateTargets(targets, tensor(new long[] { 1 }), tensor(new float[] { 0.6f, 0.3f }, [1, 2]), 0.7);
        Assert.Equal(0.55f, targets[1, 0].item<float>(), 5);
        Assert.Equal(0.45f, targets[1, 1].item<float>(), 5);
        Assert.Equal(0f, targets[0, 0].item<float>());
        // Regularizer: log(1 − ⟨q, p⟩) = log(1 − (0.55·0.6 + 0.45·0.3)) = log(0.535).
        var p = tensor(new float[] { 0.6f, 0.3f }, [1, 2]);
        Assert.Equal(Math.Log(0.535), ElrLoss.Regularizer(p, targets.narrow(0, 1, 1)).item<float>(), 5);
    }

    [Fact]
    public void RampsFollowThePaper()
    {
        Assert.Equal(1, ElrPlusMethod.SigmoidRampUp(10, 0));
        Assert.Equal(Math.Exp(-5), ElrPlusMethod.SigmoidRampUp(0, 100), 12);
        Assert.Equal(Math.Exp(-5 * 0.25), ElrPlusMethod.SigmoidRampUp(50, 100), 12);
        Assert.Equal(1, ElrPlusMethod.SigmoidRampUp(150, 100), 12);
    }

    [Theory]
    [InlineData("elr")]
    [InlineData("elr-plus")]
    [InlineData("ce-reg")]
    public void MethodLearnsANoisySetAndResumesExactly(string name)
    {
        var train = TestData.Bars(320, seed: 1);
        var test = TestData.Bars(64, seed: 2);
        var noise = new NoiseSpec { Kind = NoiseKind.Symmetric, Rate = 0.4 };
        var labels = noise.Create(train, true);
        var training = new TrainingOptions { Epochs = 3, BatchSize = 32, LearningRate = 0.05, Precision = Precision.Float32, Seed = 1, Threads = 2 };
        var manifest = new RunManifest { Method = name, Noise = noise, Training = training };
        TrainingLoop.SeedForInitialisation(1);
        using var whole = TrainingJob.CreateMethod(manifest, 1, 4, train.Count);
        var full = new TrainingLoop(training).Run(whole, train, labels, test, cancellation: TestContext.Current.CancellationToken);
        Assert.True(full.Summary.Best > 0.8, $"{name}: best test accuracy {full.Summary.Best}");

        var folder = new RunFolder(TestData.TempDir());
        TrainingLoop.SeedForInitialisation(1);
        using var kill = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        using (var first = TrainingJob.CreateMethod(manifest, 1, 4, train.Count))
            Assert.Throws<OperationCanceledException>(() => new TrainingLoop(training).Run(first, train, labels, test, folder,
                progress: new Training.SynchronousProgress(p => { if (p.Finished?.Epoch == 2) kill.Cancel(); }), cancellation: kill.Token));
        TrainingLoop.SeedForInitialisation(7);
        using var second = TrainingJob.CreateMethod(manifest, 1, 4, train.Count);
        using var checkpoint = Checkpoint.Load(folder.LastCheckpoint);
        var resumed = new TrainingLoop(training).Run(second, train, labels, test, folder, checkpoint, cancellation: TestContext.Current.CancellationToken);
        Assert.Equal(full.Epochs.Select(e => e.TestAccuracy), resumed.Epochs.Select(e => e.TestAccuracy));
        Assert.Equal(full.Epochs[^1].TrainLoss, resumed.Epochs[^1].TrainLoss, 5);
    }
}
