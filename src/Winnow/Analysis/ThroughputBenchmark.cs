using System.Diagnostics;
using Winnow.Methods;
using Winnow.Models;
using Winnow.SelfSupervised;
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
/// <param name="Pretraining">Measure a SimCLR step (two views of each of Batch images) instead of a cross-entropy step.</param>
public sealed record ThroughputOptions(string Model = ModelFactory.DefaultEncoder, int Batch = 128, int Channels = 1, int Size = 28,
    Precision Precision = Precision.Float32, int Steps = 10, int Threads = 2, bool Pretraining = false);

/// <summary>
/// Training throughput: images per second of a full SGD training step (forward, cross-entropy, backward, update) on
/// random inputs, the same measurement as ../shared/bench/torch_reference.py.
/// </summary>
public static class ThroughputBenchmark
{
    /// <summary>
    /// Runs the benchmark and returns images per second: training images for a cross-entropy step, views (two per
    /// image) for a SimCLR pre-training step.
    /// </summary>
    public static double TrainingImagesPerSecond(ThroughputOptions o, CancellationToken cancellation = default)
    {
        set_num_threads(o.Threads);
        manual_seed(0);
        var training = new TrainingOptions { Precision = o.Precision, LearningRate = 0.02, Momentum = 0.9, WeightDecay = 5e-4 };
        using ITrainingMethod method = o.Pretraining
            ? new SimClrMethod(ModelFactory.CreateEncoder(o.Model, o.Channels), new SimClrOptions(), training)
            : new CrossEntropyMethod(ModelFactory.CreateClassifier(o.Model, o.Channels, 10), training);
        int views = o.Pretraining ? 2 : 1;
        using var x = randn(views * o.Batch, o.Channels, o.Size, o.Size);
        using var y = randint(0, 10, [o.Batch]);
        var batch = new TrainingBatch(x, views, y, Enumerable.Range(0, o.Batch).ToArray());
        var context = new EpochContext(0, 1, 0.02, null!, null!, cancellation);
        void Step()
        {
            using var scope = NewDisposeScope();
            method.TrainStep(batch, context);
        }
        Step();
        Step();
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < o.Steps; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            Step();
        }
        return o.Steps * views * o.Batch / sw.Elapsed.TotalSeconds;
    }
}
