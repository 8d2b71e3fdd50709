using Winnow.Training;

namespace Winnow.Methods;

/// <summary>Options of cross-entropy training.</summary>
public sealed record CrossEntropyOptions
{
    /// <summary>
    /// With an encoder in finetune mode: epochs at the start in which the encoder is frozen (eval mode, no gradients)
    /// and only the new head trains, before every layer fine-tunes (LP-FT, Kumar et al. 2022), so that gradients
    /// through a random head do not disturb the pre-trained features. 0 (the default): fine-tune from the start.
    /// </summary>
    public int HeadOnlyEpochs { get; init; }
}

/// <summary>Cross-entropy on the noisy labels: the baseline; with a fixed encoder, a linear head on frozen features (Cheng et al.).</summary>
public sealed class CrossEntropyDefinition : MethodDefinition<CrossEntropyOptions>
{
    /// <inheritdoc/>
    public override string Name => "ce";

    /// <inheritdoc/>
    public override string Summary => "cross-entropy on the noisy labels (the baseline; with --encoder-mode fixed, a linear head on a frozen encoder)";

    /// <inheritdoc/>
    public override int ListOrder => 0;

    /// <inheritdoc/>
    public override IReadOnlyList<MethodOption> Options =>
    [
        Integer("--head-epochs", "With --encoder (finetune): first train only the new head on the frozen encoder for this many epochs, then every layer (LP-FT) [default: 0]",
            (o, v) => o with { HeadOnlyEpochs = v }),
    ];

    /// <inheritdoc/>
    protected override CrossEntropyOptions Resolve(CrossEntropyOptions options, MethodContext context)
    {
        if (options.HeadOnlyEpochs != 0 && (context.Encoder is null || context.EncoderMode != EncoderMode.Finetune || options.HeadOnlyEpochs < 0))
            throw new WinnowException($"--head-epochs (got {options.HeadOnlyEpochs}) needs a non-negative count and --encoder in finetune mode");
        if (context.EncoderMode == EncoderMode.Fixed && context.Encoder is null)
            throw new WinnowException("--encoder-mode fixed needs a pre-trained encoder (--encoder PATH); a frozen random encoder learns nothing");
        return options;
    }

    /// <inheritdoc/>
    protected override ITrainingMethod Create(CrossEntropyOptions options, MethodContext context)
    {
        bool fixedEncoder = context.EncoderMode == EncoderMode.Fixed;
        var network = context.NewClassifier(standardizeFeatures: fixedEncoder);
        network.FrozenEncoder = fixedEncoder;
        return new CrossEntropyMethod(network, context.Training, options.HeadOnlyEpochs);
    }
}
