using System.Diagnostics;
using System.Text.Json;
using TorchSharp;
using Winnow.Data;
using Winnow.Detection;
using Winnow.Models;
using static TorchSharp.torch;

namespace Winnow.Training;

/// <summary>Progress of a run: a step within an epoch, or a finished epoch with its metrics.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="TotalEpochs">Epochs in the run.</param>
/// <param name="Step">Steps done in this epoch.</param>
/// <param name="TotalSteps">Steps in this epoch.</param>
/// <param name="Loss">Mean loss so far in this epoch.</param>
/// <param name="Finished">The epoch's metrics once it is finished; null during the epoch.</param>
public sealed record TrainingProgress(int Epoch, int TotalEpochs, int Step, int TotalSteps, double Loss, EpochMetrics? Finished)
{
    /// <summary>A line for people about something the run decided at this epoch's end (e.g. options settled from a noise estimate); null mostly.</summary>
    public string? Note { get; init; }
}

/// <summary>The result of a run.</summary>
/// <param name="Epochs">Every epoch's metrics.</param>
/// <param name="Summary">Best and Last.</param>
/// <param name="FinalTrainingSetPredictions">
/// The final model's predictions on the un-augmented training set, as the last epoch's evaluation made them; null when
/// the loop ran no epoch or did not evaluate the training set.
/// </param>
public sealed record TrainingResult(IReadOnlyList<EpochMetrics> Epochs, RunSummary Summary, DatasetPredictions? FinalTrainingSetPredictions = null);

/// <summary>
/// The one training loop every method shares: per epoch it sets the learning rate, shuffles and augments the
/// training set in the background, calls the method's step on each batch, evaluates the test set (and the
/// un-augmented training set against the noisy and the true labels), writes metrics.csv and checkpoints, and reports
/// progress. Shuffling, augmentation and torch's generator are seeded from (seed, epoch), so a run resumed from its
/// last checkpoint continues exactly as the uninterrupted run would.
/// <para>
/// Each epoch ends with metrics.csv, then last.ckpt, which commits the epoch (a resume continues after it), then the
/// copies of last.ckpt the epoch makes (best.ckpt when it is the best so far, a checkpoint the method keeps), then
/// metrics.csv again with the epoch's whole time; each file is replaced atomically. A kill therefore leaves at most
/// the copies of last.ckpt's own epoch unwritten, and a resume writes them again from the restored state: best.ckpt
/// always holds the best of the epochs last.ckpt has seen. The best epoch is decided on the exact accuracies that
/// last.ckpt records (metrics.csv rounds them), so a resumed run ends with the uninterrupted run's best and summary.
/// </para>
/// </summary>
public sealed class TrainingLoop
{
    private readonly TrainingOptions options;

    /// <summary>Creates the loop.</summary>
    public TrainingLoop(TrainingOptions options)
    {
        options.Validate();
        NativeAllocator.KeepFreedMemory();
        if (options.Precision == Models.Precision.Auto)
            throw new WinnowException("precision auto must be settled (PrecisionSelector.Resolve, as TrainingJob.Prepare does) before training");
        this.options = options;
    }

    /// <summary>Seeds torch for building a method's networks: call before creating the method.</summary>
    public static void SeedForInitialisation(int seed) => manual_seed(seed);

    /// <summary>
    /// Trains <paramref name="method"/>; with <paramref name="resume"/> it continues from that checkpoint. A NaN or
    /// infinite value met anywhere (a step's loss, the weights, an evaluation's outputs, a mixture's losses) stops it
    /// with one line naming the epoch and the step or phase.
    /// </summary>
    public TrainingResult Run(ITrainingMethod method, ImageDataset train, NoisyLabelSet labels, ImageDataset test,
        RunFolder? output = null, Checkpoint? resume = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        var position = new LoopPosition();
        try
        {
            return RunEpochs(method, train, labels, test, output, resume, progress, position, cancellation);
        }
        catch (NonFiniteValueException e)
        {
            throw new WinnowException($"{e.Message} {position.Where}; lower the learning rate{KernelHint}", e);
        }
    }

    /// <summary>Where the loop is, for an error about a non-finite value: "at epoch 3, step 12".</summary>
    private sealed class LoopPosition
    {
        public string Where { get; set; } = "before the first epoch";
    }

