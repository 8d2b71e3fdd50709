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

    [Fact]
    public void TheNnpackSwitchReachesLibtorchAndIsRestored()
    {
        // The Jacobian's per-image convolutions run with NNPACK off (no stderr line per convolution on CPUs it does not
        // support); the switch is libtorch's own, read back through the same context.
        var before = Nnpack.SetEnabled(false);
        Assert.NotNull(before);
        Assert.False(Nnpack.SetEnabled(true));
        Assert.True(Nnpack.SetEnabled(before!.Value));
    }

    [Fact]
    public void TheReportSectionTabulatesEachNetworkAndDrawsBothPlots()
    {
        // Two hand-made results: 2 images × 3 outputs, σ = 6 … 1 and 3 … 0.5; the median of six values is the mean of the middle two.
        var pretrained = new JacobianSpectrumResult(2, 3, 1234, [6, 5, 4, 3, 2, 1], 2, 1.2, 0.8, 0.25, [0.5, 0.22, 0.1, 0.08, 0.05, 0.05], 7.4);
        var random = new JacobianSpectrumResult(2, 3, 1234, [3, 2.5, 2, 1.5, 1, 0.5], 2, 1.0, 1.0, 0.2, [0.3, 0.2, 0.2, 0.1, 0.1, 0.1], 6.6);
        var report = new HtmlReport("jacobian");
        var section = JacobianSection.AddTo(report, ("SimCLR <start>", pretrained), ("random", random));
        Assert.Equal(JacobianSection.Id, section.Id);
        string html = report.ToHtml();
        Assert.Contains("<section id=\"jacobian\">", html);
        string cells = html.Replace("<td class=\"num\">", "<td>"); // numbers are right-aligned
        Assert.Contains("<th>σ₂</th>", html);
        Assert.Contains("<td>SimCLR &lt;start&gt;</td><td>1,234</td><td>6</td><td>5</td><td>3.5</td><td>0.583</td><td>1.200</td><td>0.800</td><td>0.250</td><td>7</td>", cells);
        Assert.Contains("<td>random</td><td>1,234</td><td>3</td><td>2.5</td><td>1.75</td><td>0.583</td><td>1.000</td><td>1.000</td><td>0.200</td><td>7</td>", cells);
        TestData.AssertEmbeddedPlots(html, 2);
        Assert.Throws<ArgumentException>(() => JacobianSection.AddTo(new HtmlReport("none")));
    }
}
