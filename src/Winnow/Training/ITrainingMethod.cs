using TorchSharp;
using Winnow.Data;
using static TorchSharp.torch;

namespace Winnow.Training;

/// <summary>One mini-batch on the compute device.</summary>
/// <param name="AllViews">Every view of every image, view-major: (views·N, C, H, W) float32.</param>
/// <param name="ViewCount">Views per image, as the method's <see cref="ITrainingMethod.TrainViews"/> asked.</param>
/// <param name="Labels">Training (possibly noisy) labels, (N) int64.</param>
/// <param name="Indices">Each image's index in the training set.</param>
public sealed record TrainingBatch(Tensor AllViews, int ViewCount, Tensor Labels, int[] Indices)
{
    /// <summary>The phase of the epoch this batch belongs to (see <see cref="BatchPlan"/>); 0 for single-pass methods.</summary>
    public int Phase { get; init; }

    /// <summary>0-based step within the phase.</summary>
    public int Step { get; init; }

    /// <summary>Steps in the phase.</summary>
    public int PhaseSteps { get; init; }

    /// <summary>The companion batch drawn alongside this one (DivideMix's unlabeled batch), if the plan has a companion pool.</summary>
    public TrainingBatch? Companion { get; init; }

    /// <summary>Images in the batch.</summary>
    public int Count => Indices.Length;

    /// <summary>The first view, (N, C, H, W).</summary>
    public Tensor Images => ViewCount == 1 ? AllViews : View(0);

    /// <summary>View <paramref name="v"/> of every image, (N, C, H, W).</summary>
    public Tensor View(int v) => AllViews.narrow(0, (long)v * Count, Count);
}

/// <summary>A second stream of batches drawn in step with a plan's main batches, from a pool of samples.</summary>
/// <param name="Pool">Sample indices to draw from; reshuffled whenever it runs out.</param>
/// <param name="BatchSize">Images per companion batch.</param>
/// <param name="Views">Views per image.</param>
public sealed record CompanionPlan(int[] Pool, int BatchSize, IReadOnlyList<IImageTransform> Views);

/// <summary>
/// One pass of an epoch: the samples to visit in order, in batches of <see cref="BatchSize"/> with the given views,
/// and optionally a companion stream. Methods that train two networks on different subsets (DivideMix) plan an
/// epoch as several phases; the loop runs them one after another.
/// </summary>
/// <param name="Order">Sample indices in visiting order.</param>
/// <param name="BatchSize">Images per batch.</param>
/// <param name="Views">Views per image.</param>
/// <param name="Phase">0-based phase number within the epoch.</param>
/// <param name="PhaseCount">Phases in the epoch (for progress estimates).</param>
/// <param name="Companion">A companion stream, or null.</param>
/// <param name="DropLast">Whether a last, smaller batch is dropped.</param>
public sealed record BatchPlan(int[] Order, int BatchSize, IReadOnlyList<IImageTransform> Views, int Phase = 0, int PhaseCount = 1,
    CompanionPlan? Companion = null, bool DropLast = false)
{
    /// <summary>Batches in the phase.</summary>
    public int StepCount => DropLast ? Order.Length / BatchSize : (Order.Length + BatchSize - 1) / BatchSize;
}

/// <summary>How the training loop measures a method after each epoch.</summary>
public enum EvaluationKind
{
    /// <summary>Test accuracy of <see cref="ITrainingMethod.PredictLogits"/>, and accuracy and memorisation on the training set.</summary>
    Classification,
    /// <summary>
    /// Self-supervised methods without a classifier: "test accuracy" is the weighted kNN accuracy (k = 200, cosine) of
    /// <see cref="ITrainingMethod.Features"/> on the test set against the training set's labels, a monitor only.
    /// </summary>
    FeatureKnn,
}

/// <summary>What a method sees of the run at the start of an epoch and at each step.</summary>
/// <param name="Epoch">0-based epoch.</param>
/// <param name="TotalEpochs">Epochs in the run.</param>
/// <param name="LearningRate">This epoch's learning rate (already set on every optimiser).</param>
/// <param name="Train">The training images.</param>
/// <param name="Labels">The training labels.</param>
/// <param name="Cancellation">Cancels the run.</param>
public sealed record EpochContext(int Epoch, int TotalEpochs, double LearningRate, ImageDataset Train, NoisyLabelSet Labels, CancellationToken Cancellation);

