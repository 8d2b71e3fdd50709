using Winnow.Data;
using Winnow.Detection;
using Winnow.Models;
using Winnow.Training;
using static TorchSharp.torch;

namespace Winnow.Methods;

/// <summary>How two networks divide the data between them.</summary>
public enum CoDivideOrder
{
    /// <summary>Both splits are computed before either network trains (DivideMix).</summary>
    Simultaneous,
    /// <summary>Network 2's split trains network 1, then the updated network 1 splits for network 2 (C2D).</summary>
    Sequential,
}

/// <summary>What a <see cref="CoDivision"/> needs to divide: the threshold, the loss history, the mixture and the split rules.</summary>
/// <param name="Threshold">Clean-probability threshold τ.</param>
/// <param name="LossHistory">Epochs of normalised losses averaged before the mixture is fitted.</param>
/// <param name="ClipThreshold">Clip τ into (min p + 1e-5, max p − 1e-5) so neither split is empty (C2D).</param>
/// <param name="HoldLabeledSize">Keep each labeled set at the size of its network's first division (lowest losses).</param>
/// <param name="ClassBalancedSplit">Share the labeled set among the noisy classes (UNICON's uniform selection).</param>
/// <param name="Order">Simultaneous or sequential co-divide.</param>
/// <param name="LabeledBatchSize">Labeled images per step, with as many unlabeled ones.</param>
/// <param name="Mixture">The mixture's EM iterations, tolerance and reg_covar (its seed is set per division).</param>
public sealed record CoDivisionSettings(double Threshold, int LossHistory, bool ClipThreshold, bool HoldLabeledSize, bool ClassBalancedSplit,
    CoDivideOrder Order, int LabeledBatchSize, GaussianMixtureOptions Mixture);

/// <summary>
/// DivideMix's co-divide for any two-network method: each epoch, each network's per-sample losses on the un-augmented
/// training set are min-max normalised, averaged over the last epochs, and fitted by a two-component Gaussian mixture
/// whose lower-mean posterior is every sample's clean probability; samples above τ are labeled, the rest unlabeled,
/// and each network trains on the other's split. Keeps the loss histories, the held sizes, and each network's logits
/// on the training set per state of its weights (the loop's end-of-epoch evaluation and the next division share a
/// pass), and records the division figures of the epoch.
/// </summary>
public sealed class CoDivision
{
    private readonly Classifier[] nets;
    private readonly int seed;
    private readonly List<double[]>[] history = [[], []];
    private readonly double[]?[] clean = new double[]?[2];
    private readonly bool[]?[] labeled = new bool[]?[2];
    private readonly int?[] heldLabeledSize = new int?[2];
    private readonly long[] updates = new long[2];
    private readonly TrainingSetLogits?[] trainingLogits = new TrainingSetLogits?[2];
    private readonly Dictionary<string, double> figures = new();

    /// <summary>Divides for <paramref name="nets"/> (two networks); <paramref name="seed"/> is the run's seed.</summary>
    public CoDivision(IReadOnlyList<Classifier> nets, int seed)
    {
        if (nets.Count != 2) throw new ArgumentException($"co-divide needs two networks, got {nets.Count}", nameof(nets));
        this.nets = [nets[0], nets[1]];
        this.seed = seed;
        ResetFigures();
    }

    /// <summary>The settings; set them before the first division (they may be settled only after warm-up).</summary>
    public CoDivisionSettings? Settings { get; set; }

    /// <summary>The clean probability each network gave every training sample at its last division (null before the first).</summary>
    public double[]? CleanProbability(int network) => clean[network];

    /// <summary>Which training samples network <paramref name="network"/>'s last division labeled; the other network trains on it.</summary>
    public bool[]? LabeledSet(int network) => labeled[network];

    /// <summary>Tells the division that network <paramref name="network"/>'s weights changed (its cached logits are stale).</summary>
    public void NetworkUpdated(int network) => updates[network]++;

    /// <summary>Forgets every cached pass (after the networks were loaded from a checkpoint).</summary>
    public void ForgetCachedPasses() => Array.Clear(trainingLogits);

    /// <summary>Clears the epoch's figures (NaN until a division fills them).</summary>
    public void ResetFigures()
    {
        foreach (int net in new[] { 1, 2 })
            foreach (string k in new[] { "labeled", "precision", "recall", "auc", "gmm_mean_clean", "gmm_mean_noisy", "gmm_weight_clean" })
                figures[$"{k}_{net}"] = double.NaN;
    }

