using TorchSharp;
using Winnow.Data;
using Winnow.Models;
using Winnow.Training;
using static TorchSharp.torch;

namespace Winnow.Methods;

/// <summary>
/// Options of ELR and ELR+. Left null, β and λ follow the paper's CIFAR-10 choice for the noise type, and mixup's α
/// follows the start (<see cref="Resolve"/>).
/// </summary>
public sealed record ElrOptions
{
    /// <summary>Temporal-ensemble momentum β (0.7 symmetric, 0.9 asymmetric).</summary>
    public double? Beta { get; init; }

    /// <summary>Regularizer weight λ (3 symmetric, 1 asymmetric).</summary>
    public double? Lambda { get; init; }

    /// <summary>
    /// ELR+: mixup's Beta(α, α) parameter. Left null: the paper's 1 from scratch, 0.01 (mixing all but off) from a
    /// pre-trained encoder, where mixing blurs features that already separate the classes (docs/robust-methods.md).
    /// </summary>
    public double? MixupAlpha { get; init; }

    /// <summary>ELR+: the weight-averaged models' momentum (0.997).</summary>
    public double EmaAlpha { get; init; } = 0.997;

    /// <summary>
    /// ELR+: fraction of the run's steps over which the averaging momentum ramps up (sigmoid). The paper ramps over
    /// 40,000 steps, about half of its 200-epoch CIFAR runs; Winnow's runs are far shorter, so the ramp is a fraction.
    /// </summary>
    public double EmaRampFraction { get; init; } = 0.5;

    /// <summary>Fills β and λ from the noise type and mixup's α from whether training starts from an encoder.</summary>
    public ElrOptions Resolve(NoiseSpec noise, bool fromEncoder)
    {
        bool asymmetric = noise.Kind == NoiseKind.Asymmetric;
        var resolved = this with
        {
            Beta = Beta ?? (asymmetric ? 0.9 : 0.7), Lambda = Lambda ?? (asymmetric ? 1 : 3), MixupAlpha = MixupAlpha ?? (fromEncoder ? 0.01 : 1),
        };
        if (resolved.Beta is not (>= 0 and < 1)) throw new WinnowException($"elr: --elr-beta must be in [0, 1), got {resolved.Beta}");
        if (!(resolved.Lambda >= 0)) throw new WinnowException($"elr: --lambda-elr must be non-negative, got {resolved.Lambda}");
        if (!(resolved.MixupAlpha > 0)) throw new WinnowException($"elr-plus: --mixup-alpha must be positive, got {resolved.MixupAlpha}");
        if (EmaAlpha is not (>= 0 and < 1) || EmaRampFraction is not (> 0 and <= 1))
            throw new WinnowException($"elr-plus: averaging momentum must be in [0, 1) and its ramp fraction in (0, 1], got {EmaAlpha} and {EmaRampFraction}");
        return resolved;
    }
}

/// <summary>ELR: cross-entropy on the noisy labels plus the early-learning regularizer (<see cref="ElrLoss"/>), one network.</summary>
public sealed class ElrMethod : ClassifierTrainingMethod
{
    private readonly IOptimizer optimizer;
    private readonly Tensor targets;
    private readonly double beta, lambda;

    /// <summary>Trains <paramref name="network"/> on <paramref name="sampleCount"/> samples; <paramref name="options"/> must be resolved.</summary>
    public ElrMethod(Classifier network, int sampleCount, ElrOptions options, TrainingOptions training) : base(network, training)
    {
        beta = options.Beta ?? throw new ArgumentException("resolve the ELR options first", nameof(options));
        lambda = options.Lambda ?? throw new ArgumentException("resolve the ELR options first", nameof(options));
        optimizer = OptimizerFactory.Create(network, training);
        targets = zeros(sampleCount, network.ClassCount).DetachFromDisposeScope();
    }

    /// <inheritdoc/>
    public override string Name => "elr";

    /// <summary>The per-sample targets (N, C): argmax differing from the given label marks a suspected label error.</summary>
    public Tensor Targets => targets;

    /// <inheritdoc/>
    public override IReadOnlyList<(string Name, nn.Module Network)> Networks => [("net", Network)];

    /// <inheritdoc/>
    public override IReadOnlyList<(string Name, IOptimizer Optimizer)> Optimizers => [("net", optimizer)];

    /// <inheritdoc/>
    public override double TrainStep(TrainingBatch batch, EpochContext context)
    {
        Network.train();
        optimizer.ZeroGrad();
        var logits = Network.forward(batch.Images);
        var p = ElrLoss.ClampedProbabilities(logits);
        var idx = tensor(batch.Indices.Select(i => (long)i).ToArray());
        // The target is updated before the regularizer, so it already holds this step's prediction (as the code does).
        ElrLoss.UpdateTargets(targets, idx, p, beta);
        var loss = nn.functional.cross_entropy(logits, batch.Labels).Plus(ElrLoss.Regularizer(p, targets.index_select(0, idx)).Times(lambda));
        loss.backward();
        optimizer.Step();
        return loss.item<float>();
    }

    /// <inheritdoc/>
    public override IEnumerable<(string Name, Tensor Value)> ExtraState() => [("targets", targets)];

    /// <inheritdoc/>
    public override void LoadExtraState(IReadOnlyDictionary<string, Tensor> state)
    {
        if (state.TryGetValue("targets", out var t)) using (no_grad()) targets.copy_(t);
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        targets.Dispose();
        base.Dispose();
    }
}
