using TorchSharp;
using TorchSharp.Modules;
using Winnow.Models;
using Winnow.Training;
using static TorchSharp.torch;

namespace Winnow.Methods;

/// <summary>
/// SANM's options (Tu et al., CVPR 2023): its host DivideMix's, the adversarial masking's and the reconstruction
/// loss's weight. Defaults are the official CIFAR script's.
/// </summary>
public sealed record SanmOptions
{
    /// <summary>The host DivideMix's options (per-setting values resolved as for DivideMix).</summary>
    public DivideMixOptions DivideMix { get; init; } = new();

    /// <summary>Weight of the self-supervised masking reconstruction loss (0.02 on CIFAR; 0.3 on Clothing1M).</summary>
    public double ReconstructionWeight { get; init; } = 0.02;

    /// <summary>The mask ratio: ρ = U(min, max) + coefficient·(1 − w) (0.02, 0.07, 0.03).</summary>
    public AdversarialMaskingOptions Masking { get; init; } = new();
}

/// <summary>
/// SANM on DivideMix (Tu et al., CVPR 2023; spec §3): DivideMix from a SimCLR start whose MixMatch step also gets,
/// for every labeled and unlabeled sample, a view masked where its last feature map is most activated and one where
/// it is least (box size from the sample's clean probability), both with the softened target, plus a reconstruction
/// task: a linear decoder per network rebuilds the unmasked image from the encoder's map of each masked view (MSE,
/// weight 0.02). The official ResNet-18 returns softmax outputs that its code treats as logits (a double softmax);
/// Winnow uses raw logits, as DivideMix and C2D do (the paper's intent; spec §3.2 option (b)).
/// </summary>
public sealed class SanmExtension : IMixMatchExtension
{
    private readonly ReconstructionDecoder[] decoders;
    private readonly AdversarialMasking masking;
    private readonly double weight;
    private readonly SanmOptions options;

    /// <summary>One decoder per network, from <paramref name="encoder"/>'s last feature map to images of <paramref name="image"/> shape.</summary>
    public SanmExtension(Encoder encoder, (int Channels, int Height, int Width) image, SanmOptions options)
    {
        decoders = [ReconstructionDecoder.For(encoder, image), ReconstructionDecoder.For(encoder, image)];
        masking = new AdversarialMasking(options.Masking);
        weight = options.ReconstructionWeight;
        this.options = options;
    }

    /// <inheritdoc/>
    public object OptionsWithHost(DivideMixOptions host) => options with { DivideMix = host };

    /// <inheritdoc/>
    public string MethodName => "sanm";

    /// <inheritdoc/>
    public IReadOnlyList<(string Name, nn.Module Module)> Modules => [("decoder1", decoders[0]), ("decoder2", decoders[1])];

    /// <inheritdoc/>
    public IEnumerable<Parameter> TrainedWith(int network) => decoders[network].parameters();

    /// <inheritdoc/>
    public Precision Precision
    {
        set { foreach (var d in decoders) d.Precision = value; }
    }

    /// <summary>The last step's reconstruction loss (unweighted), for inspection.</summary>
    public double LastReconstructionLoss { get; private set; } = double.NaN;

