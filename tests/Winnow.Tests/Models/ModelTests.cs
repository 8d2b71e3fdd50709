using TorchSharp;
using Winnow.Models;
using static TorchSharp.torch;

namespace Winnow.Tests.Models;

public class ModelTests
{
    [Fact]
    public void LibTorchLoadsAndComputes()
    {
        using var a = tensor(new float[] { 1, 2, 3, 4 }, [2, 2]);
        using var b = a.matmul(a);
        Assert.Equal([7f, 10f, 15f, 22f], b.data<float>().ToArray());
    }

    [Theory]
    [InlineData("compact-resnet", 1, 28, 192)]
    [InlineData("compact-resnet", 3, 32, 192)]
    [InlineData("preact-resnet18", 1, 28, 512)]
    [InlineData("resnet18", 3, 32, 512)]
    public void EncodersMapImagesToFeatureVectors(string name, int channels, int size, int features)
    {
        using var _ = NewDisposeScope();
        using var net = ModelFactory.CreateClassifier(name, channels, 10);
        net.eval();
        var x = randn(2, channels, size, size);
        Assert.Equal(features, net.Encoder.FeatureDimension);
        Assert.Equal([2L, features], net.Features(x).shape);
        Assert.Equal([2L, 10], net.forward(x).shape);
    }

    [Fact]
    public void KeepAliveBatchNormMatchesTorchSharpsBatchNormAndItsStateDict()
    {
        using var _ = NewDisposeScope();
        manual_seed(3);
        using var ours = new KeepAliveBatchNorm2d(3);
        using var reference = nn.BatchNorm2d(3);
        Assert.Equal(reference.state_dict().Keys.OrderBy(k => k), ours.state_dict().Keys.OrderBy(k => k));
        for (int step = 0; step < 3; step++)
        {
            var x = randn(4, 3, 5, 5).Times(2).Plus(1);
            Assert.True(allclose(reference.forward(x), ours.forward(x), 1e-5, 1e-6));
        }
        Assert.Equal(3L, ours.state_dict()["num_batches_tracked"].item<long>());
        Assert.True(allclose(reference.running_mean!, ours.state_dict()["running_mean"]));
        Assert.True(allclose(reference.running_var!, ours.state_dict()["running_var"]));
        ours.eval();
        reference.eval();
        var y = randn(2, 3, 5, 5);
        Assert.True(allclose(reference.forward(y), ours.forward(y), 1e-5, 1e-6));
        Assert.Equal(3L, ours.state_dict()["num_batches_tracked"].item<long>());
    }

    [Fact]
    public void PreActBlockAddsThePreActivatedInputOnItsIdentityShortcut()
    {
        using var _ = NewDisposeScope();
        var block = new PreActBlock(4, 4, 1);
        using (no_grad())
            foreach (var (name, p) in block.named_parameters())
                if (name.StartsWith("conv2")) p.zero_();
        block.eval();
        var x = randn(2, 4, 5, 5);
        // With conv2 zero the residual branch vanishes; in eval mode BN1 with fresh statistics is x / sqrt(1 + eps).
        var expected = nn.functional.relu(x.DividedBy(Math.Sqrt(1 + 1e-5)));
        Assert.True(block.forward(x).allclose(expected, rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void BFloat16ForwardMatchesFloat32AndKeepsFloat32Weights()
    {
        using var _ = NewDisposeScope();
        manual_seed(1);
        using var net = ModelFactory.CreateClassifier(ModelFactory.DefaultEncoder, 1, 10);
        net.eval();
        var x = randn(8, 1, 28, 28);
        var fp32 = net.forward(x);
        net.Precision = Precision.BFloat16;
        var bf16 = net.forward(x);
        Assert.Equal(ScalarType.Float32, bf16.dtype);
        Assert.All(net.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
        double relative = (bf16 - fp32).abs().max().item<float>() / fp32.abs().max().item<float>();
        Assert.InRange(relative, 0, 0.05);
    }

    [Fact]
    public void BFloat16GradientsReachTheFloat32Weights()
    {
        using var _ = NewDisposeScope();
        using var net = ModelFactory.CreateClassifier(ModelFactory.DefaultEncoder, 1, 10);
        net.Precision = Precision.BFloat16;
        net.train();
        var loss = nn.functional.cross_entropy(net.forward(randn(4, 1, 28, 28)), tensor(new long[] { 0, 1, 2, 3 }));
        loss.backward();
        Assert.All(net.parameters(), p =>
        {
            Assert.NotNull(p.grad);
            Assert.Equal(ScalarType.Float32, p.grad!.dtype);
        });
        Assert.True(net.parameters().Sum(p => p.grad!.abs().sum().item<float>()) > 0);
    }

    [Fact]
    public void AConvolutionWithItsBatchNormFoldedInGivesTheirEvalModeResult()
    {
        using var _ = NewDisposeScope();
        manual_seed(4);
        using var conv = new MixedConv2d(6, 8, 3, 2, 1);
        using var norm = new KeepAliveBatchNorm2d(8);
        norm.train();
        using (no_grad()) for (int i = 0; i < 5; i++) norm.forward(conv.forward(randn(16, 6, 9, 9).Times(2).Plus(1)));
        norm.eval();
        var x = randn(4, 6, 9, 9);
        var expected = norm.forward(conv.forward(x));
        var folded = conv.ForwardFolded(x, norm);
        Assert.Equal(expected.shape, folded.shape);
        Assert.True(folded.allclose(expected, rtol: 1e-4, atol: 1e-5), $"max difference {(folded - expected).abs().max().item<float>()}");
        // The running statistics moved away from (0, 1), so the fold is not the identity.
        var (scale, shift) = norm.EvalAffine();
        Assert.True(shift.abs().max().item<float>() > 0.1);
        Assert.True(scale.Plus(-1).abs().max().item<float>() > 0.1);
    }

    [Fact]
    public void EvalModeGivesTheSameLogitsInEveryEncoderAfterTraining()
    {
        // The eval fast path (batch norms folded into convolutions) must agree with a batch's own statistics when the
        // running statistics equal them: momentum 1 makes them the last batch's, so train and eval mode see the same norm.
        foreach (var name in new[] { ModelFactory.DefaultEncoder, "resnet18" })
        {
            using var _ = NewDisposeScope();
            manual_seed(5);
            using var net = ModelFactory.CreateClassifier(name, 3, 10);
            foreach (var bn in net.modules().OfType<KeepAliveBatchNorm2d>()) bn.Momentum = 1;
            var x = randn(64, 3, 28, 28);
            net.train();
            Tensor trainMode;
            using (no_grad()) trainMode = net.forward(x);
            net.eval();
            var evalMode = net.forward(x);
            double rel = (evalMode - trainMode).abs().max().item<float>() / trainMode.abs().max().item<float>();
            Assert.True(rel < 2e-3, $"{name}: eval differs from train mode by {rel}");
        }
    }

    [Fact]
    public void UnknownModelIsAnError()
    {
        Assert.Contains("unknown model 'resnet9000'", Assert.Throws<WinnowException>(() => ModelFactory.CreateEncoder("resnet9000", 1)).Message);
    }
}
