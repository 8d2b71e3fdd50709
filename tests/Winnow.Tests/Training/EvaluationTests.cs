using Winnow.Models;
using Winnow.Training;
using static TorchSharp.torch;

namespace Winnow.Tests.Training;

public class EvaluationTests
{
    [Fact]
    public void ParallelInferenceKeepsTheDatasetOrderAndMatchesOneBatchAtATime()
    {
        var data = TestData.Bars(300, classes: 4);
        manual_seed(2);
        using var net = ModelFactory.CreateClassifier(ModelFactory.DefaultEncoder, 1, 4);
        net.eval();
        Tensor Logits(Tensor x) { using var _ = no_grad(); return net.forward(x); }
        // 300 images in batches of 64: five batches, the last of 44, spread over the workers.
        var parallel = Evaluation.Logits(Logits, data, 64, TestContext.Current.CancellationToken);
        Assert.Equal(300 * 4, parallel.Length);
        var expected = new List<float>();
        for (int start = 0; start < 300; start += 64)
        {
            using var scope = NewDisposeScope();
            int count = Math.Min(64, 300 - start);
            var x = stack(Enumerable.Range(start, count).Select(i => tensor(Normalised(data, i), [1, 16, 16])).ToArray());
            expected.AddRange(Logits(x).data<float>().ToArray());
        }
        for (int i = 0; i < parallel.Length; i++) Assert.Equal(expected[i], parallel[i], 4);
    }

    private static float[] Normalised(Winnow.Data.ImageDataset data, int i)
    {
        var pixels = new float[data.ImageSize];
        Winnow.Data.NormalizeOnly.Instance.Apply(data.Image(i), pixels, data.Channels, data.Height, data.Width, data.Normalization, new Random(0));
        return pixels;
    }

    [Fact]
    public void ACancelledEvaluationStopsWithOperationCanceled()
    {
        var data = TestData.Bars(300, classes: 4);
        using var net = ModelFactory.CreateClassifier(ModelFactory.DefaultEncoder, 1, 4);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Tensor Logits(Tensor x) { using var _ = no_grad(); return net.forward(x); }
        Assert.ThrowsAny<OperationCanceledException>(() => Evaluation.Logits(Logits, data, 64, cancelled.Token));
    }
}
