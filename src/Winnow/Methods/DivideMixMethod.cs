using TorchSharp;
using Winnow.Data;
using Winnow.Detection;
using Winnow.Models;
using Winnow.Training;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Winnow.Methods;

/// <summary>
/// DivideMix (Li, Socher and Hoi, ICLR 2020), with C2D's options. Two networks warm up with cross-entropy; then, each
/// epoch, each network's per-sample losses on the un-augmented training set are min-max normalised, (at high noise)
/// averaged over recent epochs, and fitted by a two-component Gaussian mixture whose lower-mean posterior is the
/// clean probability w. Each network trains on the split of the other (co-divide): samples with w above τ are
/// labeled, the rest unlabeled. A step co-refines the labels of the labeled batch (w·y + (1 − w)·prediction,
/// sharpened), co-guesses the unlabeled batch's labels from both networks (sharpened), mixes all rows with one
/// λ′ = max(λ, 1 − λ), λ ~ Beta(α, α), and minimises L_x + λ_u(t)·L_u + KL(uniform ‖ mean prediction). Test
/// predictions are the sum of the two networks' logits. The guessing passes run the trained network in train mode
/// and its peer in eval mode, as the official code does.
/// </summary>
public sealed class DivideMixMethod : ITrainingMethod
{
    private readonly Classifier[] nets;
    private readonly IOptimizer[] optimizers;
    private DivideMixOptions options;
    private readonly bool fromEncoder;
    private readonly TrainingOptions training;
    private readonly int classCount;
    private readonly List<double[]>[] history = [[], []];
    private readonly double[]?[] clean = new double[]?[2];
    private readonly bool[]?[] labeled = new bool[]?[2];
    private readonly int?[] heldLabeledSize = new int?[2];
    private readonly Dictionary<string, double> figures = new();
    private readonly long[] updates = new long[2];
    private readonly TrainingSetLogits?[] trainingLogits = new TrainingSetLogits?[2];
    private Random mixing = new(0);

    /// <summary>
    /// Trains two networks; <paramref name="options"/> must be resolved (<see cref="DivideMixOptions.Resolve"/>), except
    /// that the rate-dependent values may wait for the noise estimated after warm-up (labels of unknown noise): then the
    /// first division estimates it (<see cref="NoiseRateEstimate"/>) and fills them as for the synthetic noise that matches it.
    /// </summary>
    /// <param name="net1">The first network.</param>
    /// <param name="net2">The second network.</param>
    /// <param name="options">The options.</param>
    /// <param name="training">The loop's options.</param>
    /// <param name="fromEncoder">Whether the networks start from a pre-trained encoder (resolves α from an estimate).</param>
    public DivideMixMethod(Classifier net1, Classifier net2, DivideMixOptions options, TrainingOptions training, bool fromEncoder = false)
    {
        if (options.WarmupEpochs is null || options.ConfidencePenalty is null || options.WarmupGradientClip is null)
            throw new ArgumentException("resolve the DivideMix options first (DivideMixOptions.Resolve)", nameof(options));
        this.fromEncoder = fromEncoder;
        nets = [net1, net2];
        foreach (var net in nets) net.Precision = training.Precision;
        optimizers = nets.Select(n => OptimizerFactory.Create(n, training)).ToArray();
        this.options = options;
        this.training = training;
        classCount = net1.ClassCount;
        ResetFigures();
    }

    /// <inheritdoc/>
    public string Name => "dividemix";

    /// <summary>The resolved options (the rate-dependent ones null until the noise is estimated, when it must be).</summary>
    public DivideMixOptions Options => options;

    /// <summary>The noise estimated after warm-up, when the options waited for it; null otherwise.</summary>
    public NoiseRateEstimate? NoiseEstimate { get; private set; }

    /// <inheritdoc/>
    public MethodSettlement? Settlement => NoiseEstimate is { } estimate
        ? new MethodSettlement(estimate, options, FormattableString.Invariant(
            $"dividemix λ_u {options.LambdaU}, τ {options.Threshold}, loss history {options.LossHistory}, α {options.Alpha}, confidence penalty {(options.ConfidencePenalty == true ? "on" : "off")}"))
        : null;

