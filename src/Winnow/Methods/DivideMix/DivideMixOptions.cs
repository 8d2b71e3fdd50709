using Winnow.Data;
using Winnow.Detection;

namespace Winnow.Methods;

/// <summary>
/// DivideMix's hyper-parameters. Left null, the per-setting ones are chosen by <see cref="Resolve"/> from the noise
/// type and rate (DivideMix's CIFAR-10 table, Appendix B) and from whether the run starts from a pre-trained encoder
/// (C2D's 5-epoch warm-up); the run's options.json records the values used.
/// </summary>
public sealed record DivideMixOptions
{
    /// <summary>Epochs of plain cross-entropy before the first co-divide (DivideMix 10 on CIFAR-10; C2D 5 from a SimCLR encoder).</summary>
    public int? WarmupEpochs { get; init; }

    /// <summary>Weight of the unlabeled loss, λ_u (CIFAR-10: 0 at 20% sym and 40% asym, 25 at 50% and 80%, 50 at 90%).</summary>
    public double? LambdaU { get; init; }

    /// <summary>Clean-probability threshold τ (0.5; 0.6 at 90% noise).</summary>
    public double? Threshold { get; init; }

    /// <summary>Epochs of per-sample losses averaged before the mixture is fitted (5 at 90% noise and above, else 1).</summary>
    public int? LossHistory { get; init; }

    /// <summary>Confidence penalty (negative entropy) during warm-up; on for asymmetric noise.</summary>
    public bool? ConfidencePenalty { get; init; }

    /// <summary>
    /// Largest gradient L2 norm during warm-up (C2D clips at 1.0 so that the first steps of a random head do not wreck
    /// the pre-trained encoder); 0 turns clipping off, the default from scratch as in DivideMix.
    /// </summary>
    public double? WarmupGradientClip { get; init; }

    /// <summary>Sharpening temperature T (0.5).</summary>
    public double SharpenTemperature { get; init; } = 0.5;

    /// <summary>
    /// MixMatch's Beta(α, α) parameter. Default: 4 from scratch (the papers' CIFAR value); from a pre-trained encoder
    /// 0.01, which all but turns mixing off (λ′ ≈ 1), below 90% symmetric noise and 4 at 90% and above (Winnow's
    /// choice: in short schedules strong mixing holds a pre-trained start back, but at 90% it keeps the labeled split
    /// from growing; docs/robust-methods.md). The official code uses 0.5 for its pre-trained starts.
    /// </summary>
    public double? Alpha { get; init; }

    /// <summary>Epochs over which λ_u ramps up linearly after warm-up (16).</summary>
    public int RampUpEpochs { get; init; } = 16;

    /// <summary>Labeled images per step, with as many unlabeled ones (64 + 64; larger batches lose accuracy, DivideMix issue #53).</summary>
    public int LabeledBatchSize { get; init; } = 64;

    /// <summary>Simultaneous (DivideMix) or sequential (C2D) co-divide.</summary>
    public CoDivideOrder CoDivide { get; init; } = CoDivideOrder.Simultaneous;

    /// <summary>Clip τ into (min p + 1e-5, max p − 1e-5) so neither split is empty (C2D).</summary>
    public bool ClipThreshold { get; init; } = true;

    /// <summary>
    /// Keeps each network's labeled set at the size its first division after warm-up gave it: later divisions label
    /// that many samples, those of lowest averaged normalised loss (the mixture's input), instead of every sample
    /// above τ. Winnow's option, not the papers' (off by default): it keeps the losses' ranking when the mixture's
    /// low-loss component grows with the networks' fit of wrong labels (docs/robust-methods.md, 90% noise).
    /// </summary>
    public bool HoldLabeledSize { get; init; }

    /// <summary>
    /// Shares the labeled set among the noisy classes in proportion to their samples, each share filled with the
    /// class's samples of lowest loss (UNICON's uniform selection; Winnow's option, off by default). The set's size is
    /// the threshold's count (or the held one). Under symmetric noise every class has the same share of right labels,
    /// and one ranking over all classes crowds out the classes the networks find hard; under asymmetric noise the
    /// shares are not the clean ones, so use it for symmetric noise. At 90% it did not pay (docs/robust-methods.md).
    /// </summary>
    public bool ClassBalancedSplit { get; init; }

    /// <summary>EM iterations of the mixture (DivideMix 10; C2D 200).</summary>
    public int MixtureIterations { get; init; } = 10;

    /// <summary>EM tolerance of the mixture (1e-2).</summary>
    public double MixtureTolerance { get; init; } = 1e-2;

    /// <summary>The mixture's reg_covar (5e-4).</summary>
    public double MixtureRegCovar { get; init; } = 5e-4;