    /// <inheritdoc/>
    public MixMatchAddition Extend(int network, Classifier net, MixMatchViews views, Random random)
    {
        long labeled = views.Labeled.shape[0];
        MaskedBatch masked;
        Tensor images;
        using (no_grad())
        {
            bool hasUnlabeled = views.Unlabeled is not null;
            images = hasUnlabeled ? cat([views.Labeled, views.Unlabeled!]) : views.Labeled;
            var maps = hasUnlabeled ? cat([views.LabeledMaps, views.UnlabeledMaps!]) : views.LabeledMaps;
            var quality = hasUnlabeled ? cat([views.LabeledQuality, views.UnlabeledQuality!]) : views.LabeledQuality;
            var targets = hasUnlabeled ? cat([views.LabeledTargets, views.UnlabeledTargets!]) : views.LabeledTargets;
            masked = masking.Apply(images, maps, quality, targets, random);
        }
        // One train-mode pass of the encoder over both masked copies, gradients into encoder and decoder (spec §3.5).
        var reconstruction = SanmLosses.Reconstruction(net, decoders[network], masked, images);
        LastReconstructionLoss = reconstruction.item<float>();
        long all = images.shape[0], unlabeled = all - labeled;
        Tensor Rows(Tensor t, long start, long count) => t.narrow(0, start, count);
        var labeledInputs = cat([Rows(masked.MaxMasked, 0, labeled), Rows(masked.MinMasked, 0, labeled)]);
        var labeledTargets = cat([Rows(masked.ModulatedTargets, 0, labeled), Rows(masked.ModulatedTargets, 0, labeled)]);
        Tensor? unlabeledInputs = null, unlabeledTargets = null;
        if (unlabeled > 0)
        {
            unlabeledInputs = cat([Rows(masked.MaxMasked, labeled, unlabeled), Rows(masked.MinMasked, labeled, unlabeled)]);
            unlabeledTargets = cat([Rows(masked.ModulatedTargets, labeled, unlabeled), Rows(masked.ModulatedTargets, labeled, unlabeled)]);
        }
        return new MixMatchAddition(labeledInputs, labeledTargets, unlabeledInputs, unlabeledTargets, reconstruction.Times(weight));
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var d in decoders) d.Dispose();
    }
}

/// <summary>SANM: DivideMix with label-quality-guided adversarial masking and a reconstruction task.</summary>
public sealed class SanmDefinition : MethodDefinition<SanmOptions>
{
    /// <inheritdoc/>
    public override string Name => "sanm";

    /// <inheritdoc/>
    public override string Summary => "SANM: DivideMix + masked views where the features are most and least activated (softened targets) + a reconstruction task";

    /// <inheritdoc/>
    public override int ListOrder => 25;

    /// <inheritdoc/>
    public override IReadOnlyList<MethodOption> Options
    {
        get
        {
            var d = new SanmOptions();
            return
            [
                .. DivideMixDefinition.CoDivideMixMatchOptions<SanmOptions>(o => o.DivideMix, (o, host) => o with { DivideMix = host }),
                Number("--lambda-rec", $"Weight of the masking reconstruction loss [default: {d.ReconstructionWeight}]", (o, v) => o with { ReconstructionWeight = v }),
                Number("--mask-ratio-min", $"Lower end of the mask ratio's uniform part [default: {d.Masking.MinimumRatio}]", (o, v) => o with { Masking = o.Masking with { MinimumRatio = v } }),
                Number("--mask-ratio-max", $"Upper end of the mask ratio's uniform part [default: {d.Masking.MaximumRatio}]", (o, v) => o with { Masking = o.Masking with { MaximumRatio = v } }),
                Number("--mask-quality-weight", $"How much a low clean probability w enlarges the mask: + weight·(1 − w) [default: {d.Masking.QualityCoefficient}]",
                    (o, v) => o with { Masking = o.Masking with { QualityCoefficient = v } }),
            ];
        }
    }

    /// <inheritdoc/>
    protected override SanmOptions Resolve(SanmOptions options, MethodContext context)
    {
        RequireTrainableEncoder(context);
        if (!(options.ReconstructionWeight >= 0)) throw new WinnowException($"sanm: --lambda-rec must be non-negative, got {options.ReconstructionWeight}");
        _ = new AdversarialMasking(options.Masking); // validates the ratios
        return options with { DivideMix = options.DivideMix.Resolve(context.KnownNoise, context.FromEncoder) };
    }

    /// <inheritdoc/>
    protected override ITrainingMethod Create(SanmOptions options, MethodContext context)
    {
        if (context.ImageSize.Height <= 0 || context.ImageSize.Width <= 0) throw new WinnowException("sanm needs the images' size");
        var net1 = context.NewClassifier();
        var net2 = context.NewClassifier();
        var extension = new SanmExtension(net1.Encoder, (context.InputChannels, context.ImageSize.Height, context.ImageSize.Width), options);
        return new DivideMixMethod(net1, net2, options.DivideMix, context.Training, context.FromEncoder, extension);
    }
}
