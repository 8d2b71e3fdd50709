using Winnow.Analysis;
using Winnow.Models;
using Winnow.Training;
using static TorchSharp.torch;

namespace Winnow.Tests.Analysis;

public class JacobianSpectrumTests
{
    [Fact]
    public void BlocksAssembleTheSameGramAndItsTraceIsTheSumOfSquaredGradients()
    {
        var images = TestData.Bars(40, seed: 4);
        TrainingLoop.SeedForInitialisation(3);
        using var net = ModelFactory.CreateClassifier(ModelFactory.DefaultEncoder, 1, 4);
        long d = net.parameters().Sum(p => p.numel());
        var whole = JacobianSpectrum.Compute(net, images, images.Labels, new JacobianSpectrumOptions { Samples = 6, Seed = 1, TopVectors = 3 }, cancellation: TestContext.Current.CancellationToken);
        // Two images per block: three blocks, six block products.
        var blocked = JacobianSpectrum.Compute(net, images, images.Labels, new JacobianSpectrumOptions { Samples = 6, Seed = 1, TopVectors = 3, BlockMemory = 2 * 2 * 4L * 4 * d },
            cancellation: TestContext.Current.CancellationToken);
        Assert.Equal(24, whole.SingularValues.Length);
        for (int i = 0; i < 24; i++) Assert.Equal(whole.SingularValues[i], blocked.SingularValues[i], whole.SingularValues[0] * 1e-4); // float32 dot products of 680,000 terms in other block shapes
        Assert.Equal(6, whole.ProjectionTop * whole.ProjectionTop + whole.ProjectionRest * whole.ProjectionRest, 6);

        // Σσ² = trace(J Jᵀ) = Σ over images and outputs of the squared norm of the output's gradient, by plain backward passes.
        var rows = RepresentationSpectrum.SubsetIndices(images.Count, 6, 1);
        net.eval();
        double trace = 0;
        var x = Winnow.Data.BatchStream.Build(images, images.Labels, rows, [Winnow.Data.NormalizeOnly.Instance], new Random(0)).MovePixelsToTensor();
        for (int i = 0; i < rows.Length; i++)
            for (int c = 0; c < 4; c++)
            {
                using var scope = NewDisposeScope();
                foreach (var p in net.parameters()) p.grad?.zero_();
                net.forward(x.narrow(0, i, 1))[0, c].backward();
                trace += net.parameters().Where(p => p.grad is not null).Sum(p => p.grad!.to(ScalarType.Float64).Power(2).sum().item<double>());
            }
        Assert.Equal(trace, whole.SingularValues.Sum(s => s * s), trace * 1e-5);
    }
}
