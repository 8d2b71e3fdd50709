using Winnow.Models;

namespace Winnow.Training;

/// <summary>How the learning rate changes from epoch to epoch.</summary>
public enum ScheduleKind
{
    /// <summary>The base rate throughout.</summary>
    Constant,
    /// <summary>Multiplied by gamma every StepSize epochs (PyTorch's StepLR).</summary>
    Step,
    /// <summary>Multiplied by gamma at each milestone epoch (PyTorch's MultiStepLR; DivideMix's switch at epoch 150).</summary>
    MultiStep,
    /// <summary>Half-cosine decay from the base rate to MinLearningRate over the run.</summary>
    Cosine,
    /// <summary>
    /// Set at every step, not every epoch: linear from StartFactor × base up to the base rate over the first
    /// WarmupFraction of the run's steps, then linear down to EndFactor × base at the last step (airbench's schedule:
    /// 0.2, 23%, 0.07).
    /// </summary>
    Linear,
}

/// <summary>Which views the final evaluation averages.</summary>
public enum TestTimeAugmentation
{
    /// <summary>The image alone.</summary>
    None,
    /// <summary>The image and its mirror image (2 views).</summary>
    Mirror,
    /// <summary>
    /// airbench's level 2: half the mirror pair's mean, half the mean of the mirror pairs of the image shifted one
    /// pixel up-left and one pixel down-right (reflected border) (6 views).
    /// </summary>
    MirrorTranslate,
}

/// <summary>A learning-rate schedule, evaluated at epoch boundaries (as DivideMix, C2D and ELR do).</summary>
public sealed record LearningRateSchedule
{
    /// <summary>The schedule's shape.</summary>
    public ScheduleKind Kind { get; init; } = ScheduleKind.Cosine;

    /// <summary>Epochs between decays, for <see cref="ScheduleKind.Step"/>.</summary>
    public int StepSize { get; init; } = 30;

    /// <summary>Epochs (0-based) at which the rate is multiplied by gamma, for <see cref="ScheduleKind.MultiStep"/>.</summary>
    public int[] Milestones { get; init; } = [];

    /// <summary>Decay factor of the step schedules.</summary>
    public double Gamma { get; init; } = 0.1;

    /// <summary>Epochs of linear warm-up from base/WarmupEpochs to the base rate, before the schedule proper.</summary>
    public int WarmupEpochs { get; init; }

    /// <summary>The final rate of the cosine schedule.</summary>
    public double MinLearningRate { get; init; }

    /// <summary><see cref="ScheduleKind.Linear"/>: the fraction of the run's steps spent rising to the base rate.</summary>
    public double WarmupFraction { get; init; } = 0.23;

    /// <summary><see cref="ScheduleKind.Linear"/>: the first step's rate as a multiple of the base rate.</summary>
    public double StartFactor { get; init; } = 0.2;

    /// <summary><see cref="ScheduleKind.Linear"/>: the last step's rate as a multiple of the base rate.</summary>
    public double EndFactor { get; init; } = 0.07;

    /// <summary>True when the rate changes at every step (<see cref="AtProgress"/>) rather than at epoch boundaries.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool PerStep => Kind == ScheduleKind.Linear;

    /// <summary>
    /// The rate after the fraction <paramref name="progress"/> (0 at the first step, 1 at the end) of the run, for
    /// <see cref="ScheduleKind.Linear"/>.
    /// </summary>
    public double AtProgress(double baseRate, double progress)
    {
        progress = Math.Clamp(progress, 0, 1);
        if (progress < WarmupFraction)
        {
            double f = progress / WarmupFraction;
            return baseRate * (StartFactor * (1 - f) + f);
        }
        double d = WarmupFraction >= 1 ? 1 : (progress - WarmupFraction) / (1 - WarmupFraction);
        return baseRate * ((1 - d) + EndFactor * d);
    }

    /// <summary>The learning rate of epoch <paramref name="epoch"/> (0-based) in a run of <paramref name="totalEpochs"/>; for a per-step schedule, its first step's.</summary>
    public double At(double baseRate, int epoch, int totalEpochs)
    {
        if (PerStep) return AtProgress(baseRate, (double)epoch / totalEpochs);
        if (epoch < WarmupEpochs) return baseRate * (epoch + 1) / WarmupEpochs;
        return Kind switch
        {
            ScheduleKind.Constant => baseRate,
            ScheduleKind.Step => baseRate * Math.Pow(Gamma, epoch / Math.Max(1, StepSize)),
            ScheduleKind.MultiStep => baseRate * Math.Pow(Gamma, Milestones.Count(m => epoch >= m)),
            ScheduleKind.Cosine => MinLearningRate + (baseRate - MinLearningRate) * 0.5 *
                (1 + Math.Cos(Math.PI * (epoch - WarmupEpochs) / Math.Max(1, totalEpochs - WarmupEpochs))),
            _ => throw new ArgumentOutOfRangeException(nameof(Kind)),
        };
    }
}