    /// <inheritdoc/>
    public IReadOnlyList<(string Name, nn.Module Network)> Networks => [("net1", nets[0]), ("net2", nets[1])];

    /// <inheritdoc/>
    public IReadOnlyList<(string Name, IOptimizer Optimizer)> Optimizers => [("net1", optimizers[0]), ("net2", optimizers[1])];

    private int Warmup => options.WarmupEpochs!.Value;

    /// <summary>The clean probability each network gave every training sample at the start of this epoch (null during warm-up).</summary>
    public double[]? CleanProbability(int network) => clean[network];

    /// <summary>Which training samples network <paramref name="network"/>'s division labeled this epoch (null during warm-up); the other network trains on it.</summary>
    public bool[]? LabeledSet(int network) => labeled[network];

    /// <inheritdoc/>
    public IEnumerable<BatchPlan>? PlanEpoch(EpochContext context, IImageTransform standard)
    {
        ResetFigures();
        int n = context.Train.Count;
        if (context.Epoch < Warmup)
            return Enumerable.Range(0, 2).Select(net => new BatchPlan(
                BatchStream.Shuffled(n, TrainingLoop.SeedOf(training.Seed, context.Epoch, 100 + net)), training.BatchSize, [standard], net, 2));
        mixing = new Random(TrainingLoop.SeedOf(training.Seed, context.Epoch, 200));
        return CoDividePlans(context, standard);
    }

    private IEnumerable<BatchPlan> CoDividePlans(EpochContext context, IImageTransform standard)
    {
        if (options.AwaitsNoiseEstimate) EstimateNoise(context);
        // Network k trains on the split of the other network (co-divide).
        Divide(1, context);
        if (options.CoDivide == CoDivideOrder.Simultaneous) Divide(0, context);
        yield return SplitPlan(0, labeled[1]!, context, standard);
        if (options.CoDivide == CoDivideOrder.Sequential) Divide(0, context);
        yield return SplitPlan(1, labeled[0]!, context, standard);
    }

    private BatchPlan SplitPlan(int trainee, bool[] isLabeled, EpochContext context, IImageTransform standard)
    {
        var labeledRows = Enumerable.Range(0, isLabeled.Length).Where(i => isLabeled[i]).ToArray();
        var unlabeled = Enumerable.Range(0, isLabeled.Length).Where(i => !isLabeled[i]).ToArray();
        new Random(TrainingLoop.SeedOf(training.Seed, context.Epoch, 300 + trainee)).Shuffle(labeledRows);
        var companion = unlabeled.Length == 0 ? null : new CompanionPlan(unlabeled, options.LabeledBatchSize, [standard, standard]);
        return new BatchPlan(labeledRows, options.LabeledBatchSize, [standard, standard], trainee, 2, companion);
    }

    /// <summary>
    /// The <paramref name="count"/> samples of lowest <paramref name="loss"/> (ties go to the lower index). Given each
    /// sample's (noisy) class, every class instead gets its share of the count, in proportion to its samples (largest
    /// remainders round), filled with its own samples of lowest loss: UNICON's uniform selection, which keeps classes
    /// the networks find hard from being crowded out of the labeled set.
    /// </summary>
    public static bool[] LowestLossMask(double[] loss, int count, int[]? classes = null)
    {
        int n = loss.Length;
        if (count < 0 || count > n) throw new ArgumentOutOfRangeException(nameof(count), $"count {count} is outside 0..{n}");
        if (classes is not null && classes.Length != n) throw new ArgumentException($"{classes.Length} classes for {n} losses", nameof(classes));
        var mask = new bool[n];
        var groups = classes is null ? [Enumerable.Range(0, n).ToArray()] : Enumerable.Range(0, n).GroupBy(i => classes[i]).OrderBy(g => g.Key).Select(g => g.ToArray()).ToArray();
        var quota = groups.Select(g => (double)count * g.Length / n).ToArray();
        var take = quota.Select(q => (int)Math.Floor(q)).ToArray();
        foreach (int g in Enumerable.Range(0, groups.Length).OrderByDescending(g => quota[g] - take[g]).ThenBy(g => g).Take(count - take.Sum())) take[g]++;
        for (int g = 0; g < groups.Length; g++)
            foreach (int i in groups[g].OrderBy(i => loss[i]).ThenBy(i => i).Take(take[g])) mask[i] = true;
        return mask;
    }

