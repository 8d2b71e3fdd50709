using Winnow.Data;
using Winnow.Methods;
using Winnow.Models;
using Winnow.Training;
using static TorchSharp.torch;

namespace Winnow.Tests.Models;

/// <summary>The fast photo network: its whitening layer, its shapes, its place in the loop.</summary>
public class WhitenedConvNetTests
{
    private const double Eps = 5e-4;

    /// <summary>
    /// Four 1-channel 2×2 images, each a single lit pixel (4, 3, 2, 1 at positions 0..3): every image is one 2×2 patch,
    /// so Σ = (1/4)·diag(16, 9, 4, 1) = diag(4, 2.25, 1, 0.25), eigenvectors the unit vectors, and the filters, largest
    /// eigenvalue first, are ±e_i/√(λ_i + ε), followed by their negations.
    /// </summary>
    [Fact]
    public void TheWhiteningFiltersEqualTheHandComputedOnesOfATinyImageSet()
    {
        using var _ = NewDisposeScope();
        var images = tensor(new float[] { 4, 0, 0, 0, 0, 3, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1 }).reshape(4, 1, 2, 2);
        using var layer = new PatchWhitening(1);
        Assert.False(layer.IsInitialised);
        layer.InitialiseFromImages(images);
        Assert.True(layer.IsInitialised);
        var w = layer.Weight.reshape(8, 4).data<float>().ToArray();
        double[] lambda = [4, 2.25, 1, 0.25];
        for (int f = 0; f < 4; f++)
            for (int j = 0; j < 4; j++)
            {
                double expected = j == f ? 1 / Math.Sqrt(lambda[f] + Eps) : 0;
                Assert.Equal(expected, Math.Abs(w[f * 4 + j]), 4);
                Assert.Equal(-w[f * 4 + j], w[(f + 4) * 4 + j], 6);
            }
        // The first image's whitened coordinate along its own pixel: 4/√(4 + ε) ≈ 2 (up to the eigenvector's sign).
        var output = layer.forward(images.narrow(0, 0, 1)).flatten();
        Assert.Equal(4 / Math.Sqrt(4 + Eps), Math.Abs(output[0].item<float>()), 4);
    }

    [Fact]
    public void WhitenedPatchesOfColourImagesHaveTheIdentityCovariance()
    {
        using var _ = NewDisposeScope();
        manual_seed(4);
        // Correlated channels: a shared component plus noise, so the raw patch covariance is far from the identity.
        var shared = randn(64, 1, 8, 8);
        var images = cat([shared, shared.Times(0.5).Plus(randn(64, 1, 8, 8).Times(0.1)), randn(64, 1, 8, 8)], 1);
        using var layer = new PatchWhitening(3);
        layer.InitialiseFromImages(images);
        var filters = layer.Weight.narrow(0, 0, 12).reshape(12, 12).to(ScalarType.Float64);
        var patches = images.to(ScalarType.Float64).unfold(2, 2, 1).unfold(3, 2, 1).permute(0, 2, 3, 1, 4, 5).reshape(-1, 12);
        var covariance = patches.t().matmul(patches).DividedBy(patches.shape[0]);
        var whitened = filters.matmul(covariance).matmul(filters.t());
        var values = linalg.eigvalsh(covariance).flip(0);
        for (int i = 0; i < 12; i++)
            for (int j = 0; j < 12; j++)
            {
                double expected = i == j ? values[i].item<double>() / (values[i].item<double>() + Eps) : 0;
                Assert.Equal(expected, whitened[i, j].item<double>(), 3);
            }
        Assert.Equal(24, layer.OutputChannels);
    }

    [Fact]
    public void TheNetworkRefusesToRunBeforeItsWhiteningLayerIsComputed()
    {
        using var _ = NewDisposeScope();
        using var net = ModelFactory.CreateClassifier(ModelFactory.FastCnn, 3, 10);
        var x = randn(2, 3, 32, 32);
        Assert.Contains("never initialised", Assert.Throws<WinnowException>(() => net.forward(x)).Message);
        Assert.Equal(1, DataDependentLayers.Initialise(net, n => x.clone()));
        Assert.Equal(0, DataDependentLayers.Initialise(net, n => x.clone()));
        Assert.Equal([2L, 10L], net.forward(x).shape);
        Assert.Equal((256, 1, 1), net.Encoder.FeatureMapShape(3, 32, 32));
        Assert.Equal([2L, 256L, 1L, 1L], net.FeatureMap(x).shape);
    }

    [Fact]
    public void TheWhiteningFiltersTravelInTheCheckpointAndTheBiasStopsTrainingAfterItsEpochs()
    {
        using var _ = NewDisposeScope();
        var x = randn(4, 3, 16, 16);
        using var a = ModelFactory.CreateClassifier(ModelFactory.FastCnn, 3, 10);
        DataDependentLayers.Initialise(a, n => x.clone());
        using var b = ModelFactory.CreateClassifier(ModelFactory.FastCnn, 3, 10);
        using (no_grad())
            foreach (var (key, value) in b.state_dict()) value.copy_(a.state_dict()[key]);
        var whitening = ((WhitenedConvNetEncoder)b.Encoder).Whitening;
        Assert.True(whitening.IsInitialised);
        Assert.Equal(0, DataDependentLayers.Initialise(b, n => throw new InvalidOperationException("must not be recomputed")));
        Assert.DoesNotContain(b.parameters(), p => ReferenceEquals(p, whitening.Weight));
        DataDependentLayers.BeginEpoch(b, 2);
        Assert.True(whitening.Bias.requires_grad);
        DataDependentLayers.BeginEpoch(b, 3);
        Assert.False(whitening.Bias.requires_grad);
    }

    [Fact]
    public void TheLoopComputesTheWhiteningLayerFromTheFirstTrainingImagesBeforeTheFirstStep()
    {
        var train = TestData.Colour(64, seed: 1);
        var test = TestData.Colour(32, seed: 2);
        var labels = NoisyLabelSet.Create(train, new SymmetricNoise(0), 5);
        var options = new TrainingOptions { Epochs = 1, BatchSize = 16, Precision = Precision.Float32, Threads = 2, EvaluateTrainingSet = false };
        TrainingLoop.SeedForInitialisation(0);
        using var method = new CrossEntropyMethod(ModelFactory.CreateClassifier(ModelFactory.FastCnn, 3, 4), options);
        new TrainingLoop(options).Run(method, train, labels, test, cancellation: TestContext.Current.CancellationToken);
        using var _ = NewDisposeScope();
        var expected = PatchWhitening.WhiteningFilters(TrainingLoop.FirstImages(train, 5000), 2, Eps);
        var whitening = ((WhitenedConvNetEncoder)method.Network.Encoder).Whitening;
        Assert.Equal(64, TrainingLoop.FirstImages(train, 5000).shape[0]);
        Assert.True(whitening.Weight.narrow(0, 0, 12).allclose(expected, 1e-5, 1e-5));
    }
}