    private TrainingResult RunEpochs(ITrainingMethod method, ImageDataset train, NoisyLabelSet labels, ImageDataset test,
        RunFolder? output, Checkpoint? resume, IProgress<TrainingProgress>? progress, LoopPosition position, CancellationToken cancellation)
    {
        if (labels.Count != train.Count) throw new WinnowException($"{labels.Count} labels for {train.Count} training images");
        if (test.Channels != train.Channels || test.Height != train.Height || test.Width != train.Width)
            throw new WinnowException($"test images are {test.Channels}x{test.Height}x{test.Width}, training images {train.Channels}x{train.Height}x{train.Width}");
        set_num_threads(options.Threads > 0 ? options.Threads : Environment.ProcessorCount);

        var rows = new List<EpochMetrics>();
        int startEpoch = 0;
        using var lookahead = options.LookaheadSteps > 0 ? new LookaheadAveraging(method.Networks, options.LookaheadSteps) : null;
        long runSteps = 0;
        if (resume is not null)
        {
            var state = RestoreFrom(method, resume);
            startEpoch = state.CompletedEpochs;
            var loopState = resume.WithPrefix("loop.");
            if (loopState.TryGetValue("steps", out var savedSteps)) runSteps = savedSteps.item<long>();
            lookahead?.LoadState(resume.WithPrefix("loop.lookahead."));
            if (output is not null && File.Exists(output.MetricsFile))
                rows.AddRange(EpochMetrics.ReadCsv(output.MetricsFile).Where(r => r.Epoch >= 1 && r.Epoch <= startEpoch));
            // The exact accuracies, where the checkpoint records them (older ones do not: then metrics.csv's, rounded).
            if (state.TestAccuracies is { } exact && exact.Length == startEpoch)
                for (int i = 0; i < rows.Count; i++) rows[i] = rows[i] with { TestAccuracy = exact[rows[i].Epoch - 1] };
            if (output is not null) RedoCopiesOfLast(method, output, rows, startEpoch, LoopState(runSteps, lookahead));
        }
        double best = rows.Count > 0 ? rows.Max(r => r.TestAccuracy) : double.NegativeInfinity;
        // Layers computed from the training images (a whitening layer) are set before the first step of a new run; a
        // resumed run, or weights loaded from a checkpoint, already hold theirs.
        foreach (var (_, net) in method.Networks) DataDependentLayers.Initialise(net, n => FirstImages(train, n));


        var evaluated = TrainingSetEvaluationSubset(train.Count, options, method);
        var evaluatedTrain = evaluated is null ? train : train.Subset(evaluated);
        var evaluatedLabels = evaluated is null ? labels : labels.Subset(evaluated);
        int[] evaluatedNoisy = evaluatedLabels.Noisy;
        int[]? evaluatedTrue = evaluatedLabels.True;
        var mislabeled = Enumerable.Range(0, evaluatedLabels.Count).Where(evaluatedLabels.IsMislabeled).ToArray();
        DatasetPredictions? trainPredictions = null;

        for (int epoch = startEpoch; epoch < options.Epochs; epoch++)
        {
            cancellation.ThrowIfCancellationRequested();
            var clock = Stopwatch.StartNew();
            double lr = options.Schedule.At(options.LearningRate, epoch, options.Epochs);
            bool finalEpoch = epoch == options.Epochs - 1;
            foreach (var (_, opt) in method.Optimizers) opt.LearningRate = lr;
            manual_seed(SeedOf(options.Seed, epoch, 0));
            var context = new EpochContext(epoch, options.Epochs, lr, train, labels, cancellation);
            position.Where = $"at epoch {epoch + 1}, before its first step";
            method.BeginEpoch(context);
            foreach (var (_, net) in method.Networks) DataDependentLayers.BeginEpoch(net, epoch);

            var augment = StandardAugmentation(options, epoch);
            var views = method.TrainViews(augment);
            double lossSum = 0;
            int steps = 0;
            var plans = method.PlanEpoch(context, augment)
                ?? [new BatchPlan(BatchStream.Shuffled(train.Count, SeedOf(options.Seed, epoch, 1)), options.BatchSize, views)];
            foreach (var plan in plans)
            {
                int phaseSteps = plan.StepCount;
                int stepsBefore = steps;
                // The epoch's steps as far as this phase can tell (later phases are planned lazily).
                int estimated = stepsBefore + phaseSteps * (plan.PhaseCount - plan.Phase);
                using var companion = plan.Companion is null ? null
                    : CompanionBatches(train, labels.Noisy, plan.Companion, phaseSteps, SeedOf(options.Seed, epoch, 21 + 2 * plan.Phase), cancellation).GetEnumerator();
                int phaseStep = 0;
                // Phase 0 keeps the seed stream of the single-phase loop, so plain methods are unaffected by phases.
                int augmentSeed = SeedOf(options.Seed, epoch, plan.Phase == 0 ? 2 : 20 + 2 * plan.Phase);
                foreach (var hb in BatchStream.Create(train, labels.Noisy, plan.Order, plan.BatchSize, plan.Views, augmentSeed, plan.DropLast, cancellation: cancellation))
                {
                    using var scope = NewDisposeScope();
                    TrainingBatch? companionBatch = null;
                    if (companion is not null && companion.MoveNext()) companionBatch = ToDevice(companion.Current);
                    var batch = ToDevice(hb) with { Phase = plan.Phase, Step = phaseStep, PhaseSteps = phaseSteps, Companion = companionBatch };
                    position.Where = $"at epoch {epoch + 1}, step {steps + 1}";
                    int estimatedSteps = Math.Max(estimated, steps + 1);
                    if (options.Schedule.PerStep)
                    {
                        double stepRate = options.Schedule.AtProgress(options.LearningRate, (epoch + (double)steps / estimatedSteps) / options.Epochs);
                        foreach (var (_, opt) in method.Optimizers) opt.LearningRate = stepRate;
                    }
                    double loss = method.TrainStep(batch, context);
                    runSteps++;
                    lookahead?.AfterStep(runSteps, (epoch + (double)(steps + 1) / estimatedSteps) / options.Epochs);
                    if (!double.IsFinite(loss))
                        throw new WinnowException($"the training loss became {loss} at epoch {epoch + 1}, step {steps + 1}; lower the learning rate{KernelHint}");
                    lossSum += loss;
                    steps++;
                    phaseStep++;
                    progress?.Report(new TrainingProgress(epoch + 1, options.Epochs, steps, Math.Max(estimated, steps), lossSum / steps, null));
                }
            }
            if (finalEpoch) lookahead?.Finish();
            double trainSeconds = clock.Elapsed.TotalSeconds;
            // Weights can turn non-finite through a step whose loss was still finite: stop here, for every method,
            // before the evaluation's mixtures or the next division read NaN losses.
            if (NonFiniteNetwork(method) is { } broken)
                throw new WinnowException($"the weights of {broken} are no longer finite after epoch {epoch + 1}; lower the learning rate{KernelHint}");

            position.Where = $"in the evaluation after epoch {epoch + 1} ({steps} steps)";
            var row = new EpochMetrics
            {
                Epoch = epoch + 1,
                LearningRate = lr,
                TrainLoss = lossSum / Math.Max(1, steps),
                TrainSeconds = trainSeconds,
                Extra = method.EpochFigures(),
            };
            if (method.Evaluation == EvaluationKind.FeatureKnn)
            {
                // A monitor only: the memory bank's labels are the dataset's own, never used for training.
                using var trainFeatures = Evaluation.FeatureMatrix(method.Features, train, cancellation: cancellation);
                using var testFeatures = Evaluation.FeatureMatrix(method.Features, test, cancellation: cancellation);
                row = row with { TestAccuracy = KnnClassifier.Accuracy(trainFeatures, train.Labels, train.ClassCount, testFeatures, test.Labels, options.KnnNeighbours, options.KnnTemperature) };
            }
            else
                row = row with { TestAccuracy = Evaluation.Predict(method.PredictLogits, test, cancellation: cancellation).Accuracy(test.Labels) };
            if (options.TestTimeAugmentation != TestTimeAugmentation.None && method.Evaluation == EvaluationKind.Classification)
            {
                // The final model alone is evaluated with several views (6 per image at airbench's level: too dear each epoch).
                double tta = finalEpoch
                    ? Evaluation.Predict(TestTimeAugmenter.Wrap(method.PredictLogits, options.TestTimeAugmentation), test, cancellation: cancellation).Accuracy(test.Labels)
                    : double.NaN;
                row = row with { Extra = new Dictionary<string, double>(row.Extra) { [TestAccuracyTtaColumn] = tta } };
            }
            if (options.EvaluateTrainingSet && method.Evaluation == EvaluationKind.Classification)
            {
                // The whole set through the method (it may reuse its own pass); a subset through the plain forward pass.
                var trainPred = evaluated is null
                    ? trainPredictions = method.PredictTrainingSet(train, cancellation)
                    : Evaluation.Predict(method.PredictLogits, evaluatedTrain, cancellation: cancellation);
                row = row with
                {
                    TrainAccuracyNoisy = trainPred.Accuracy(evaluatedNoisy),
                    TrainAccuracyTrue = evaluatedTrue is null ? double.NaN : trainPred.Accuracy(evaluatedTrue),
                    Memorization = mislabeled.Length == 0 ? double.NaN
                        : (double)mislabeled.Count(i => trainPred.Predicted[i] == evaluatedNoisy[i]) / mislabeled.Length,
                    CleanAuc = mislabeled.Length == 0 || mislabeled.Length == evaluatedLabels.Count ? double.NaN
                        : CleanSetMeasures.RocAucOf(CleanProbability.FromLosses(trainPred.Losses(evaluatedNoisy), new GaussianMixtureOptions { Seed = options.Seed }), evaluatedLabels),
                };
            }
            bool isBest = row.TestAccuracy > best;
            best = Math.Max(best, row.TestAccuracy);
            row = row with { Seconds = clock.Elapsed.TotalSeconds };
            rows.Add(row);
            if (output is not null)
            {
                EpochMetrics.WriteCsv(output.MetricsFile, rows);
                SaveCheckpoint(method, output.LastCheckpoint, epoch + 1, TestAccuracies(rows), LoopState(runSteps, lookahead));
                foreach (string copy in CopiesOfLast(method, output, epoch + 1, isBest))
                    AtomicFile.Write(copy, tmp => File.Copy(output.LastCheckpoint, tmp, overwrite: true));
                row = row with { Seconds = clock.Elapsed.TotalSeconds };
                rows[^1] = row;
                EpochMetrics.WriteCsv(output.MetricsFile, rows);
            }
            progress?.Report(new TrainingProgress(epoch + 1, options.Epochs, steps, steps, row.TrainLoss, row));
        }
        var summary = RunSummary.From(rows, options.LastEpochs);
        output?.WriteJson(output.SummaryFile, summary);
        return new TrainingResult(rows, summary, trainPredictions);
    }

