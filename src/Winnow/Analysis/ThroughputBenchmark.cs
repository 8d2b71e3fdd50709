using System.Diagnostics;
using Winnow.Models;
using Winnow.Training;
using static TorchSharp.torch;

namespace Winnow.Analysis;

/// <summary>What <see cref="ThroughputBenchmark"/> measures.</summary>
/// <param name="Model">Registered encoder name.</param>
/// <param name="Batch">Images per step.</param>
/// <param name="Channels">Input channels.</param>
/// <param name="Size">Input height and width.</param>
/// <param name="Precision">Compute precision.</param>
/// <param name="Steps">Timed steps (after two warm-up steps).</param>
/// <param name="Threads">Torch intra-op threads.</param>
public sealed record ThroughputOptions(string Model = ModelFactory.DefaultEncoder, int Batch = 128, int Channels = 1, int Size = 28,
    Precision Precision = Precision.Float32, int Steps = 10, int Threads = 2);

/// <summary>
/// Training throughput: images per second of a full SGD training step (forward, cross-entropy, backward, update) on
/// random inputs, the same measurement as ../shared/bench/torch_reference.py.
/// </summary>
public static class ThroughputBenchmark
{
    /// <summary>Runs the benchmark and returns images per second.</summary>
    public static double TrainingImagesPerSecond(ThroughputOptions o, CancellationToken cancellation = default)
    {
        set_num_threads(o.Threads);
        manual_seed(0);
        using var model = ModelFactory.CreateClassifier(o.Model, o.Channels, 10);
        model.Precision = o.Precision;
        model.train();
        var optimizer = new SgdOptimizer(model.parameters(), 0.02, 0.9, 5e-4);
        using var x = randn(o.Batch, o.Channels, o.Size, o.Size);
        using var y = randint(0, 10, [o.Batch]);
        void Step()
        {
            using var scope = NewDisposeScope();
            optimizer.ZeroGrad();
            var loss = nn.functional.cross_entropy(model.forward(x), y);
            loss.backward();
            optimizer.Step();
        }
        Step();
        Step();
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < o.Steps; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            Step();
        }
        return o.Steps * o.Batch / sw.Elapsed.TotalSeconds;
    }
}