    /// <summary>
    /// Division figures of the epoch's start, per network: labeled-set size, its precision and recall against the true
    /// clean set, the ROC-AUC of the clean probability, the mixture's means and clean weight.
    /// </summary>
    public IReadOnlyDictionary<string, double> Figures() => new Dictionary<string, double>(figures);

    /// <summary>
    /// The epoch's two plans, in the order the networks train: network k on the split of the other network
    /// (sequential: network 2's split trains network 1, then the updated network 1 divides for network 2). Each plan
    /// gives labeled batches of two standard views with an unlabeled companion batch of two views.
    /// </summary>
    /// <param name="context">The epoch.</param>
    /// <param name="views">The views of each labeled and each unlabeled sample.</param>
    public IEnumerable<BatchPlan> Plans(EpochContext context, IReadOnlyList<IImageTransform> views)
    {
        var settings = Settings ?? throw new InvalidOperationException("set the co-division's settings before dividing");
        Divide(1, context);
        if (settings.Order == CoDivideOrder.Simultaneous) Divide(0, context);
        yield return SplitPlan(0, labeled[1]!, context, views);
        if (settings.Order == CoDivideOrder.Sequential) Divide(0, context);
        yield return SplitPlan(1, labeled[0]!, context, views);
    }

    private BatchPlan SplitPlan(int trainee, bool[] isLabeled, EpochContext context, IReadOnlyList<IImageTransform> views)
    {
        int batch = Settings!.LabeledBatchSize;
        var labeledRows = Enumerable.Range(0, isLabeled.Length).Where(i => isLabeled[i]).ToArray();
        var unlabeled = Enumerable.Range(0, isLabeled.Length).Where(i => !isLabeled[i]).ToArray();
        new Random(TrainingLoop.SeedOf(seed, context.Epoch, 300 + trainee)).Shuffle(labeledRows);
        var companion = unlabeled.Length == 0 ? null : new CompanionPlan(unlabeled, batch, views);
        return new BatchPlan(labeledRows, batch, views, trainee, 2, companion);
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
        double tau = Settings!.Threshold;
        if (!Settings.ClipThreshold) return tau;
        double lo = probability.Min() + 1e-5, hi = probability.Max() - 1e-5;
        return lo > hi ? tau : Math.Clamp(tau, lo, hi);
    }

    /// <summary>
    /// EvalTrain: per-sample losses of network <paramref name="which"/> → mixture → clean probabilities and the
    /// labeled mask it gives the other network.
    /// </summary>
    private void Divide(int which, EpochContext context)
    {
        var settings = Settings!;
        var losses = Predictions(which, context.Train, context.Cancellation).Losses(context.Labels.Noisy);
        var normalised = Detection.CleanProbability.MinMaxNormalise(losses);
        history[which].Add(normalised);
        while (history[which].Count > settings.LossHistory) history[which].RemoveAt(0);
        var input = new double[normalised.Length];
        foreach (var h in history[which])
            for (int i = 0; i < input.Length; i++) input[i] += h[i] / history[which].Count;
        var gmm = TwoComponentGaussianMixture.Fit(input, settings.Mixture with { Seed = TrainingLoop.SeedOf(seed, context.Epoch, 400 + which) });
        var probability = gmm.LowerComponentPosterior(input);
        double tau = EffectiveThreshold(probability);
        int aboveThreshold = probability.Count(p => p > tau);
        if (settings.HoldLabeledSize) heldLabeledSize[which] ??= aboveThreshold;
        clean[which] = probability;
        // A held or class-balanced split ranks by the mixture's input, the averaged normalised loss, rather than by the
        // posterior, which saturates at 0 and 1 and so cannot order the tails.
        labeled[which] = !settings.HoldLabeledSize && !settings.ClassBalancedSplit
            ? probability.Select(p => p > tau).ToArray()
            : LowestLossMask(input, heldLabeledSize[which] ?? aboveThreshold, settings.ClassBalancedSplit ? context.Labels.Noisy : null);
        RecordDivision(which + 1, labeled[which]!, probability, gmm, context.Labels);
    }