    /// <summary>τ, clipped into the range of the probabilities so that neither split is empty (C2D), when asked.</summary>
    private double EffectiveThreshold(double[] probability)
    {
        double tau = options.Threshold!.Value;
        if (!options.ClipThreshold) return tau;
        double lo = probability.Min() + 1e-5, hi = probability.Max() - 1e-5;
        return lo > hi ? tau : Math.Clamp(tau, lo, hi);
    }

    /// <summary>
    /// Labels of unknown noise: estimates it from both warmed-up networks' predictions on the training set (the passes
    /// the first division then reuses) and fills the options that waited for it.
    /// </summary>
    private void EstimateNoise(EpochContext context)
    {
        var probabilities = Enumerable.Range(0, 2)
            .Select(net => Evaluation.FromLogits(LogitsOnTrainingSet(net, context.Train, context.Cancellation), classCount).Probabilities).ToArray();
        Settle(Detection.NoiseRateEstimate.FromPredictions(context.Labels.Noisy, probabilities, classCount, context.Epoch, new GaussianMixtureOptions
        {
            MaxIterations = options.MixtureIterations, Tolerance = options.MixtureTolerance, RegCovar = options.MixtureRegCovar,
            Seed = TrainingLoop.SeedOf(training.Seed, context.Epoch, 450),
        }));
    }

    private void Settle(NoiseRateEstimate estimate)
    {
        NoiseEstimate = estimate;
        options = options.ResolveFromEstimate(estimate, fromEncoder);
    }

    /// <summary>
    /// EvalTrain: per-sample losses of network <paramref name="which"/> → mixture → clean probabilities and the
    /// labeled mask it gives the other network.
    /// </summary>
    private void Divide(int which, EpochContext context)
    {
        var logits = LogitsOnTrainingSet(which, context.Train, context.Cancellation);
        var losses = Evaluation.FromLogits(logits, classCount).Losses(context.Labels.Noisy);
        var normalised = Detection.CleanProbability.MinMaxNormalise(losses);
        history[which].Add(normalised);
        while (history[which].Count > options.LossHistory!.Value) history[which].RemoveAt(0);
        var input = new double[normalised.Length];
        foreach (var h in history[which])
            for (int i = 0; i < input.Length; i++) input[i] += h[i] / history[which].Count;
        var gmm = TwoComponentGaussianMixture.Fit(input, new GaussianMixtureOptions
        {
            MaxIterations = options.MixtureIterations, Tolerance = options.MixtureTolerance, RegCovar = options.MixtureRegCovar,
            Seed = TrainingLoop.SeedOf(training.Seed, context.Epoch, 400 + which),
        });
        var probability = gmm.LowerComponentPosterior(input);
        double tau = EffectiveThreshold(probability);
        int aboveThreshold = probability.Count(p => p > tau);
        if (options.HoldLabeledSize) heldLabeledSize[which] ??= aboveThreshold;
        clean[which] = probability;
        // A held or class-balanced split ranks by the mixture's input, the averaged normalised loss, rather than by the
        // posterior, which saturates at 0 and 1 and so cannot order the tails.
        labeled[which] = !options.HoldLabeledSize && !options.ClassBalancedSplit
            ? probability.Select(p => p > tau).ToArray()
            : LowestLossMask(input, heldLabeledSize[which] ?? aboveThreshold, options.ClassBalancedSplit ? context.Labels.Noisy : null);
        RecordDivision(which + 1, labeled[which]!, probability, gmm, context.Labels);
    }

