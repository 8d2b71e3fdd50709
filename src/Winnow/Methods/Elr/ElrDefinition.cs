using Winnow.Training;

namespace Winnow.Methods;

/// <summary>What ELR and ELR+ share: their options record, its resolution (β and λ by noise type, mixup's α by start) and its old options.json field.</summary>
public abstract class ElrFamilyDefinition : MethodDefinition<ElrOptions>
{
    /// <inheritdoc/>
    public override string? LegacyOptionsField => "elr";

    /// <inheritdoc/>
    protected override ElrOptions Resolve(ElrOptions options, MethodContext context)
    {
        RequireTrainableEncoder(context);
        return options.Resolve(context.Noise, context.FromEncoder);
    }

    /// <summary>The training set's size, which ELR's per-sample targets need.</summary>
    protected int SampleCount(MethodContext context) =>
        context.SampleCount > 0 ? context.SampleCount : throw new WinnowException($"{Name} needs the training set's size");
}

/// <summary>Early-learning regularization (Liu et al., NeurIPS 2020), one network.</summary>
public sealed class ElrDefinition : ElrFamilyDefinition
{
    /// <inheritdoc/>
    public override string Name => "elr";

    /// <inheritdoc/>
    public override string Summary => "early-learning regularization: cross-entropy + λ·log(1 − ⟨p, temporal-ensemble target⟩)";

    /// <inheritdoc/>
    public override int ListOrder => 30;

    /// <summary>ELR's options, shared with ELR+.</summary>
    internal static IReadOnlyList<MethodOption> ElrOptionsOnTheCommandLine =>
    [
        Number("--elr-beta", "Target momentum β (default 0.7 symmetric, 0.9 asymmetric)", (o, v) => o with { Beta = v }),
        Number("--lambda-elr", "Regularizer weight λ (default 3 symmetric, 1 asymmetric)", (o, v) => o with { Lambda = v }, "--elr-lambda"),
    ];

    /// <inheritdoc/>
    public override IReadOnlyList<MethodOption> Options => ElrOptionsOnTheCommandLine;

    /// <inheritdoc/>
    protected override ITrainingMethod Create(ElrOptions options, MethodContext context) =>
        new ElrMethod(context.NewClassifier(), SampleCount(context), options, context.Training);
}

/// <summary>ELR+: two networks with mixup and weight-averaged targets.</summary>
public sealed class ElrPlusDefinition : ElrFamilyDefinition
{
    /// <inheritdoc/>
    public override string Name => "elr-plus";

    /// <inheritdoc/>
    public override string Summary => "ELR+: two networks, mixup, targets from the other network's weight-averaged copy";

    /// <inheritdoc/>
    public override int ListOrder => 40;

    /// <inheritdoc/>
    public override IReadOnlyList<MethodOption> Options =>
    [
        .. ElrDefinition.ElrOptionsOnTheCommandLine,
        Number("--mixup-alpha", "Mixup's Beta(α, α) (default 1 from scratch, 0.01 from --encoder)", (o, v) => o with { MixupAlpha = v }, "--mix-alpha"),
    ];

    /// <inheritdoc/>
    protected override ITrainingMethod Create(ElrOptions options, MethodContext context)
    {
        int samples = SampleCount(context);
        return new ElrPlusMethod([context.NewClassifier(), context.NewClassifier()], [context.NewClassifier(), context.NewClassifier()], samples, options, context.Training);
    }
}
