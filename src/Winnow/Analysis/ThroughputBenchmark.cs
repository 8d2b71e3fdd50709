using System.Diagnostics;
using Winnow.Methods;
using Winnow.Models;
using Winnow.SelfSupervised;
using Winnow.Training;
using static TorchSharp.torch;

namespace Winnow.Analysis;

/// <summary>Which step <see cref="ThroughputBenchmark"/> times.</summary>
public enum BenchmarkStep
{
    /// <summary>A cross-entropy training step of the classifier: forward, loss, backward, SGD update.</summary>
    Training,
    /// <summary>A SimCLR pre-training step (two views of each image through the encoder and projection head).</summary>
    Pretraining,
    /// <summary>Inference: the classifier's forward pass in eval mode without gradients (evaluation, eval, predict, probe).</summary>
    Inference,
}

/// <summary>What <see cref="ThroughputBenchmark"/> measures.</summary>
/// <param name="Model">Registered encoder name.</param>
/// <param name="Batch">Images per step.</param>
/// <param name="Channels">Input channels.</param>
/// <param name="Size">Input height and width.</param>
/// <param name="Precision">Compute precision (fp32 or bf16; not auto).</param>
/// <param name="Steps">Timed steps (after two warm-up steps).</param>
/// <param name="Threads">Torch intra-op threads.</param>
/// <param name="Step">Which step is timed.</param>
/// <param name="Height">Input height when it differs from <paramref name="Size"/> (null: square).</param>
public sealed record ThroughputOptions(string Model = ModelFactory.DefaultEncoder, int Batch = 128, int Channels = 1, int Size = 28,
    Precision Precision = Precision.Float32, int Steps = 10, int Threads = 2, BenchmarkStep Step = BenchmarkStep.Training, int? Height = null);

/// <summary>
/// Throughput of the model's steps on random inputs: images per second of a full SGD training step (forward,
/// cross-entropy, backward, update; the same measurement as ../shared/bench/torch_reference.py), of a SimCLR step, or
/// of inference.
/// </summary>
public static class ThroughputBenchmark
{
    /// <summary>
    /// Runs the benchmark and returns images per second: training images for a cross-entropy step, views (two per
    /// image) for a SimCLR pre-training step, images for inference.
    /// </summary>
    public static double ImagesPerSecond(ThroughputOptions o, CancellationToken cancellation = default)
    {
        if (o.Precision == Precision.Auto) throw new ArgumentException("measure fp32 or bf16; auto is what PrecisionSelector decides from them", nameof(o));
        NativeAllocator.KeepFreedMemory();
        set_num_threads(o.Threads);
        manual_seed(0);
        var training = new TrainingOptions { Precision = o.Precision, LearningRate = 0.02, Momentum = 0.9, WeightDecay = 5e-4 };
        using ITrainingMethod method = o.Step == BenchmarkStep.Pretraining
            ? new SimClrMethod(ModelFactory.CreateEncoder(o.Model, o.Channels), new SimClrOptions(), training)
            : new CrossEntropyMethod(ModelFactory.CreateClassifier(o.Model, o.Channels, 10), training);
        int views = o.Step == BenchmarkStep.Pretraining ? 2 : 1;
        using var x = randn(views * o.Batch, o.Channels, o.Height ?? o.Size, o.Size);
        using var y = randint(0, 10, [o.Batch]);
        // A whitening layer computes its filters from images: here from the random batch.
        foreach (var (_, net) in method.Networks) DataDependentLayers.Initialise(net, n => x.narrow(0, 0, Math.Min(n, x.shape[0])).clone());
        var batch = new TrainingBatch(x, views, y, Enumerable.Range(0, o.Batch).ToArray());
        var context = new EpochContext(0, 1, 0.02, null!, null!, cancellation);
        void Step()
        {
            using var scope = NewDisposeScope();
            if (o.Step == BenchmarkStep.Inference) method.PredictLogits(x).data<float>();
            else method.TrainStep(batch, context);
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

    /// <summary>
    /// How far the model's bfloat16 forward pass lands from its float32 one on this machine: max |bf16 − fp32| / max
    /// |fp32| over the logits (or, for pre-training, the features) of a random batch in training mode; infinity when
    /// bfloat16 gives a non-finite value. Healthy bfloat16 kernels give 0.5–10% (deeper networks more); a broken kernel
    /// gives 60% and more.
    /// </summary>
    public static double BFloat16Deviation(ThroughputOptions o)
    {
        set_num_threads(o.Threads);
        manual_seed(0);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var x = randn(Math.Min(o.Batch, 32), o.Channels, o.Height ?? o.Size, o.Size);
        Tensor Forward(Precision p)
        {
            manual_seed(1); // the same weights in both precisions
            if (o.Step == BenchmarkStep.Pretraining)
            {
                using var encoder = ModelFactory.CreateEncoder(o.Model, o.Channels);
                DataDependentLayers.Initialise(encoder, _ => x.clone());
                encoder.train();
                return encoder.forward(Classifier.PrepareInput(x, p)).to(ScalarType.Float32);
            }
            using var net = ModelFactory.CreateClassifier(o.Model, o.Channels, 10);
            DataDependentLayers.Initialise(net, _ => x.clone());
            net.Precision = p;
            if (o.Step == BenchmarkStep.Inference)
            {
                // Eval mode, as inference runs (batch norms folded into the convolutions), with running statistics
                // from a few batches so that the fold is not the identity.
                net.train();
                for (int i = 0; i < 3; i++) net.forward(x);
                net.eval();
            }
            else net.train();
            return net.forward(x);
        }
        var fp32 = Forward(Precision.Float32);
        var bf16 = Forward(Precision.BFloat16);
        if (!bf16.isfinite().all().item<bool>()) return double.PositiveInfinity;
        return (bf16 - fp32).abs().max().item<float>() / Math.Max(fp32.abs().max().item<float>(), 1e-12);
    }

    /// <summary>
    /// The machine's measured matrix-multiply peak: floating-point operations per second of an n × n by n × n product
    /// (2n³ operations) in float32, the best of <paramref name="repeats"/> timings after one warm-up, computed both by
    /// torch.matmul (libtorch's BLAS) and as a 1×1 convolution (oneDNN, the library that runs Winnow's convolutions);
    /// the larger is the peak. Set against a model step's operation count, it says what fraction of the machine the
    /// step uses.
    /// </summary>
    public static (double Blas, double OneDnn) GemmFlopsPerSecond(int n = 2048, int threads = 2, int repeats = 5, CancellationToken cancellation = default)
    {
        NativeAllocator.KeepFreedMemory();
        set_num_threads(threads);
        manual_seed(0);
        using var a = randn(n, n);
        using var b = randn(n, n);
        // The same product as a convolution: n input channels at n/32 × 32 positions, n output channels, 1×1 kernel.
        using var scope = NewDisposeScope();
        var image = randn(1, n, n / 32, 32).permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
        using var kernel = randn(n, n, 1, 1);
        double Best(Func<Tensor> product)
        {
            using (var warm = product()) { }
            double best = double.PositiveInfinity;
            for (int i = 0; i < repeats; i++)
            {
                cancellation.ThrowIfCancellationRequested();
                var sw = Stopwatch.StartNew();
                using var c = product();
                best = Math.Min(best, sw.Elapsed.TotalSeconds);
            }
            return 2.0 * n * n * n / best;
        }
        return (Best(() => a.matmul(b)), Best(() => nn.functional.conv2d(image, kernel)));
    }
}