    private void RecordDivision(int net, bool[] isLabeled, double[] probability, TwoComponentGaussianMixture gmm, NoisyLabelSet labels)
    {
        figures[$"labeled_{net}"] = isLabeled.Count(l => l);
        figures[$"gmm_mean_clean_{net}"] = gmm.Means[0];
        figures[$"gmm_mean_noisy_{net}"] = gmm.Means[1];
        figures[$"gmm_weight_clean_{net}"] = gmm.Weights[0];
        if (labels.True is null) return;
        var clean = CleanSetMeasures.Of(isLabeled, probability, labels);
        figures[$"precision_{net}"] = clean.Precision;
        figures[$"recall_{net}"] = clean.Recall;
        figures[$"auc_{net}"] = clean.RocAuc;
    }

    /// <summary>
    /// Network <paramref name="which"/>'s predictions on the un-augmented training set, computed at most once per state
    /// of its weights: the loop's end-of-epoch evaluation and the next division share a pass (with sequential
    /// co-divide, network 1's division pass serves that epoch's evaluation), which saves two of four passes an epoch.
    /// </summary>
    public DatasetPredictions Predictions(int which, ImageDataset train, CancellationToken cancellation) =>
        Evaluation.FromLogits(Logits(which, train, cancellation), nets[which].ClassCount);

    private float[] Logits(int which, ImageDataset train, CancellationToken cancellation)
    {
        if (trainingLogits[which] is { } cached && cached.Updates == updates[which] && ReferenceEquals(cached.Data, train)) return cached.Logits;
        var net = nets[which];
        Tensor Forward(Tensor x)
        {
            net.eval();
            using var _ = no_grad();
            return net.forward(x);
        }
        var logits = Evaluation.Logits(Forward, train, cancellation: cancellation);
        trainingLogits[which] = new TrainingSetLogits(updates[which], train, logits);
        return logits;
    }

    /// <summary>The ensemble's (summed logits) predictions on the training set, from the per-network passes the divisions share.</summary>
    public DatasetPredictions EnsemblePredictions(ImageDataset train, CancellationToken cancellation)
    {
        var first = Logits(0, train, cancellation);
        var second = Logits(1, train, cancellation);
        var sum = new float[first.Length];
        for (int i = 0; i < sum.Length; i++) sum[i] = first[i] + second[i];
        return Evaluation.FromLogits(sum, nets[0].ClassCount);
    }

    /// <summary>
    /// Estimates the noise of labels whose rate nobody gave from both networks' predictions on the training set (the
    /// passes the next division then reuses): <see cref="NoiseRateEstimate.FromPredictions"/>.
    /// </summary>
    public NoiseRateEstimate EstimateNoise(EpochContext context, GaussianMixtureOptions mixture) =>
        NoiseRateEstimate.FromPredictions(context.Labels.Noisy,
            Enumerable.Range(0, 2).Select(net => Predictions(net, context.Train, context.Cancellation).Probabilities).ToArray(),
            nets[0].ClassCount, context.Epoch, mixture with { Seed = TrainingLoop.SeedOf(seed, context.Epoch, 450) });

    /// <summary>The loss histories and held sizes, to keep across a resume.</summary>
    public IEnumerable<(string Name, Tensor Value)> State()
    {
        for (int net = 0; net < 2; net++)
        {
            for (int h = 0; h < history[net].Count; h++)
                yield return ($"loss_history.{net}.{h}", tensor(history[net][h]));
            if (heldLabeledSize[net] is { } size) yield return ($"held_labeled_size.{net}", tensor(new long[] { size }));
        }
    }

    /// <summary>Restores what <see cref="State"/> saved; forgets the cached passes.</summary>
    public void LoadState(IReadOnlyDictionary<string, Tensor> state)
    {
        ForgetCachedPasses();
        for (int net = 0; net < 2; net++)
        {
            history[net].Clear();
            for (int h = 0; state.TryGetValue($"loss_history.{net}.{h}", out var t); h++) history[net].Add(t.data<double>().ToArray());
            heldLabeledSize[net] = state.TryGetValue($"held_labeled_size.{net}", out var size) ? (int)size.data<long>()[0] : null;
        }
    }

    /// <summary>A network's logits on a training set, tagged with the number of updates its weights had taken.</summary>
    private sealed record TrainingSetLogits(long Updates, ImageDataset Data, float[] Logits);
}
