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

    /// <summary>Masked views per sample in the mix: both (the default, the official step) or <see cref="SanmMaskedViews.One"/>.</summary>
    public SanmMaskedViews MaskedViews { get; init; } = SanmMaskedViews.Both;

    /// <summary>
    /// Where the reconstruction reads its feature maps: a separate encoder pass over the masked views (the default, the
    /// official step) or the host's mixed pass (<see cref="SanmReconstructionPass.Mixed"/>).
    /// </summary>
    public SanmReconstructionPass Reconstruction { get; init; } = SanmReconstructionPass.Separate;

    /// <summary>
    /// The decoder's hidden widths are C_f/d and C_f/(2d) for d = this (the default 2: the official 512 → 256 → 128 on
    /// ResNet-18). The official widths on the compact encoder's 192-channel map cost 0.6 of its forward pass (0.28 on
    /// ResNet-18); 4 brings that to 0.2, and the decoder is linear, so narrower hidden layers still span the
    /// reconstructions it can make as long as they hold more values than the image.
    /// </summary>
    public int DecoderWidthDivisor { get; init; } = 2;
}

/// <summary>How many masked views of each sample join SANM's mix.</summary>
public enum SanmMaskedViews
{
    /// <summary>Both the max- and the min-masked view of every sample (the official step).</summary>
    Both,

    /// <summary>
    /// One per sample, the max- or the min-masked view with probability ½ each. The official host trains on four views
    /// per sample and adds two masked ones (a third of the mix); Winnow's DivideMix trains on two, so one masked view
    /// keeps that third, at 1.5 times the mix instead of 2.
    /// </summary>
    One,
}

/// <summary>Which forward pass gives the feature maps SANM's reconstruction decodes.</summary>
public enum SanmReconstructionPass
{
    /// <summary>A separate train-mode encoder pass over the masked views, unmixed (the official step; spec §3.5).</summary>
    Separate,

    /// <summary>
    /// The host's mixed pass: the maps of the mixed rows led by a masked view are decoded, and the target is the same
    /// mixing of the unmasked images. No pass of its own.
    /// </summary>
    Mixed,
}

/// <summary>
/// SANM on DivideMix (Tu et al., CVPR 2023; spec §3): DivideMix from a SimCLR start whose MixMatch step also gets,
/// for every labeled and unlabeled sample, a view masked where its last feature map is most activated and one where
/// it is least (box size from the sample's clean probability), both with the softened target, plus a reconstruction
/// task: a linear decoder per network rebuilds the unmasked image from the encoder's map of each masked view (MSE,
/// weight 0.02). The official ResNet-18 returns softmax outputs that its code treats as logits (a double softmax);
/// Winnow uses raw logits, as DivideMix and C2D do (the paper's intent; spec §3.2 option (b)). The options also give a
/// cheaper step: one masked view per sample, the reconstruction decoded from the mixed pass, a narrower decoder.
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
        decoders = [ReconstructionDecoder.For(encoder, image, options.DecoderWidthDivisor), ReconstructionDecoder.For(encoder, image, options.DecoderWidthDivisor)];
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
        long all = images.shape[0], unlabeled = all - labeled;
        // The masked views that join the mix, per sample in images' order: both copies, or one drawn per sample.
        Tensor[] copies;
        if (options.MaskedViews == SanmMaskedViews.Both) copies = [masked.MaxMasked, masked.MinMasked];
        else
        {
            var takeMax = Enumerable.Range(0, (int)all).Select(_ => random.NextDouble() < 0.5).ToArray();
            copies = [where(tensor(takeMax).view(all, 1, 1, 1), masked.MaxMasked, masked.MinMasked)];
        }
        Tensor Rows(Tensor t, long start, long count) => t.narrow(0, start, count);
        Tensor Block(Func<Tensor, Tensor> part) => cat(copies.Select(part).ToArray());
        Tensor Repeated(Tensor t) => cat(copies.Select(_ => t).ToArray());
        var labeledInputs = Block(c => Rows(c, 0, labeled));
        var labeledTargets = Repeated(Rows(masked.ModulatedTargets, 0, labeled));
        Tensor? unlabeledInputs = null, unlabeledTargets = null;
        if (unlabeled > 0)
        {
            unlabeledInputs = Block(c => Rows(c, labeled, unlabeled));
            unlabeledTargets = Repeated(Rows(masked.ModulatedTargets, labeled, unlabeled));
        }
        if (options.Reconstruction == SanmReconstructionPass.Mixed)
            return new MixMatchAddition(labeledInputs, labeledTargets, unlabeledInputs, unlabeledTargets, null,
                Repeated(Rows(images, 0, labeled)), unlabeled > 0 ? Repeated(Rows(images, labeled, unlabeled)) : null);
        // One train-mode pass of the encoder over the masked copies, gradients into encoder and decoder (spec §3.5).
        var reconstruction = SanmLosses.MaskedReconstruction(decoders[network], net.FeatureMap(cat(copies)), Repeated(images));
        LastReconstructionLoss = reconstruction.item<float>();
        return new MixMatchAddition(labeledInputs, labeledTargets, unlabeledInputs, unlabeledTargets, reconstruction.Times(weight));
    }

    /// <inheritdoc/>
    public Tensor? MixedPassLoss(int network, MixedPass pass)
    {
        var reconstruction = SanmLosses.MaskedReconstruction(decoders[network], pass.FeatureMaps.index_select(0, pass.AddedRows),
            pass.MixedOriginals.index_select(0, pass.AddedRows));
        LastReconstructionLoss = reconstruction.item<float>();
        return reconstruction.Times(weight);
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
                Choice("--masked-views", $"Masked views per sample in the mix: both (the official step) or one (max or min, drawn) [default: {Lower(d.MaskedViews)}]",
                    ["both", "one"], (o, v) => o with { MaskedViews = v == "one" ? SanmMaskedViews.One : SanmMaskedViews.Both }),
                Choice("--reconstruction", $"Feature maps the reconstruction decodes: separate (an encoder pass of its own, the official step) or mixed (from the mixed pass; experimental: intermittent NaN, docs/methods.md) [default: {Lower(d.Reconstruction)}]",
                    ["separate", "mixed"], (o, v) => o with { Reconstruction = v == "mixed" ? SanmReconstructionPass.Mixed : SanmReconstructionPass.Separate }),
                Integer("--decoder-width-divisor", $"Decoder hidden widths C_f/d and C_f/(2d); 2 is the official decoder [default: {d.DecoderWidthDivisor}]",
                    (o, v) => o with { DecoderWidthDivisor = v }),
                Number("--mask-quality-weight", $"How much a low clean probability w enlarges the mask: + weight·(1 − w) [default: {d.Masking.QualityCoefficient}]",
                    (o, v) => o with { Masking = o.Masking with { QualityCoefficient = v } }),
            ];
        }
    }

    private static string Lower<T>(T value) where T : struct, Enum => value.ToString().ToLowerInvariant();

    /// <inheritdoc/>
    protected override SanmOptions Resolve(SanmOptions options, MethodContext context)
    {
        RequireTrainableEncoder(context);
        if (!(options.ReconstructionWeight >= 0)) throw new WinnowException($"sanm: --lambda-rec must be non-negative, got {options.ReconstructionWeight}");
        if (options.DecoderWidthDivisor < 1) throw new WinnowException($"sanm: --decoder-width-divisor must be at least 1, got {options.DecoderWidthDivisor}");
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
