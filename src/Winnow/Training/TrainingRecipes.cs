using Winnow.Models;

namespace Winnow.Training;

/// <summary>A named set of training defaults and the model they go with; options given explicitly override it.</summary>
/// <param name="Name">The name the CLI's --recipe takes.</param>
/// <param name="Model">The registered encoder the recipe trains.</param>
/// <param name="Options">The training options.</param>
/// <param name="Summary">One line for people.</param>
public sealed record TrainingRecipe(string Name, string Model, TrainingOptions Options, string Summary);

/// <summary>The registered training recipes.</summary>
public static class TrainingRecipes
{
    /// <summary>
    /// The CPU-fast recipe for small photos, after airbench94 (Jordan 2024) with its hyper-parameters moved from a summed
    /// to a mean loss (learning rate 11.5 per 1,024 examples over 1 + 1/(1 − 0.85) becomes 0.001465 × batch; the weight
    /// decay 0.0153 per 1,024 examples becomes 0.00133): <see cref="ModelFactory.FastCnn"/>, 10 epochs of batch 512, SGD
    /// with Nesterov momentum 0.85, batch-norm shifts at 64 times the rate, label smoothing 0.2, the linear per-step
    /// schedule (0.2 → 1 over 23% of the steps → 0.07), lookahead every 5 steps, random 2-pixel crops of the image padded
    /// with its mirror, alternating flips, and the
    /// final evaluation with 6 test-time views. The per-epoch training-set monitor passes 5,000 images.
    /// </summary>
    public static TrainingRecipe Fast { get; } = new("fast", ModelFactory.FastCnn, new TrainingOptions
    {
        Epochs = 10,
        BatchSize = 512,
        LearningRate = 0.001465 * 512,
        Momentum = 0.85,
        Nesterov = true,
        WeightDecay = 0.00133,
        NormBiasRateScale = 64,
        LabelSmoothing = 0.2,
        Schedule = new LearningRateSchedule { Kind = ScheduleKind.Linear, WarmupFraction = 0.23, StartFactor = 0.2, EndFactor = 0.07 },
        LookaheadSteps = 5,
        CropPadding = 2,
        ReflectPadding = true,
        HorizontalFlip = true,
        AlternatingFlips = true,
        TestTimeAugmentation = TestTimeAugmentation.MirrorTranslate,
        TrainingSetEvaluationSamples = 5_000,
    }, "fast-cnn, 10 epochs, batch 512, Nesterov SGD lr 0.75, label smoothing 0.2, linear per-step schedule, lookahead, 6-view final evaluation (airbench94)");

    /// <summary>Every recipe by name.</summary>
    public static IReadOnlyList<TrainingRecipe> All { get; } = [Fast];

    /// <summary>The recipe called <paramref name="name"/>; a <see cref="WinnowException"/> naming the choices otherwise.</summary>
    public static TrainingRecipe Named(string name) =>
        All.FirstOrDefault(r => r.Name == name) ?? throw new WinnowException($"--recipe must be one of {string.Join(", ", All.Select(r => r.Name))}, got '{name}'");
}
