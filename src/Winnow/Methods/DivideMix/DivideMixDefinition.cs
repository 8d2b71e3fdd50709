using Winnow.Training;

namespace Winnow.Methods;

/// <summary>DivideMix (Li, Socher and Hoi, ICLR 2020) with C2D's options.</summary>
public sealed class DivideMixDefinition : MethodDefinition<DivideMixOptions>
{
    /// <inheritdoc/>
    public override string Name => "dividemix";

    /// <inheritdoc/>
    public override string Summary => "DivideMix: two networks, loss-mixture co-divide, MixMatch with co-refined and co-guessed labels";

    /// <inheritdoc/>
    public override int ListOrder => 20;

    /// <inheritdoc/>
    public override string? LegacyOptionsField => "divideMix";

    /// <summary>The options of DivideMix's co-divide and MixMatch step, for DivideMix and the methods built on it.</summary>
    public static IReadOnlyList<MethodOption> CoDivideMixMatchOptions<TOptions>(Func<TOptions, DivideMixOptions> get, Func<TOptions, DivideMixOptions, TOptions> set)
        where TOptions : class, new()
    {
        var d = new DivideMixOptions();
        MethodOption Opt(MethodOption o) => o with { Apply = (options, value) => set((TOptions)options, (DivideMixOptions)o.Apply(get((TOptions)options), value)) };
        return new[]
        {
            Integer("--warmup-epochs", "Epochs of cross-entropy before the first division (default 10 from scratch, 5 with --encoder)", (o, v) => o with { WarmupEpochs = v }, "--warmup"),
            Number("--lambda-u", "Weight of the unlabeled loss λ_u (default by noise: 0 at 20% sym and asym, 25 at 50-80%, 50 at 90%; labels of unknown noise: from the noise estimated after warm-up)", (o, v) => o with { LambdaU = v }),
            Number("--p-threshold", "Clean-probability threshold τ (default 0.5; 0.6 at 90% noise)", (o, v) => o with { Threshold = v }),
            Choice("--co-divide", "simultaneous (DivideMix) or sequential (C2D) [default: simultaneous]", ["simultaneous", "sequential"],
                (o, v) => o with { CoDivide = v == "sequential" ? CoDivideOrder.Sequential : CoDivideOrder.Simultaneous }),
            Integer("--gmm-iterations", $"EM iterations of the loss mixture (DivideMix 10, C2D 200) [default: {d.MixtureIterations}]", (o, v) => o with { MixtureIterations = v }),
            Number("--warmup-clip", "Largest gradient norm during warm-up (default 1 with --encoder as C2D, off from scratch; 0 = off)", (o, v) => o with { WarmupGradientClip = v }),
            Integer("--ramp-epochs", $"Epochs over which λ_u ramps up after warm-up [default: {d.RampUpEpochs}]", (o, v) => o with { RampUpEpochs = v }),
            Number("--mixmatch-alpha", "MixMatch's Beta(α, α) (default 4 from scratch; from --encoder 0.01, which all but turns mixing off, and 4 at 90% symmetric noise)", (o, v) => o with { Alpha = v }, "--mix-alpha"),
            Number("--sharpen-temperature", $"Sharpening temperature T of refined and guessed labels [default: {d.SharpenTemperature}]", (o, v) => o with { SharpenTemperature = v }),
            Integer("--loss-history", "Epochs of per-sample losses averaged before the mixture is fitted (default 5 at 90% noise and above, else 1)", (o, v) => o with { LossHistory = v }),
            Flag("--hold-labeled-size", "After the first division, label as many samples as it did (those of lowest averaged loss) instead of all above the threshold; Winnow's option for 90% noise from --encoder", o => o with { HoldLabeledSize = true }),
            Flag("--class-balanced-split", "Share the labeled set among the noisy classes in proportion to their samples, each share the class's samples of lowest loss (UNICON's uniform selection; for symmetric noise)", o => o with { ClassBalancedSplit = true }),
        }.Select(Opt).ToArray();
    }

    /// <inheritdoc/>
    public override IReadOnlyList<MethodOption> Options => CoDivideMixMatchOptions<DivideMixOptions>(o => o, (_, d) => d);

    /// <inheritdoc/>
    protected override DivideMixOptions Resolve(DivideMixOptions options, MethodContext context)
    {
        RequireTrainableEncoder(context);
        return options.Resolve(context.KnownNoise, context.FromEncoder);
    }

    /// <inheritdoc/>
    protected override ITrainingMethod Create(DivideMixOptions options, MethodContext context) =>
        new DivideMixMethod(context.NewClassifier(), context.NewClassifier(), options, context.Training, context.FromEncoder);
}