    /// <summary>
    /// The sorted training indices the per-epoch evaluation passes (<see cref="TrainingOptions.TrainingSetEvaluationSamples"/>),
    /// drawn from the run's seed; null when it passes the whole set.
    /// </summary>
    public static int[]? TrainingSetEvaluationSubset(int trainCount, TrainingOptions options, ITrainingMethod method)
    {
        int samples = options.TrainingSetEvaluationSamples;
        if (samples <= 0 || samples >= trainCount || method.PassesTrainingSetEachEpoch) return null;
        var order = Enumerable.Range(0, trainCount).ToArray();
        new Random(SeedOf(options.Seed, 0, 31)).Shuffle(order);
        var subset = order[..samples];
        Array.Sort(subset);
        return subset;
    }

    /// <summary>
    /// On some AVX-512 CPUs, oneDNN's kernels in libtorch 2.10 turn a step's values into NaN now and then
    /// (docs/methods.md); <see cref="KernelIsa"/> caps them at AVX2 where the fault is known. The hint for an error
    /// message about non-finite values, starting with ", or"; empty where a cap is in force or there is no AVX-512.
    /// </summary>
    private static string KernelHint =>
        System.Runtime.Intrinsics.X86.Avx512F.IsSupported && !KernelIsa.Current.Capped
            ? $", or, on this AVX-512 CPU, rerun with {KernelIsa.SettingVariable}={KernelIsa.SafeIsa} in the environment (libtorch's oneDNN kernels; docs/methods.md)"
            : "";

