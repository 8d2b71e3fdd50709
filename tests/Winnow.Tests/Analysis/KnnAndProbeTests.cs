using Winnow.Training;
using Winnow.Runs;
using Winnow.Models;
using Winnow.Analysis;
using static TorchSharp.torch;

namespace Winnow.Tests.Analysis;

public class KnnAndProbeTests
{
    [Fact]
    public void WeightedKnnVotesByExponentiatedSimilarity()
    {
        using var _ = NewDisposeScope();
        // Bank: two class-0 points near (1, 0.1) and one class-1 point at (0, 1); the query (1, 0.2) is nearest class 0.
        var bank = tensor(new float[] { 1, 0.1f, 1, -0.1f, 0, 1 }, [3, 2]);
        var queries = tensor(new float[] { 1, 0.2f, 0.1f, 1 }, [2, 2]);
        Assert.Equal([0, 1], KnnClassifier.Predict(bank, [0, 0, 1], 2, queries, k: 3, temperature: 0.1));
        // With k = 1 only the nearest neighbour votes.
        Assert.Equal([0, 1], KnnClassifier.Predict(bank, [0, 0, 1], 2, queries, k: 1, temperature: 0.5));
    }

    [Fact]
    public void LinearProbeSeparatesLinearlySeparableFeatures()
    {
        using var _ = NewDisposeScope();
        manual_seed(0);
        var labels = Enumerable.Range(0, 400).Select(i => i % 4).ToArray();
        var centres = randn(4, 8).Times(3);
        Tensor Draw() => centres.index_select(0, tensor(labels.Select(l => (long)l).ToArray())).Plus(randn(400, 8).Times(0.5));
        var x = Draw();
        var heldOut = Draw(); // scored on points it never saw
        double acc = LinearProbe.TrainLinear(x, labels, heldOut, labels, 4, new LinearProbeOptions { Epochs = 20, BatchSize = 64, LearningRate = 1e-2 }, cancellation: TestContext.Current.CancellationToken);
        Assert.True(acc > 0.95, $"probe accuracy {acc}");
    }
}
