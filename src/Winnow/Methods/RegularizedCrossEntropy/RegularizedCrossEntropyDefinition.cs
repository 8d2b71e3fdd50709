using Winnow.Models;
using Winnow.SelfSupervised;
using Winnow.Training;

namespace Winnow.Methods;

/// <summary>Cheng et al.'s cross-entropy with the representation regularizer.</summary>
public sealed class RegularizedCrossEntropyDefinition : MethodDefinition<RepresentationRegularizerOptions>
{
    /// <inheritdoc/>
    public override string Name => "ce-reg";

    /// <inheritdoc/>
    public override string Summary => "cross-entropy + InfoNCE on two strong views + Cheng et al.'s representation regularizer";

    /// <inheritdoc/>
    public override int ListOrder => 10;

    /// <inheritdoc/>
    public override string? LegacyOptionsField => "regularizer";

    /// <inheritdoc/>
    public override IReadOnlyList<MethodOption> Options =>
    [
        Number("--lambda-reg", $"Weight λ of the representation regularizer [default: {new RepresentationRegularizerOptions().Lambda}]", (o, v) => o with { Lambda = v }, "--reg-lambda"),
        Number("--temperature", $"InfoNCE temperature of the two strong views [default: {new RepresentationRegularizerOptions().Temperature}]", (o, v) => o with { Temperature = v }, "--reg-temperature"),
    ];

    /// <inheritdoc/>
    protected override RepresentationRegularizerOptions Resolve(RepresentationRegularizerOptions options, MethodContext context)
    {
        RequireTrainableEncoder(context);
        if (!(options.Temperature > 0) || !(options.Lambda >= 0))
            throw new WinnowException($"ce-reg: --temperature must be positive and --lambda-reg non-negative, got {options.Temperature} and {options.Lambda}");
        return options;
    }

    /// <inheritdoc/>
    protected override ITrainingMethod Create(RepresentationRegularizerOptions options, MethodContext context)
    {
        var network = context.NewClassifier();
        var projection = new ProjectionHead(network.Encoder.FeatureDimension, options.ProjectionDimension);
        if (context.InitialiseEncoder && context.Encoder is not null) EncoderCheckpoint.LoadProjection(projection, context.Encoder);
        return new RegularizedCrossEntropyMethod(network, projection, options, context.Training);
    }
}