    /// <summary>
    /// Fills every per-setting value left null, from the noise and whether an encoder starts the networks. With
    /// <paramref name="noise"/> null (labels from the user, rate unknown) only the values that warm-up uses are filled
    /// (the confidence penalty off, as for symmetric noise); the rate-dependent ones (λ_u, τ, loss history, α) stay null
    /// until <see cref="ResolveFromEstimate"/> fills them from the noise estimated after warm-up.
    /// </summary>
    public DivideMixOptions Resolve(NoiseSpec? noise, bool fromEncoder)
    {
        var warmup = this with
        {
            WarmupEpochs = WarmupEpochs ?? (fromEncoder ? 5 : 10),
            ConfidencePenalty = ConfidencePenalty ?? noise?.Kind == NoiseKind.Asymmetric,
            WarmupGradientClip = WarmupGradientClip ?? (fromEncoder ? 1.0 : 0),
        };
        if (noise is null)
        {
            warmup.Validate();
            return warmup;
        }
        bool asymmetric = noise.Kind == NoiseKind.Asymmetric;
        double rate = noise.Kind == NoiseKind.None ? 0 : noise.Rate;
        double lambdaU = asymmetric ? 0 : rate switch { < 0.35 => 0, < 0.85 => 25, _ => 50 };
        bool extremeSymmetric = !asymmetric && rate >= 0.9;
        var resolved = warmup with
        {
            LambdaU = LambdaU ?? lambdaU,
            Threshold = Threshold ?? (extremeSymmetric ? 0.6 : 0.5),
            LossHistory = LossHistory ?? (rate >= 0.9 ? 5 : 1),
            Alpha = Alpha ?? (fromEncoder && !extremeSymmetric ? 0.01 : 4),
        };
        resolved.Validate();
        return resolved;
    }

    /// <summary>
    /// Fills the rate-dependent values still null from a noise estimate (<see cref="Detection.NoiseRateEstimate"/>), as
    /// <see cref="Resolve"/> would from the synthetic noise that matches it. Values already set are kept.
    /// </summary>
    public DivideMixOptions ResolveFromEstimate(Detection.NoiseRateEstimate estimate, bool fromEncoder) => Resolve(estimate.AsNoiseSpec(), fromEncoder);

    /// <summary>Whether a rate-dependent value is still null: the run waits for the noise estimated after warm-up.</summary>
    public bool AwaitsNoiseEstimate => LambdaU is null || Threshold is null || LossHistory is null || Alpha is null;

    /// <summary>The loss mixture's EM settings (its seed is set per fit).</summary>
    public GaussianMixtureOptions Mixture() => new() { MaxIterations = MixtureIterations, Tolerance = MixtureTolerance, RegCovar = MixtureRegCovar };

    /// <summary>What the co-division needs, once τ and the loss history are resolved.</summary>
    public CoDivisionSettings DivisionSettings() => new(
        Threshold ?? throw new InvalidOperationException("τ is not resolved yet"),
        LossHistory ?? throw new InvalidOperationException("the loss history is not resolved yet"),
        ClipThreshold, HoldLabeledSize, ClassBalancedSplit, CoDivide, LabeledBatchSize, Mixture());

    /// <summary>Throws a <see cref="WinnowException"/> naming the first value out of its range.</summary>
    private void Validate()
    {
        static void Require(bool ok, string message)
        {
            if (!ok) throw new WinnowException("dividemix: " + message);
        }
        Require(WarmupEpochs >= 0, $"--warmup-epochs must be non-negative, got {WarmupEpochs}");
        Require(LambdaU is null or >= 0, $"--lambda-u must be non-negative, got {LambdaU}");
        Require(Threshold is null or (>= 0 and <= 1), $"--p-threshold must be in [0, 1], got {Threshold}");
        Require(LossHistory is null or >= 1, $"--loss-history must be at least 1, got {LossHistory}");
        Require(WarmupGradientClip >= 0, $"--warmup-clip must be non-negative (0 = off), got {WarmupGradientClip}");
        Require(SharpenTemperature > 0, $"--sharpen-temperature must be positive, got {SharpenTemperature}");
        Require(Alpha is null or > 0, $"--mixmatch-alpha must be positive, got {Alpha}");
        Require(RampUpEpochs >= 1, $"--ramp-epochs must be at least 1, got {RampUpEpochs}");
        Require(LabeledBatchSize >= 2, $"labeled batch size must be at least 2, got {LabeledBatchSize}");
        Require(MixtureIterations >= 1, $"--gmm-iterations must be at least 1, got {MixtureIterations}");
        Require(MixtureTolerance > 0 && MixtureRegCovar >= 0, $"mixture tolerance must be positive and reg_covar non-negative, got {MixtureTolerance} and {MixtureRegCovar}");
    }
}