    /// <summary>
    /// Network <paramref name="which"/>'s logits on the un-augmented training set, computed at most once per state of
    /// its weights: the loop's end-of-epoch evaluation and the next division share a pass (with sequential co-divide,
    /// network 1's division pass serves that epoch's evaluation), which saves two of four passes over the set an epoch.
    /// </summary>
    private float[] LogitsOnTrainingSet(int which, ImageDataset train, CancellationToken cancellation)
    {
        if (trainingLogits[which] is { } cached && cached.Updates == updates[which] && ReferenceEquals(cached.Data, train)) return cached.Logits;
        var net = nets[which];
        Tensor Logits(Tensor x)
        {
            net.eval();
            using var _ = no_grad();
            return net.forward(x);
        }
        var logits = Evaluation.Logits(Logits, train, cancellation: cancellation);
        trainingLogits[which] = new TrainingSetLogits(updates[which], train, logits);
        return logits;
    }

    /// <summary>A network's logits on a training set, tagged with the number of updates its weights had taken.</summary>
    private sealed record TrainingSetLogits(long Updates, ImageDataset Data, float[] Logits);

    /// <summary>The ensemble's (summed logits) predictions, from the per-network passes the divisions share.</summary>
    public DatasetPredictions PredictTrainingSet(ImageDataset train, CancellationToken cancellation)
    {
        var first = LogitsOnTrainingSet(0, train, cancellation);
        var second = LogitsOnTrainingSet(1, train, cancellation);
        var sum = new float[first.Length];
        for (int i = 0; i < sum.Length; i++) sum[i] = first[i] + second[i];
        return Evaluation.FromLogits(sum, classCount);
    }

    private void RecordDivision(int net, bool[] isLabeled, double[] probability, TwoComponentGaussianMixture gmm, NoisyLabelSet labels)
    {
        int labeledCount = isLabeled.Count(l => l);
        figures[$"labeled_{net}"] = labeledCount;
        figures[$"gmm_mean_clean_{net}"] = gmm.Means[0];
        figures[$"gmm_mean_noisy_{net}"] = gmm.Means[1];
        figures[$"gmm_weight_clean_{net}"] = gmm.Weights[0];
        if (labels.True is null) return;
        var isClean = Enumerable.Range(0, labels.Count).Select(i => !labels.IsMislabeled(i)).ToArray();
        int truePositive = Enumerable.Range(0, labels.Count).Count(i => isLabeled[i] && isClean[i]);
        figures[$"precision_{net}"] = labeledCount == 0 ? double.NaN : (double)truePositive / labeledCount;
        figures[$"recall_{net}"] = isClean.Count(c => c) == 0 ? double.NaN : (double)truePositive / isClean.Count(c => c);
        figures[$"auc_{net}"] = RocAuc.Compute(probability, isClean);
    }

    private void ResetFigures()
    {
        foreach (int net in new[] { 1, 2 })
            foreach (string k in new[] { "labeled", "precision", "recall", "auc", "gmm_mean_clean", "gmm_mean_noisy", "gmm_weight_clean" })
                figures[$"{k}_{net}"] = double.NaN;
    }

    /// <summary>
    /// Division figures of the epoch's start, per network: labeled-set size, its precision and recall against the true
    /// clean set, the ROC-AUC of the clean probability, the mixture's means and clean weight. The first epoch after
    /// warm-up holds the figures at the end of warm-up.
    /// </summary>
    public IReadOnlyDictionary<string, double> EpochFigures() => new Dictionary<string, double>(figures);

    /// <inheritdoc/>
    public double TrainStep(TrainingBatch batch, EpochContext context)
    {
        int k = batch.Phase;
        var net = nets[k];
        var optimizer = optimizers[k];
        net.train();
        optimizer.ZeroGrad();
        Tensor loss = context.Epoch < Warmup ? WarmupLoss(net, batch) : MixMatchLoss(net, nets[1 - k], clean[1 - k]!, batch, context);
        loss.backward();
        optimizer.MaxGradientNorm = context.Epoch < Warmup ? TighterClip(training.GradientClip, options.WarmupGradientClip!.Value) : training.GradientClip;
        optimizer.Step();
        updates[k]++;
        return loss.item<float>();
    }

