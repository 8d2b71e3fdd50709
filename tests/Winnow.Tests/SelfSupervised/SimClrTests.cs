using TorchSharp;
using Winnow.Data;
using Winnow.Models;
using Winnow.SelfSupervised;
using Winnow.Training;
using static TorchSharp.torch;

namespace Winnow.Tests.SelfSupervised;

public class NtXentLossTests
{
    [Fact]
    public void MatchesTheHandComputedValueOnATinyBatch()
    {
        using var _ = NewDisposeScope();
        // Two images, identical views: z = [e1, e2 | e1, e2]. Each row has one positive of similarity 1 and two
        // negatives of similarity 0, so with τ = 0.5 every row's loss is −log(e² / (e⁰ + e² + e⁰)) = log(2 + e²) − 2.
        var z = tensor(new float[] { 1, 0, 0, 1, 1, 0, 0, 1 }, [4, 2]);
        double expected = Math.Log(2 + Math.Exp(2)) - 2;
        Assert.Equal(expected, NtXentLoss.Compute(z, 0.5).item<float>(), 5);
    }

    [Fact]
    public void MatchesAScalarReferenceOnRandomProjections()
    {
        using var _ = NewDisposeScope();
        manual_seed(4);
        var z = randn(6, 5);
        double tau = 0.3;
        var rows = nn.functional.normalize(z, dim: 1).data<float>().ToArray();
        double Dot(int a, int b) => Enumerable.Range(0, 5).Sum(k => (double)rows[a * 5 + k] * rows[b * 5 + k]);
        double total = 0;
        for (int i = 0; i < 6; i++)
        {
            int pos = (i + 3) % 6;
            double denominator = Enumerable.Range(0, 6).Where(k => k != i).Sum(k => Math.Exp(Dot(i, k) / tau));
            total += -(Dot(i, pos) / tau - Math.Log(denominator));
        }
        Assert.Equal(total / 6, NtXentLoss.Compute(z, tau).item<float>(), 4);
    }

    [Fact]
    public void RejectsAnOddNumberOfRows()
    {
        using var _ = NewDisposeScope();
        Assert.Throws<ArgumentException>(() => NtXentLoss.Compute(randn(5, 3), 0.5));
    }
}

public class SimClrAugmentationTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void TwoViewsDifferAndKeepShapeAndRange(int channels)
    {
        var image = new byte[channels * 28 * 28];
        var rng = new Random(1);
        for (int i = 0; i < image.Length; i++) image[i] = (byte)((i * 37 + rng.Next(50)) % 256);
        var norm = new Normalization(Enumerable.Repeat(0.3f, channels).ToArray(), Enumerable.Repeat(0.4f, channels).ToArray());
        var aug = new SimClrAugmentation { BlurProbability = 0.5 };
        var v1 = new float[image.Length];
        var v2 = new float[image.Length];
        var views = new Random(7);
        aug.Apply(image, v1, channels, 28, 28, norm, views);
        aug.Apply(image, v2, channels, 28, 28, norm, views);
        Assert.NotEqual(v1, v2);
        float lo = (0 - 0.3f) / 0.4f - 1e-4f, hi = (1 - 0.3f) / 0.4f + 1e-4f;
        Assert.All(v1.Concat(v2), v => Assert.InRange(v, lo, hi));
        // Same generator state, same view: the augmentation is deterministic in its seed.
        var again = new float[image.Length];
        aug.Apply(image, again, channels, 28, 28, norm, new Random(7));
        Assert.Equal(v1, again);
    }

    [Fact]
    public void FullScaleCropWithoutJitterOrFlipReturnsTheImage()
    {
        var image = Enumerable.Range(0, 64).Select(i => (byte)(i * 4)).ToArray();
        var aug = new SimClrAugmentation { CropScaleMin = 1, FlipProbability = 0, JitterProbability = 0 };
        var view = new float[64];
        // Scale 1 and aspect ratio near 1 round to the whole 8×8 image, so the bilinear resize is the identity.
        for (int seed = 0; seed < 5; seed++)
        {
            aug.Apply(image, view, 1, 8, 8, new Normalization([0f], [1f]), new Random(seed));
            for (int i = 0; i < 64; i++) Assert.Equal(image[i] / 255f, view[i], 5);
        }
    }
}

public class SimClrMethodTests
{
    [Fact]
    public void PretrainingOnASyntheticSetLearnsFeaturesThatKnnClassifiesWellAboveChance()
    {
        var train = TestData.Bars(512, seed: 1);
        var test = TestData.Bars(128, seed: 2);
        var options = new TrainingOptions { Epochs = 3, BatchSize = 64, LearningRate = 0.06, Precision = Precision.Float32, Seed = 2, Threads = 2, KnnNeighbours = 20 };
        TrainingLoop.SeedForInitialisation(options.Seed);
        using var method = new SimClrMethod(ModelFactory.CreateEncoder(ModelFactory.DefaultEncoder, 1), new SimClrOptions(), options);
        var labels = NoisyLabelSet.Create(train, null, 0);
        var result = new TrainingLoop(options).Run(method, train, labels, test, cancellation: TestContext.Current.CancellationToken);
        Assert.True(result.Epochs[^1].TrainLoss < result.Epochs[0].TrainLoss, "the NT-Xent loss should fall");
        Assert.True(result.Epochs[^1].TestAccuracy > 0.6, $"kNN accuracy {result.Epochs[^1].TestAccuracy} (chance 0.25)");
        Assert.True(double.IsNaN(result.Epochs[^1].TrainAccuracyNoisy));
    }

    [Fact]
    public void PretrainingNeverReadsALabel()
    {
        var train = TestData.Bars(128, seed: 1);
        var options = new TrainingOptions { Epochs = 1, BatchSize = 32, Precision = Precision.Float32, Seed = 2, Threads = 2, KnnNeighbours = 5 };
        float[] Weights(int[] labels)
        {
            TrainingLoop.SeedForInitialisation(options.Seed);
            using var method = new SimClrMethod(ModelFactory.CreateEncoder(ModelFactory.DefaultEncoder, 1), new SimClrOptions(), options);
            new TrainingLoop(options).Run(method, train, new NoisyLabelSet(labels, null, 4, "x"), train, cancellation: TestContext.Current.CancellationToken);
            return method.Encoder.parameters().SelectMany(p => p.data<float>().ToArray()).ToArray();
        }
        var shuffled = train.Labels.Reverse().ToArray();
        Assert.Equal(Weights(train.Labels), Weights(shuffled));
    }
}
