using Winnow.Data;
using Winnow.Training;

namespace Winnow.SelfSupervised;

/// <summary>SimCLR pre-training (Chen et al. 2020) of an encoder on the images alone: 'winnow pretrain'.</summary>
public sealed class SimClrDefinition : MethodDefinition<SimClrOptions>
{
    /// <inheritdoc/>
    public override string Name => "simclr";

    /// <inheritdoc/>
    public override string Summary => "SimCLR: NT-Xent on two augmented views of every image, labels never read";

    /// <inheritdoc/>
    public override MethodKind Kind => MethodKind.Pretraining;

    /// <inheritdoc/>
    public override string? LegacyOptionsField => "simClr";

    /// <inheritdoc/>
    public override IReadOnlyList<MethodOption> Options
    {
        get
        {
            var d = new SimClrOptions();
            return
            [
                Number("--temperature", $"NT-Xent temperature [default: {d.Temperature}]", (o, v) => o with { Temperature = v }),
                Integer("--projection-dim", $"Projection head output size [default: {d.ProjectionDimension}]", (o, v) => o with { ProjectionDimension = v }),
                Number("--crop-scale-min", $"Smallest random-resized-crop area (fraction of the image) [default: {d.Augmentation.CropScaleMin}]",
                    (o, v) => o with { Augmentation = o.Augmentation with { CropScaleMin = v } }),
                Number("--blur", $"Probability of Gaussian blur in a view (0: off) [default: {d.Augmentation.BlurProbability}]",
                    (o, v) => o with { Augmentation = o.Augmentation with { BlurProbability = v } }),
            ];
        }
    }

    /// <inheritdoc/>
    protected override SimClrOptions Resolve(SimClrOptions options, MethodContext context)
    {
        if (!(options.Temperature > 0)) throw new WinnowException($"simclr: --temperature must be positive, got {options.Temperature}");
        if (options.ProjectionDimension < 1) throw new WinnowException($"simclr: --projection-dim must be at least 1, got {options.ProjectionDimension}");
        if (options.Augmentation.CropScaleMin is not (> 0 and <= 1)) throw new WinnowException($"simclr: --crop-scale-min must be in (0, 1], got {options.Augmentation.CropScaleMin}");
        if (options.Augmentation.BlurProbability is not (>= 0 and <= 1)) throw new WinnowException($"simclr: --blur must be a probability in [0, 1], got {options.Augmentation.BlurProbability}");
        if (context.Training.EncoderRateScale != 1)
            throw new WinnowException("--encoder-lr-scale sets a classifier's encoder apart from its head; pre-training has no head");
        return options;
    }

    /// <inheritdoc/>
    protected override ITrainingMethod Create(SimClrOptions options, MethodContext context) => new SimClrMethod(context.NewEncoder(), options, context.Training);
}