    /// <summary>The smaller of two gradient-norm limits, where 0 means no limit.</summary>
    private static double TighterClip(double a, double b) => a <= 0 ? b : b <= 0 ? a : Math.Min(a, b);

    private Tensor WarmupLoss(Classifier net, TrainingBatch batch)
    {
        var logits = net.forward(batch.Images);
        var loss = F.cross_entropy(logits, batch.Labels);
        if (!options.ConfidencePenalty!.Value) return loss;
        // DivideMix's NegEntropy for asymmetric noise: + mean over the batch of Σ_c p_c log p_c.
        var p = F.softmax(logits, 1);
        return loss.Plus((p * F.log_softmax(logits, 1)).sum(1).mean());
    }

    private Tensor MixMatchLoss(Classifier net, Classifier peer, double[] probability, TrainingBatch batch, EpochContext context)
    {
        long b = batch.Count;
        var x1 = batch.View(0);
        var x2 = batch.View(1);
        var w = tensor(batch.Indices.Select(i => (float)probability[i]).ToArray()).unsqueeze(1);
        var oneHot = F.one_hot(batch.Labels, classCount).to(ScalarType.Float32);
        Tensor targetsX, inputs, targets;
        long uRows = 0;
        using (no_grad())
        {
            net.train();
            peer.eval();
            var px = F.softmax(net.forward(x1), 1).Plus(F.softmax(net.forward(x2), 1)).DividedBy(2);
            targetsX = Sharpen((w * oneHot).Plus(w.OneMinus() * px), options.SharpenTemperature);
            if (batch.Companion is { } u)
            {
                var u1 = u.View(0);
                var u2 = u.View(1);
                var pu = F.softmax(net.forward(u1), 1).Plus(F.softmax(net.forward(u2), 1)).Plus(F.softmax(peer.forward(u1), 1)).Plus(F.softmax(peer.forward(u2), 1)).DividedBy(4);
                var targetsU = Sharpen(pu, options.SharpenTemperature);
                inputs = cat([x1, x2, u1, u2]);
                targets = cat([targetsX, targetsX, targetsU, targetsU]);
                uRows = 2 * u.Count;
            }
            else
            {
                inputs = cat([x1, x2]);
                targets = cat([targetsX, targetsX]);
            }
        }
        double lambda = BetaSample(options.Alpha!.Value, mixing);
        var (mixedInputs, mixedTargets) = Mix(inputs, targets, lambda, randperm(inputs.shape[0]));
        net.train();
        var logits = net.forward(mixedInputs);
        var logitsX = logits.narrow(0, 0, 2 * b);
        var lossX = -(F.log_softmax(logitsX, 1) * mixedTargets.narrow(0, 0, 2 * b)).sum(1).mean();
        var loss = lossX;
        if (uRows > 0)
        {
            var probsU = F.softmax(logits.narrow(0, 2 * b, uRows), 1);
            var residual = probsU - mixedTargets.narrow(0, 2 * b, uRows);
            var lossU = (residual * residual).mean();
            double ramp = Math.Clamp((context.Epoch + (double)batch.Step / Math.Max(1, batch.PhaseSteps) - Warmup) / options.RampUpEpochs, 0, 1);
            loss = loss.Plus(lossU.Times(options.LambdaU!.Value * ramp));
        }
        // Uniform-prior penalty: KL(uniform ‖ mean prediction over all mixed rows).
        var meanPrediction = F.softmax(logits, 1).mean([0]);
        double prior = 1.0 / classCount;
        var penalty = meanPrediction.AtLeast(1e-12).log().neg().Plus(Math.Log(prior)).Times(prior).sum();
        return loss.Plus(penalty);
    }

