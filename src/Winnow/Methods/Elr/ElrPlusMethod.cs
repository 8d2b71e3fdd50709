using TorchSharp;
using Winnow.Data;
using Winnow.Models;
using Winnow.Training;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Winnow.Methods;

/// <summary>
/// ELR+ (Liu et al., NeurIPS 2020, App. F): two networks, each with its own optimiser, target memory and
/// weight-averaged (EMA) copy. An epoch trains network 1 over the whole set, then network 2, each on its own shuffle.
/// A step for network k mixes the batch (mixup, one λ′ = max(λ, 1 − λ) per batch), updates k's targets from the
/// other network's EMA copy run on the un-mixed batch in train mode, mixes the targets with the same permutation, and
/// minimises the soft cross-entropy on the mixed labels plus λ·mean log(1 − ⟨q, p⟩); then k's EMA copy moves toward
/// k with a momentum that ramps up (sigmoid) to its final value. Test predictions average the two networks' logits.
/// The official code's "label update by target" runs only when there are 100 classes; we keep that condition.
/// </summary>
public sealed class ElrPlusMethod : ITrainingMethod
{
    private readonly Classifier[] nets, emas;
    private readonly IOptimizer[] optimizers;
    private readonly Tensor[] targets;
    private readonly long[] steps = new long[2];
    private readonly double beta, lambda, mixupAlpha, emaAlpha, emaRampSteps;
    private readonly TrainingOptions training;
    private Random mixing = new(0);

    /// <summary>
    /// Trains <paramref name="nets"/>; <paramref name="averaged"/> are same-architecture networks that become their
    /// weight-averaged copies. <paramref name="options"/> must be resolved.
    /// </summary>
    public ElrPlusMethod(Classifier[] nets, Classifier[] averaged, int sampleCount, ElrOptions options, TrainingOptions training)
    {
        if (nets.Length != 2 || averaged.Length != 2) throw new ArgumentException("ELR+ trains two networks with two averaged copies");
        beta = options.Beta ?? throw new ArgumentException("resolve the ELR options first", nameof(options));
        lambda = options.Lambda ?? throw new ArgumentException("resolve the ELR options first", nameof(options));
        this.nets = nets;
        emas = averaged;
        this.training = training;
        mixupAlpha = options.MixupAlpha ?? throw new ArgumentException("resolve the ELR options first", nameof(options));
        emaAlpha = options.EmaAlpha;
        emaRampSteps = options.EmaRampFraction * training.Epochs * Math.Ceiling((double)sampleCount / training.BatchSize);
        foreach (var n in nets.Concat(emas)) n.Precision = training.Precision;
        using (no_grad())
            for (int k = 0; k < 2; k++)
            {
                Checkpoint.LoadNetwork(emas[k], nets[k].state_dict(), $"ema{k + 1}");
                foreach (var p in emas[k].parameters()) p.requires_grad = false;
            }
        optimizers = nets.Select(n => OptimizerFactory.Create(n, training)).ToArray();
        targets = nets.Select(n => zeros(sampleCount, n.ClassCount).DetachFromDisposeScope()).ToArray();
    }

    /// <inheritdoc/>
    public string Name => "elr-plus";

    /// <inheritdoc/>
    public IReadOnlyList<(string Name, nn.Module Network)> Networks => [("net1", nets[0]), ("net2", nets[1]), ("ema1", emas[0]), ("ema2", emas[1])];

    /// <inheritdoc/>
    public IReadOnlyList<(string Name, IOptimizer Optimizer)> Optimizers => [("net1", optimizers[0]), ("net2", optimizers[1])];

    /// <inheritdoc/>
    public IEnumerable<BatchPlan>? PlanEpoch(EpochContext context, IImageTransform standard)
    {
        mixing = new Random(TrainingLoop.SeedOf(training.Seed, context.Epoch, 500));
        int n = context.Train.Count;
        return Enumerable.Range(0, 2).Select(k => new BatchPlan(
            BatchStream.Shuffled(n, TrainingLoop.SeedOf(training.Seed, context.Epoch, 100 + k)), training.BatchSize, [standard], k, 2));
    }