/// <summary>
/// Options shared by every training method: optimisation, schedule, augmentation, precision and seed.
/// Defaults follow DivideMix's CIFAR recipe (SGD, momentum 0.9, weight decay 5e-4, lr 0.02, batch 128) except the
/// schedule: a cosine decay, because Winnow's CPU runs are tens of epochs, not DivideMix's 300.
/// </summary>
public sealed record TrainingOptions
{
    /// <summary>Training epochs (10; the main job, scripts/quickstart.sh, asks for 4).</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Images per step.</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>The optimiser.</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Sgd;

    /// <summary>The base learning rate.</summary>
    public double LearningRate { get; init; } = 0.02;

    /// <summary>SGD momentum.</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary>Weight decay (L2 for SGD, decoupled for AdamW).</summary>
    public double WeightDecay { get; init; } = 5e-4;

    /// <summary>The learning-rate schedule.</summary>
    public LearningRateSchedule Schedule { get; init; } = new();

    /// <summary>Seed of everything random: initialisation, shuffling, augmentation.</summary>
    public int Seed { get; init; }

    /// <summary>
    /// Compute precision. <see cref="Precision.Auto"/> (the default) is settled before the first step by timing the
    /// run's model in float32 and bfloat16 on this machine (Analysis.PrecisionSelector;
    /// Runs.TrainingJob.Prepare does it): bfloat16 is faster only on CPUs with native bfloat16 arithmetic.
    /// </summary>
    public Precision Precision { get; init; } = Precision.Auto;

    /// <summary>Zero padding of the random crop (0 turns cropping off).</summary>
    public int CropPadding { get; init; } = 2;

    /// <summary>Random horizontal flips.</summary>
    public bool HorizontalFlip { get; init; } = true;

    /// <summary>Pad the random crop with the image's mirror at the border rather than zeros (airbench's translate).</summary>
    public bool ReflectPadding { get; init; }

    /// <summary>
    /// Flip each image one way in even epochs and the other way in odd ones, its first way a seeded coin (airbench's
    /// alternating flips), instead of a new coin every epoch.
    /// </summary>
    public bool AlternatingFlips { get; init; }

    /// <summary>Torch threads; 0 uses every core.</summary>
    public int Threads { get; init; }

    /// <summary>Evaluate the un-augmented training set after each epoch (accuracy against noisy and true labels, memorisation).</summary>
    public bool EvaluateTrainingSet { get; init; } = true;

    /// <summary>
    /// Training images that the per-epoch evaluation passes: a subset drawn once from the seed, the same every epoch,
    /// whose accuracy, memorisation and clean AUC estimate the whole set's (20,000 of 60,000 images: a standard error
    /// of at most 0.35 points for an accuracy); 0, or the training set's size or more, passes every image. A method that passes the whole set
    /// each epoch anyway (<see cref="ITrainingMethod.PassesTrainingSetEachEpoch"/>) always reports the whole set. The
    /// default keeps the evaluation under 15% of an epoch: passing all 60,000 costs about a fifth of a cross-entropy
    /// epoch in fp32.
    /// </summary>
    public int TrainingSetEvaluationSamples { get; init; } = 20_000;

    /// <summary>Neighbours of the weighted kNN monitor of self-supervised methods (200, as C2D's and Cheng et al.'s monitors).</summary>
    public int KnnNeighbours { get; init; } = 200;

    /// <summary>Temperature of the kNN monitor's weights exp(similarity / t).</summary>
    public double KnnTemperature { get; init; } = 0.5;

    /// <summary>How many final epochs "Last" averages (10 in the seeds' papers).</summary>
    public int LastEpochs { get; init; } = 10;

    /// <summary>
    /// Largest L2 norm of all gradients together before each update; larger gradients are scaled down to it (0: no
    /// clipping, the default). C2D clips at 1 when it starts from a SimCLR encoder, so that the first steps through a
    /// random head do not undo the pre-trained features.
    /// </summary>
    public double GradientClip { get; init; }

    /// <summary>
    /// The encoder's learning rate (and weight decay) as a fraction of <see cref="LearningRate"/>; the new head keeps
    /// the full rate (1, the default: one rate for all). Below 1 a pre-trained encoder moves more slowly than the head.
    /// </summary>
    public double EncoderRateScale { get; init; } = 1;

    /// <summary>Nesterov momentum (SGD): the step uses g + μ·b instead of b (PyTorch's nesterov=True; airbench).</summary>
    public bool Nesterov { get; init; }

