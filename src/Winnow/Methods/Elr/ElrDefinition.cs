using Winnow.Training;

namespace Winnow.Methods;

/// <summary>Early-learning regularization (Liu et al., NeurIPS 2020), one network.</summary>
public sealed class ElrDefinition : MethodDefinition<ElrOptions>
{
    /// <inheritdoc/>
    public override string Name => "elr";

    /// <inheritdoc/>
    public override string Summary => "early-learning regularization: cross-entropy + λ·log(1 − ⟨p, temporal-ensemble target⟩)";

    /// <inheritdoc/>
    public override int ListOrder => 30;

    /// <inheritdoc/>
    public override string? LegacyOptionsField => "elr";

    /// <summary>ELR's options, shared with ELR+.</summary>
    internal static IReadOnlyList<MethodOption> ElrOptionsOnTheCommandLine =>
    [
        Number("--elr-beta", "Target momentum β (default 0.7 symmetric, 0.9 asymmetric)", (o, v) => o with { Beta = v }),
        Number("--lambda-elr", "Regularizer weight λ (default 3 symmetric, 1 asymmetric)", (o, v) => o with { Lambda = v }, "--elr-lambda"),
    ];

    /// <inheritdoc/>
    public override IReadOnlyList<MethodOption> Options => ElrOptionsOnTheCommandLine;

    /// <inheritdoc/>
    protected override ElrOptions Resolve(ElrOptions options, MethodContext context)
    {
        RequireTrainableEncoder(context);
        return options.Resolve(context.Noise, context.FromEncoder);
    }

    /// <inheritdoc/>
    protected override ITrainingMethod Create(ElrOptions options, MethodContext context)
    {
        if (context.SampleCount <= 0) throw new WinnowException("elr needs the training set's size");
        return new ElrMethod(context.NewClassifier(), context.SampleCount, options, context.Training);
    }
}

/// <summary>ELR+: two networks with mixup and weight-averaged targets.</summary>
public sealed class ElrPlusDefinition : MethodDefinition<ElrOptions>
{
    /// <inheritdoc/>
    public override string Name => "elr-plus";

    /// <inheritdoc/>
    public override string Summary => "ELR+: two networks, mixup, targets from the other network's weight-averaged copy";

    /// <inheritdoc/>
    public override int ListOrder => 40;

    /// <inheritdoc/>
    public override string? LegacyOptionsField => "elr";

    /// <inheritdoc/>
    public override IReadOnlyList<MethodOption> Options =>
    [
        .. ElrDefinition.ElrOptionsOnTheCommandLine,
        Number("--mixup-alpha", "Mixup's Beta(α, α) (default 1 from scratch, 0.01 from --encoder)", (o, v) => o with { MixupAlpha = v }, "--mix-alpha"),
    ];

    /// <inheritdoc/>
    protected override ElrOptions Resolve(ElrOptions options, MethodContext context)
    {
        RequireTrainableEncoder(context);
        return options.Resolve(context.Noise, context.FromEncoder);
    }

    /// <inheritdoc/>
    protected override ITrainingMethod Create(ElrOptions options, MethodContext context)
    {
        if (context.SampleCount <= 0) throw new WinnowException("elr-plus needs the training set's size");
        return new ElrPlusMethod([context.NewClassifier(), context.NewClassifier()], [context.NewClassifier(), context.NewClassifier()], context.SampleCount, options, context.Training);
    }
}