    /// <summary>exp(−5(1 − clip(s, 0, L)/L)²), or 1 when L is 0: the ramps of ELR+.</summary>
    public static double SigmoidRampUp(double step, double length) =>
        length <= 0 ? 1 : Math.Exp(-5 * Math.Pow(1 - Math.Clamp(step, 0, length) / length, 2));

    /// <inheritdoc/>
    public double TrainStep(TrainingBatch batch, EpochContext context)
    {
        int k = batch.Phase;
        var net = nets[k];
        var optimizer = optimizers[k];
        int classes = net.ClassCount;
        net.train();
        optimizer.ZeroGrad();
        double l = BetaDistribution.Sample(mixupAlpha, mixing);
        var perm = randperm(batch.Count);
        var oneHot = F.one_hot(batch.Labels, classes).to(ScalarType.Float32);
        var (mixedX, mixedY) = MixMatch.Mix(batch.Images, oneHot, l, perm);
        l = Math.Max(l, 1 - l);
        var logits = net.forward(mixedX);
        var idx = tensor(batch.Indices.Select(i => (long)i).ToArray());
        Tensor q;
        using (no_grad())
        {
            emas[1 - k].train();
            ElrLoss.UpdateTargets(targets[k], idx, F.softmax(emas[1 - k].forward(batch.Images), 1), beta);
            var t = targets[k].index_select(0, idx);
            q = t.Blend(t.index_select(0, perm), l);
        }
        long s = steps[k] + 1;
        var p = ElrLoss.ClampedProbabilities(logits);
        if (classes == 100)
        {
            var weighted = mixedY * q;
            mixedY = weighted / weighted.sum(1, keepdim: true);
        }
        var loss = (-(mixedY * F.log_softmax(logits, 1)).sum(1).mean()).Plus(ElrLoss.Regularizer(p, q).Times(lambda));
        loss.backward();
        optimizer.Step();
        UpdateAverage(k, s);
        steps[k] = s;
        return loss.item<float>();
    }

    private void UpdateAverage(int k, long step)
    {
        double a = SigmoidRampUp(step + 1, emaRampSteps) * emaAlpha;
        using var _ = no_grad();
        using Scalar keep = a.ToScalar(), blend = (1 - a).ToScalar(); // held for the loop (see KeepAliveBatchNorm2d)
        foreach (var (average, current) in emas[k].parameters().Zip(nets[k].parameters()))
            average.mul_(keep).add_(current, blend);
    }

    /// <inheritdoc/>
    public Tensor PredictLogits(Tensor images)
    {
        using var _ = no_grad();
        nets[0].eval();
        nets[1].eval();
        return nets[0].forward(images).Plus(nets[1].forward(images)).DividedBy(2);
    }

    /// <inheritdoc/>
    public Tensor Features(Tensor images)
    {
        nets[0].eval();
        using var _ = no_grad();
        return nets[0].Features(images);
    }

    /// <inheritdoc/>
    public IEnumerable<(string Name, Tensor Value)> ExtraState() =>
        [("targets.0", targets[0]), ("targets.1", targets[1]), ("steps", tensor(steps))];

    /// <inheritdoc/>
    public void LoadExtraState(IReadOnlyDictionary<string, Tensor> state)
    {
        using var _ = no_grad();
        for (int k = 0; k < 2; k++)
            if (state.TryGetValue($"targets.{k}", out var t)) targets[k].copy_(t);
        if (state.TryGetValue("steps", out var s)) s.data<long>().ToArray().CopyTo(steps, 0);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var n in nets.Concat(emas)) n.Dispose();
        foreach (var t in targets) t.Dispose();
    }
}