    /// <summary>
    /// MixMatch's mixing with one coefficient for the batch: λ′ = max(λ, 1 − λ); row i becomes
    /// λ′·row_i + (1 − λ′)·row_perm(i), for inputs and targets alike. The permutation runs over all rows, so labeled
    /// rows mix with unlabeled ones.
    /// </summary>
    public static (Tensor Inputs, Tensor Targets) Mix(Tensor inputs, Tensor targets, double lambda, Tensor permutation)
    {
        double l = Math.Max(lambda, 1 - lambda);
        return (inputs.Blend(inputs.index_select(0, permutation), l), targets.Blend(targets.index_select(0, permutation), l));
    }

    /// <summary>p^(1/T), renormalised over classes.</summary>
    public static Tensor Sharpen(Tensor p, double temperature)
    {
        var powered = p.Power(1 / temperature);
        return powered / powered.sum(1, keepdim: true);
    }

    /// <summary>A Beta(α, α) draw from two Gamma(α) draws (Marsaglia and Tsang).</summary>
    public static double BetaSample(double alpha, Random rng)
    {
        double a = GammaSample(alpha, rng), b = GammaSample(alpha, rng);
        return a / (a + b);
    }

    private static double GammaSample(double shape, Random rng)
    {
        if (shape < 1) return GammaSample(shape + 1, rng) * Math.Pow(rng.NextDouble(), 1 / shape);
        double d = shape - 1.0 / 3, c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double x, v;
            do
            {
                double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
                x = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
                v = 1 + c * x;
            } while (v <= 0);
            v = v * v * v;
            double u = rng.NextDouble();
            if (u < 1 - 0.0331 * x * x * x * x || Math.Log(u) < 0.5 * x * x + d * (1 - v + Math.Log(v))) return d * v;
        }
    }

    /// <inheritdoc/>
    public Tensor PredictLogits(Tensor images)
    {
        using var _ = no_grad();
        nets[0].eval();
        nets[1].eval();
        return nets[0].forward(images).Plus(nets[1].forward(images));
    }

    /// <inheritdoc/>
    public Tensor Features(Tensor images)
    {
        nets[0].eval();
        using var _ = no_grad();
        return nets[0].Features(images);
    }

    /// <inheritdoc/>
    public IEnumerable<(string Name, Tensor Value)> ExtraState()
    {
        for (int net = 0; net < 2; net++)
        {
            for (int h = 0; h < history[net].Count; h++)
                yield return ($"loss_history.{net}.{h}", tensor(history[net][h]));
            if (heldLabeledSize[net] is { } size) yield return ($"held_labeled_size.{net}", tensor(new long[] { size }));
        }
        if (NoiseEstimate is { } e)
            yield return ("noise_estimate", tensor(new[] { e.WrongFraction, e.ConfidentJointWrongFraction, e.OffDiagonalConcentration, (double)e.Structure, e.NominalRate, e.ClassCount, e.AfterEpoch }));
    }

    /// <inheritdoc/>
    public void LoadExtraState(IReadOnlyDictionary<string, Tensor> state)
    {
        Array.Clear(trainingLogits); // the networks were just loaded: no pass belongs to their weights
        for (int net = 0; net < 2; net++)
        {
            history[net].Clear();
            for (int h = 0; state.TryGetValue($"loss_history.{net}.{h}", out var t); h++) history[net].Add(t.data<double>().ToArray());
            heldLabeledSize[net] = state.TryGetValue($"held_labeled_size.{net}", out var size) ? (int)size.data<long>()[0] : null;
        }
        // The estimate made before the checkpoint settles the waiting options as it did then.
        if (state.TryGetValue("noise_estimate", out var saved) && saved.data<double>().ToArray() is [var wrong, var joint, var concentration, var structure, var nominal, var k, var after])
        {
            var estimate = new NoiseRateEstimate(wrong, joint, concentration, (NoiseKind)(int)structure, nominal, (int)k, (int)after);
            if (options.AwaitsNoiseEstimate) Settle(estimate);
            else NoiseEstimate = estimate;
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var net in nets) net.Dispose();
    }
}
