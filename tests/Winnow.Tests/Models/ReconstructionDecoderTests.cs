using TorchSharp;
using Winnow.Models;
using static TorchSharp.torch;

namespace Winnow.Tests.Models;

public class ReconstructionDecoderTests
{
    [Theory]
    [InlineData("compact-resnet", 1, 28)]
    [InlineData("preact-resnet18", 1, 28)]
    [InlineData("resnet18", 1, 28)]
    [InlineData("resnet18", 3, 32)]
    [InlineData("compact-resnet", 3, 32)]
    public void DecoderOutputHasTheInputsShape(string encoderName, int channels, int size)
    {
        using var _ = NewDisposeScope();
        manual_seed(5);
        using var net = ModelFactory.CreateClassifier(encoderName, channels, 10);
        net.eval();
        using var decoder = ReconstructionDecoder.For(net.Encoder, (channels, size, size));
        var x = randn(2, channels, size, size);
        var maps = net.FeatureMap(x);
        Assert.Equal(decoder.FeatureMapShape, ((int)maps.shape[1], (int)maps.shape[2], (int)maps.shape[3]));
        Assert.Equal([2L, channels, size, size], decoder.forward(maps).shape);
        Assert.False(decoder.ResizesOutput);
        Assert.Equal(3, decoder.Layers.Count);
        Assert.Equal(channels, decoder.Layers[^1].OutChannels);
    }

    [Fact]
    public void ResNet18On32PixelImagesUsesTheOfficialThreeLayers()
    {
        using var _ = NewDisposeScope();
        using var encoder = ModelFactory.CreateEncoder("resnet18", 3);
        using var decoder = ReconstructionDecoder.For(encoder, (3, 32, 32));
        Assert.Equal((512, 4, 4), decoder.FeatureMapShape);
        var layers = decoder.Layers;
        Assert.Equal((512, 256, (4, 4), (2, 2), (0, 0)), (layers[0].InChannels, layers[0].OutChannels, layers[0].Kernel, layers[0].Stride, layers[0].OutputPadding));
        Assert.Equal((256, 128, (6, 6), (1, 1), (0, 0)), (layers[1].InChannels, layers[1].OutChannels, layers[1].Kernel, layers[1].Stride, layers[1].OutputPadding));
        Assert.Equal((128, 3, (4, 4), (2, 2), (0, 0)), (layers[2].InChannels, layers[2].OutChannels, layers[2].Kernel, layers[2].Stride, layers[2].OutputPadding));
        // Bias on every layer, and nothing but the three layers' weights and biases.
        Assert.Equal(6, decoder.parameters().Count());
        // Purely linear: the decoder of a sum is the sum of the decodings less one bias pass.
        var a = randn(2, 512, 4, 4);
        var b = randn(2, 512, 4, 4);
        var zero = zeros(2, 512, 4, 4);
        var lhs = decoder.forward(a.Plus(b)).Plus(decoder.forward(zero));
        var rhs = decoder.forward(a).Plus(decoder.forward(b));
        Assert.True(lhs.allclose(rhs, rtol: 1e-4, atol: 1e-4));
    }

    [Fact]
    public void OddAndTinyImagesStillGetTheirExactSize()
    {
        using var _ = NewDisposeScope();
        using var odd = new ReconstructionDecoder((16, 4, 4), (1, 31, 29));
        Assert.False(odd.ResizesOutput);
        Assert.Equal([1L, 1, 31, 29], odd.forward(randn(1, 16, 4, 4)).shape);
        using var tiny = new ReconstructionDecoder((16, 1, 1), (3, 8, 8));
        Assert.True(tiny.ResizesOutput);
        Assert.Equal([1L, 3, 8, 8], tiny.forward(randn(1, 16, 1, 1)).shape);
    }

    [Fact]
    public void AWidthDivisorNarrowsTheHiddenLayersAndKeepsTheImageShape()
    {
        using var _ = NewDisposeScope();
        using var official = new ReconstructionDecoder((192, 4, 4), (1, 28, 28));
        using var narrow = new ReconstructionDecoder((192, 4, 4), (1, 28, 28), widthDivisor: 4);
        Assert.Equal([96, 48, 1], official.Layers.Select(l => l.OutChannels));
        Assert.Equal([48, 24, 1], narrow.Layers.Select(l => l.OutChannels));
        Assert.Equal([3L, 1, 28, 28], narrow.forward(randn(3, 192, 4, 4)).shape);
        Assert.Throws<ArgumentException>(() => new ReconstructionDecoder((192, 4, 4), (1, 28, 28), widthDivisor: 0));
    }

    [Fact]
    public void BFloat16DecoderMatchesFloat32AndKeepsFloat32Weights()
    {
        using var _ = NewDisposeScope();
        manual_seed(2);
        using var decoder = new ReconstructionDecoder((192, 4, 4), (1, 28, 28));
        var maps = randn(4, 192, 4, 4);
        var fp32 = decoder.forward(maps);
        decoder.Precision = Precision.BFloat16;
        var bf16 = decoder.forward(maps);
        Assert.Equal(ScalarType.Float32, bf16.dtype);
        Assert.All(decoder.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
        double relative = bf16.sub(fp32).norm().item<float>() / fp32.norm().item<float>();
        Assert.True(relative < 0.03, $"relative error {relative}");
    }

    [Theory]
    [InlineData("compact-resnet", 1, 28)]
    [InlineData("preact-resnet18", 1, 28)]
    [InlineData("resnet18", 3, 32)]
    public void PooledFeatureMapEqualsTheFeaturesInEvalAndTrainMode(string encoderName, int channels, int size)
    {
        using var _ = NewDisposeScope();
        manual_seed(9);
        using var net = ModelFactory.CreateClassifier(encoderName, channels, 10);
        var x = randn(4, channels, size, size);
        foreach (bool training in new[] { false, true })
        {
            net.train(training);
            var maps = net.FeatureMap(x);
            Assert.Equal(ScalarType.Float32, maps.dtype);
            var (c, h, w) = net.Encoder.FeatureMapShape(channels, size, size);
            Assert.Equal([4L, c, h, w], maps.shape);
            var pooled = nn.functional.adaptive_avg_pool2d(maps, [1, 1]).flatten(1);
            var features = net.Features(x);
            Assert.True(pooled.allclose(features, rtol: 1e-5, atol: 1e-6), $"{encoderName}, training {training}");
        }
    }
}