    /// <summary>The name of the first of the method's networks with a NaN or infinite parameter; null when all are finite.</summary>
    private static string? NonFiniteNetwork(ITrainingMethod method)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        foreach (var (name, net) in method.Networks)
            if (net.parameters().Any(p => !p.isfinite().all().item<bool>())) return name;
        return null;
    }

    /// <summary>The first <paramref name="count"/> training images (all when fewer), normalised and un-augmented, (n, C, H, W).</summary>
    public static Tensor FirstImages(ImageDataset train, int count)
    {
        int n = Math.Min(count, train.Count);
        var indices = Enumerable.Range(0, n).ToArray();
        return BatchStream.Build(train, train.Labels, indices, [NormalizeOnly.Instance], new Random(0)).MovePixelsToTensor();
    }

    /// <summary>
    /// The loop's standard augmentation in <paramref name="epoch"/>: random crop and flip as the options say (the
    /// epoch matters for alternating flips), or normalisation alone.
    /// </summary>
    public static IImageTransform StandardAugmentation(TrainingOptions options, int epoch) =>
        options.CropPadding > 0 || options.HorizontalFlip
            ? new RandomCropFlip(options.CropPadding, options.HorizontalFlip)
            {
                ReflectPadding = options.ReflectPadding,
                AlternatingFlipEpoch = options.AlternatingFlips ? epoch : null,
                FlipSeed = SeedOf(options.Seed, 0, 41),
            }
            : NormalizeOnly.Instance;

    /// <summary>metrics.csv's column of the final epoch's test accuracy with test-time augmentation (NaN in the other epochs).</summary>
    public const string TestAccuracyTtaColumn = "test_acc_tta";

    /// <summary>What the loop itself must carry across a resume: the run's step count and the lookahead average.</summary>
    private static IEnumerable<(string Name, Tensor Value)> LoopState(long runSteps, LookaheadAveraging? lookahead)
    {
        yield return ("steps", tensor(runSteps));
        if (lookahead is null) yield break;
        foreach (var (name, value) in lookahead.State()) yield return ($"lookahead.{name}", value);
    }

    private static TrainingBatch ToDevice(HostBatch hb) =>
        new(hb.MovePixelsToTensor(), hb.Views, tensor(hb.Labels), hb.Indices);

    /// <summary>
    /// <paramref name="count"/> full batches drawn from the companion pool, reshuffled each time the pool runs out
    /// (DivideMix's unlabeled loader, which is restarted when exhausted).
    /// </summary>
    private static IEnumerable<HostBatch> CompanionBatches(ImageDataset train, int[] labels, CompanionPlan plan, int count, int seed, CancellationToken cancellation)
    {
        if (plan.Pool.Length == 0 || count == 0) return [];
        var order = new int[count * plan.BatchSize];
        var rng = new Random(seed);
        for (int filled = 0; filled < order.Length;)
        {
            var round = (int[])plan.Pool.Clone();
            rng.Shuffle(round);
            int take = Math.Min(round.Length, order.Length - filled);
            Array.Copy(round, 0, order, filled, take);
            filled += take;
        }
        return BatchStream.Create(train, labels, order, plan.BatchSize, plan.Views, rng.Next(), cancellation: cancellation);
    }

    /// <summary>The checkpoints an epoch adds beside last.ckpt: best.ckpt when it is the best so far, and the one the method keeps at it, if any.</summary>
    private static IEnumerable<string> CopiesOfLast(ITrainingMethod method, RunFolder output, int completedEpochs, bool isBest)
    {
        if (isBest) yield return output.BestCheckpoint;
        if (method.CheckpointToKeep(completedEpochs) is { } kept) yield return output.KeptCheckpoint(kept);
    }

    /// <summary>
    /// The copies of last.ckpt its epoch made, which a kill may have stopped: written again from the restored state
    /// where they do not hold that epoch.
    /// </summary>
    private static void RedoCopiesOfLast(ITrainingMethod method, RunFolder output, List<EpochMetrics> rows, int completedEpochs,
        IEnumerable<(string Name, Tensor Value)> loopState)
    {
        if (completedEpochs == 0) return;
        bool lastIsBest = rows.Count > 0 && rows.MaxBy(r => r.TestAccuracy)!.Epoch == completedEpochs;
        foreach (string copy in CopiesOfLast(method, output, completedEpochs, lastIsBest))
            if (CompletedEpochsIn(copy) != completedEpochs) SaveCheckpoint(method, copy, completedEpochs, TestAccuracies(rows), loopState);
    }

    private static double[] TestAccuracies(List<EpochMetrics> rows) => [.. rows.Select(r => r.TestAccuracy)];

    /// <summary>The epochs completed in the checkpoint at <paramref name="path"/>; null when there is none, or it is damaged.</summary>
    private static int? CompletedEpochsIn(string path)
    {
        if (!File.Exists(path)) return null;
        try { return JsonSerializer.Deserialize<CheckpointState>(Checkpoint.ReadMetadata(path), RunFolder.Json)?.CompletedEpochs; }
        catch (Exception e) when (e is DataFormatException or JsonException) { return null; }
    }

    /// <summary>
    /// Writes the method's networks, optimisers and extra state, with the number of completed epochs and their exact
    /// test accuracies (<see cref="CheckpointState.TestAccuracies"/>).
    /// </summary>
    public static void SaveCheckpoint(ITrainingMethod method, string path, int completedEpochs, double[]? testAccuracies = null,
        IEnumerable<(string Name, Tensor Value)>? loopState = null)
    {
        var tensors = new List<(string, Tensor)>();
        foreach (var (name, net) in method.Networks)
            foreach (var (key, value) in net.state_dict()) tensors.Add(($"net.{name}.{key}", value));
        foreach (var (name, opt) in method.Optimizers)
            foreach (var (key, value) in opt.State()) tensors.Add(($"opt.{name}.{key}", value));
        foreach (var (key, value) in method.ExtraState()) tensors.Add(($"extra.{key}", value));
        foreach (var (key, value) in loopState ?? []) tensors.Add(($"loop.{key}", value));
        var meta = new CheckpointState(method.Name, completedEpochs, method.Networks.Select(n => n.Name).ToArray(), testAccuracies);
        Checkpoint.Save(path, JsonSerializer.Serialize(meta, RunFolder.Json), tensors);
    }

    /// <summary>Loads networks, optimisers and extra state from a checkpoint written by <see cref="SaveCheckpoint"/>.</summary>
    public static CheckpointState RestoreFrom(ITrainingMethod method, Checkpoint checkpoint)
    {
        try
        {
            var state = JsonSerializer.Deserialize<CheckpointState>(checkpoint.MetadataJson, RunFolder.Json)
                ?? throw new WinnowException("the checkpoint has no metadata");
            if (state.Method != method.Name) throw new WinnowException($"the checkpoint was written by method '{state.Method}', not '{method.Name}'");
            using (no_grad())
                foreach (var (name, net) in method.Networks)
                    Checkpoint.LoadNetwork(net, checkpoint.WithPrefix($"net.{name}."), name);
            foreach (var (name, opt) in method.Optimizers) opt.LoadState(checkpoint.WithPrefix($"opt.{name}."));
            method.LoadExtraState(checkpoint.WithPrefix("extra."));
            return state;
        }
        catch (Exception e) when (checkpoint.SourcePath is not null && (e is JsonException || e is WinnowException and not DataFormatException))
        {
            // The error names the file: a checkpoint of another model or method, or damaged metadata.
            throw new DataFormatException(checkpoint.SourcePath, e is JsonException ? $"damaged checkpoint metadata ({e.Message})" : e.Message, e);
        }
    }

    /// <summary>A seed derived deterministically from the run's seed, the epoch and a stream number (SplitMix64 mixing).</summary>
    public static int SeedOf(int seed, int epoch, int stream)
    {
        ulong z = (ulong)(uint)seed * 0x9E3779B97F4A7C15UL + (ulong)(uint)epoch * 0xBF58476D1CE4E5B9UL + (ulong)(uint)stream * 0x94D049BB133111EBUL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (int)((z ^ (z >> 31)) & 0x7fffffff);
    }
}