    /// <summary>
    /// Label smoothing of the cross-entropy on hard labels (ce and ce-reg): the target puts 1 − ε on the label and
    /// ε/K on every class (0: off; airbench 0.2).
    /// </summary>
    public double LabelSmoothing { get; init; }

    /// <summary>
    /// Batch-norm shifts (biases) learn at this multiple of the learning rate, their weight decay per step unchanged
    /// (airbench: 64; 1, the default: one rate for all).
    /// </summary>
    public double NormBiasRateScale { get; init; } = 1;

    /// <summary>
    /// Lookahead weight averaging (airbench): every this many steps an average of the weights and batch-norm statistics
    /// moves towards the network, a ← a + (1 − d)(w − a), with d = 0.95^k·progress³, and the network takes the average;
    /// at the last step the network becomes the average. 0 (the default): off.
    /// </summary>
    public int LookaheadSteps { get; init; }

    /// <summary>
    /// Test-time augmentation of the final evaluation: the last epoch's test accuracy and the run's final training-set
    /// predictions average the logits of several views (metrics.csv's test_accuracy_tta column; the label issues read
    /// the final predictions). Per-epoch test accuracies stay single-view.
    /// </summary>
    public TestTimeAugmentation TestTimeAugmentation { get; init; } = TestTimeAugmentation.None;

    /// <summary>The most torch threads a run may ask for (<see cref="Threads"/>).</summary>
    public const int MaxThreads = 1024;

    /// <summary>Checks ranges; throws <see cref="WinnowException"/> naming the command-line option and its range.</summary>
    public void Validate()
    {
        Require(Epochs >= 1, $"--epochs must be at least 1, got {Epochs}");
        Require(BatchSize >= 2, $"--batch-size must be at least 2, got {BatchSize}");
        Require(LearningRate > 0 && double.IsFinite(LearningRate), $"--lr must be a positive number, got {LearningRate}");
        Require(Momentum is >= 0 and < 1, $"--momentum must be in [0, 1), got {Momentum}");
        Require(WeightDecay >= 0 && double.IsFinite(WeightDecay), $"--weight-decay must be non-negative, got {WeightDecay}");
        Require(Schedule.Gamma is > 0 and <= 1, $"--gamma must be in (0, 1], got {Schedule.Gamma}");
        Require(Schedule.StepSize >= 1, $"--step-size must be at least 1, got {Schedule.StepSize}");
        Require(Schedule.WarmupEpochs >= 0 && Schedule.WarmupEpochs <= Epochs, $"--lr-warmup-epochs must be in 0..{Epochs} (--epochs), got {Schedule.WarmupEpochs}");
        Require(Schedule.Milestones.All(m => m >= 0), $"--milestones must be 0-based epochs (0 or more), got {Schedule.Milestones.FirstOrDefault(m => m < 0)}");
        Require(CropPadding >= 0, $"--crop-padding must be non-negative, got {CropPadding}");
        Require(Threads is >= 0 and <= MaxThreads, $"--threads must be 0 (all cores) or in 1..{MaxThreads}, got {Threads}");
        Require(LastEpochs >= 1, $"--last-epochs must be at least 1, got {LastEpochs}");
        Require(TrainingSetEvaluationSamples >= 0, $"--train-eval-samples must be 0 (all) or positive, got {TrainingSetEvaluationSamples}");
        Require(EncoderRateScale > 0 && double.IsFinite(EncoderRateScale), $"--encoder-lr-scale must be positive, got {EncoderRateScale}");
        Require(GradientClip >= 0 && double.IsFinite(GradientClip), $"--grad-clip must be non-negative (0 = off), got {GradientClip}");
        Require(LabelSmoothing is >= 0 and < 1, $"--label-smoothing must be in [0, 1), got {LabelSmoothing}");
        Require(NormBiasRateScale > 0 && double.IsFinite(NormBiasRateScale), $"--norm-bias-lr-scale must be positive, got {NormBiasRateScale}");
        Require(LookaheadSteps >= 0, $"--lookahead must be 0 (off) or a number of steps, got {LookaheadSteps}");
        Require(Schedule.WarmupFraction is >= 0 and <= 1, $"--lr-warmup-fraction must be in [0, 1], got {Schedule.WarmupFraction}");
    }

    /// <summary>
    /// Checks the options against a training set of <paramref name="trainingImages"/> images (after any exclusion): a
    /// batch must fit in it. Throws <see cref="WinnowException"/> naming both numbers.
    /// </summary>
    public void ValidateFor(int trainingImages) =>
        Require(BatchSize <= trainingImages, $"--batch-size {BatchSize} is larger than the training set ({trainingImages} images); give at most {trainingImages}");

    private static void Require(bool valid, FormattableString message)
    {
        if (!valid) throw new WinnowException(FormattableString.Invariant(message));
    }
}