/// <summary>
/// A training method: the networks and optimisers it owns, what it does at the start of an epoch, and its step
/// (forward, loss, backward, update). The shared <see cref="TrainingLoop"/> does everything else: batches,
/// schedule, evaluation, metrics, checkpoints and resumption.
/// </summary>
public interface ITrainingMethod : IDisposable
{
    /// <summary>The method's name as the CLI spells it ("ce", …).</summary>
    string Name { get; }

    /// <summary>Every network whose state a checkpoint must hold, by name.</summary>
    IReadOnlyList<(string Name, nn.Module Network)> Networks { get; }

    /// <summary>Every optimiser, by name; the loop sets their learning rate each epoch.</summary>
    IReadOnlyList<(string Name, IOptimizer Optimizer)> Optimizers { get; }

    /// <summary>Called before the epoch's first step.</summary>
    void BeginEpoch(EpochContext context) { }

    /// <summary>
    /// The views the loop makes of each training image, given the loop's standard augmentation (random crop and
    /// flip): one weak view by default.
    /// </summary>
    IReadOnlyList<IImageTransform> TrainViews(IImageTransform standard) => [standard];

    /// <summary>
    /// The epoch's passes, produced lazily so that a later phase can depend on what an earlier one trained (C2D's
    /// sequential co-divide). Null (the default) is one pass over the whole training set, shuffled, in batches of the
    /// options' size, with <see cref="TrainViews"/>.
    /// </summary>
    IEnumerable<BatchPlan>? PlanEpoch(EpochContext context, IImageTransform standard) => null;

    /// <summary>How the loop evaluates the method.</summary>
    EvaluationKind Evaluation => EvaluationKind.Classification;

    /// <summary>Encoder features for evaluation (eval mode, no gradients), float32 (N, d).</summary>
    Tensor Features(Tensor images) => throw new NotSupportedException($"method '{Name}' exposes no features");

    /// <summary>Method-specific figures of the finished epoch, written as extra metrics.csv columns.</summary>
    IReadOnlyDictionary<string, double> EpochFigures() => new Dictionary<string, double>();

    /// <summary>Trains on one batch and returns the loss value.</summary>
    double TrainStep(TrainingBatch batch, EpochContext context);

    /// <summary>Class logits for evaluation: networks in eval mode, no gradients; float32 (N, classes).</summary>
    Tensor PredictLogits(Tensor images);

    /// <summary>
    /// Predictions on the whole un-augmented training set, which the loop makes after each epoch (accuracy against the
    /// noisy and true labels, memorisation, clean AUC). By default <see cref="PredictLogits"/> over the set; a method
    /// that already ran its networks over the set with the current weights (DivideMix's division) reuses that pass.
    /// </summary>
    DatasetPredictions PredictTrainingSet(ImageDataset train, CancellationToken cancellation) =>
        Training.Evaluation.Predict(PredictLogits, train, cancellation: cancellation);

    /// <summary>
    /// True when the method runs its networks over the whole training set each epoch anyway (DivideMix's division), so
    /// <see cref="PredictTrainingSet"/> costs nothing extra and the loop reports the whole set rather than a subset.
    /// </summary>
    bool PassesTrainingSetEachEpoch => false;

    /// <summary>
    /// The name of a checkpoint the loop keeps, beside last.ckpt, after <paramref name="completedEpochs"/> epochs (a
    /// copy named <c>NAME.ckpt</c>): DivideMix keeps "warmup" at the end of its warm-up, for the analyses of what the
    /// warm-up left behind; null keeps none.
    /// </summary>
    string? CheckpointToKeep(int completedEpochs) => null;

    /// <summary>Extra tensors the method must keep across a resume (targets, histories).</summary>
    IEnumerable<(string Name, Tensor Value)> ExtraState() => [];

    /// <summary>
    /// What the method settled during the run from what it measured (DivideMix: its rate-dependent options from the
    /// noise estimated after warm-up, for labels of unknown noise); null until then, or when it settles nothing.
    /// </summary>
    MethodSettlement? Settlement => null;

    /// <summary>Restores what <see cref="ExtraState"/> wrote.</summary>
    void LoadExtraState(IReadOnlyDictionary<string, Tensor> state) { }
}

/// <summary>Options a method resolved during a run from a noise estimate.</summary>
/// <param name="Estimate">The estimate.</param>
/// <param name="ResolvedOptions">The method's options record, with the values the estimate chose.</param>
/// <param name="Summary">The chosen values, for people (one clause).</param>
public sealed record MethodSettlement(Detection.NoiseRateEstimate Estimate, object ResolvedOptions, string Summary);
