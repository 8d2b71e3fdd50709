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
/// epoch, the co-division (<see cref="CoDivision"/>) gives every sample a clean probability w per network and each
/// network trains on the other's split. A step co-refines the labels of the labeled batch and co-guesses the
/// unlabeled batch's (<see cref="MixMatch"/>), mixes all rows with one λ′ = max(λ, 1 − λ), λ ~ Beta(α, α), and
/// minimises L_x + λ_u(t)·L_u + KL(uniform ‖ mean prediction). Test predictions are the sum of the two networks' logits.
/// </summary>
public sealed class DivideMixMethod : ITrainingMethod
{
    private readonly Classifier[] nets;
    private readonly IOptimizer[] optimizers;
    private readonly TrainingOptions training;
    private readonly bool fromEncoder;
    private readonly CoDivision division;
    private readonly IMixMatchExtension? extension;
    private DivideMixOptions options;
    private Random mixing = new(0);
    private Random extending = new(0);

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
    /// <param name="extension">A method built on DivideMix that adds to its MixMatch step (<see cref="IMixMatchExtension"/>); null for DivideMix itself.</param>
    public DivideMixMethod(Classifier net1, Classifier net2, DivideMixOptions options, TrainingOptions training, bool fromEncoder = false,
        IMixMatchExtension? extension = null)
    {
        if (options.WarmupEpochs is null || options.ConfidencePenalty is null || options.WarmupGradientClip is null)
            throw new ArgumentException("resolve the DivideMix options first (DivideMixOptions.Resolve)", nameof(options));
        this.fromEncoder = fromEncoder;
        nets = [net1, net2];
        foreach (var net in nets) net.Precision = training.Precision;
        this.extension = extension;
        if (extension is not null) extension.Precision = training.Precision;
        optimizers = nets.Select((n, k) => OptimizerFactory.Create(n, training, extension?.TrainedWith(k))).ToArray();
        this.options = options;
        this.training = training;
        division = new CoDivision(nets, training.Seed);
        if (!options.AwaitsNoiseEstimate) division.Settings = options.DivisionSettings();
    }

    /// <inheritdoc/>
    public string Name => extension?.MethodName ?? "dividemix";

    /// <summary>The resolved options (the rate-dependent ones null until the noise is estimated, when it must be).</summary>
    public DivideMixOptions Options => options;

    /// <summary>The noise estimated after warm-up, when the options waited for it; null otherwise.</summary>
    public NoiseRateEstimate? NoiseEstimate { get; private set; }

    /// <inheritdoc/>
    public MethodSettlement? Settlement => NoiseEstimate is { } estimate
        ? new MethodSettlement(estimate, extension?.OptionsWithHost(options) ?? options, FormattableString.Invariant(
            $"{Name} λ_u {options.LambdaU}, τ {options.Threshold}, loss history {options.LossHistory}, α {options.Alpha}, confidence penalty {(options.ConfidencePenalty == true ? "on" : "off")}"))
        : null;

    /// <inheritdoc/>
    public IReadOnlyList<(string Name, nn.Module Network)> Networks => [("net1", nets[0]), ("net2", nets[1]), .. extension?.Modules ?? []];

    /// <inheritdoc/>
    public IReadOnlyList<(string Name, IOptimizer Optimizer)> Optimizers => [("net1", optimizers[0]), ("net2", optimizers[1])];

    private int Warmup => options.WarmupEpochs!.Value;

    /// <summary>The clean probability each network gave every training sample at the start of this epoch (null during warm-up).</summary>
    public double[]? CleanProbability(int network) => division.CleanProbability(network);

    /// <summary>Which training samples network <paramref name="network"/>'s division labeled this epoch (null during warm-up); the other network trains on it.</summary>
    public bool[]? LabeledSet(int network) => division.LabeledSet(network);

    /// <inheritdoc/>
    public IEnumerable<BatchPlan>? PlanEpoch(EpochContext context, IImageTransform standard)
    {
        division.ResetFigures();
        int n = context.Train.Count;
        if (context.Epoch < Warmup)
            return Enumerable.Range(0, 2).Select(net => new BatchPlan(
                BatchStream.Shuffled(n, TrainingLoop.SeedOf(training.Seed, context.Epoch, 100 + net)), training.BatchSize, [standard], net, 2));
        mixing = new Random(TrainingLoop.SeedOf(training.Seed, context.Epoch, 200));
        extending = new Random(TrainingLoop.SeedOf(training.Seed, context.Epoch, 600));
        return DividedPlans(context, standard);
    }

    private IEnumerable<BatchPlan> DividedPlans(EpochContext context, IImageTransform standard)
    {
        if (options.AwaitsNoiseEstimate) Settle(division.EstimateNoise(context, options.Mixture()));
        foreach (var plan in division.Plans(context, [standard, standard])) yield return plan;
    }

    private void Settle(NoiseRateEstimate estimate)
    {
        NoiseEstimate = estimate;
        options = options.ResolveFromEstimate(estimate, fromEncoder);
        division.Settings = options.DivisionSettings();
    }

    /// <summary>The ensemble's (summed logits) predictions, from the per-network passes the divisions share.</summary>
    public DatasetPredictions PredictTrainingSet(ImageDataset train, CancellationToken cancellation) => division.EnsemblePredictions(train, cancellation);

    /// <summary>"warmup" after the last warm-up epoch: the networks the first division starts from.</summary>
    public string? CheckpointToKeep(int completedEpochs) => completedEpochs == Warmup && Warmup > 0 ? RunFolder.WarmupCheckpointName : null;

    /// <summary>True: each epoch's division passes the whole set with both networks.</summary>
    public bool PassesTrainingSetEachEpoch => true;

    /// <summary>
    /// Division figures of the epoch's start, per network (<see cref="CoDivision.Figures"/>). The first epoch after
    /// warm-up holds the figures at the end of warm-up.
    /// </summary>
    public IReadOnlyDictionary<string, double> EpochFigures() => division.Figures();

    /// <inheritdoc/>
    public double TrainStep(TrainingBatch batch, EpochContext context)
    {
        int k = batch.Phase;
        var net = nets[k];
        var optimizer = optimizers[k];
        net.train();
        optimizer.ZeroGrad();
        Tensor loss = context.Epoch < Warmup
            ? MixMatch.WarmupLoss(net.forward(batch.Images), batch.Labels, options.ConfidencePenalty!.Value)
            : MixMatchLoss(net, nets[1 - k], division.CleanProbability(1 - k)!, batch, context);
        loss.backward();
        optimizer.MaxGradientNorm = context.Epoch < Warmup ? TighterClip(training.GradientClip, options.WarmupGradientClip!.Value) : training.GradientClip;
        optimizer.Step();
        division.NetworkUpdated(k);
        return loss.item<float>();
    }

    /// <summary>The smaller of two gradient-norm limits, where 0 means no limit.</summary>
    private static double TighterClip(double a, double b) => a <= 0 ? b : b <= 0 ? a : Math.Min(a, b);

    private Tensor MixMatchLoss(Classifier net, Classifier peer, double[] probability, TrainingBatch batch, EpochContext context)
    {
        long b = batch.Count;
        var x1 = batch.View(0);
        var x2 = batch.View(1);
        var w = tensor(batch.Indices.Select(i => (float)probability[i]).ToArray()).unsqueeze(1);
        var oneHot = F.one_hot(batch.Labels, net.ClassCount).to(ScalarType.Float32);
        Tensor inputs, targets;
        if (extension is not null) return ExtendedMixMatchLoss(net, peer, probability, batch, context, x1, x2, w, oneHot);
        using (no_grad())
        {
            net.train();
            peer.eval();
            var targetsX = MixMatch.CoRefine(net, x1, x2, w, oneHot, options.SharpenTemperature);
            if (batch.Companion is { } u)
            {
                var targetsU = MixMatch.CoGuess(net, peer, u.View(0), u.View(1), options.SharpenTemperature);
                inputs = cat([x1, x2, u.View(0), u.View(1)]);
                targets = cat([targetsX, targetsX, targetsU, targetsU]);
            }
            else
            {
                inputs = cat([x1, x2]);
                targets = cat([targetsX, targetsX]);
            }
        }
        return MixedLoss(net, inputs, targets, 2 * b, batch, context, null);
    }

    /// <summary>
    /// Mixes the rows (the first <paramref name="labeledRows"/> labeled), forwards them and returns DivideMix's loss plus
    /// <paramref name="extra"/>; with <paramref name="originals"/> (the rows' originals and the indices of the
    /// extension's rows), the forward also gives the feature maps and the extension's mixed-pass loss joins the total.
    /// </summary>
    private Tensor MixedLoss(Classifier net, Tensor inputs, Tensor targets, long labeledRows, TrainingBatch batch, EpochContext context, Tensor? extra,
        (Tensor Rows, Tensor Added)? originals = null)
    {
        double lambda = BetaDistribution.Sample(options.Alpha!.Value, mixing);
        var permutation = randperm(inputs.shape[0]);
        var (mixedInputs, mixedTargets) = MixMatch.Mix(inputs, targets, lambda, permutation);
        net.train();
        double ramp = MixMatch.RampUp(context.Epoch, batch.Step, batch.PhaseSteps, Warmup, options.RampUpEpochs);
        Tensor logits;
        Tensor? passLoss = null;
        if (originals is { } o)
        {
            var (mixedLogits, maps) = net.ForwardWithFeatureMap(mixedInputs);
            logits = mixedLogits;
            Tensor mixedOriginals;
            using (no_grad()) mixedOriginals = MixMatch.MixRows(o.Rows, lambda, permutation);
            passLoss = extension!.MixedPassLoss(batch.Phase, new MixedPass(maps, mixedOriginals, o.Added));
        }
        else logits = net.forward(mixedInputs);
        var loss = MixMatch.Loss(logits, mixedTargets, labeledRows, options.LambdaU!.Value * ramp);
        if (extra is not null) loss = loss.Plus(extra);
        return passLoss is null ? loss : loss.Plus(passLoss);
    }

    /// <summary>
    /// The step with an extension: the guessing passes also return the first views' feature maps; the extension's
    /// rows join the labeled and unlabeled blocks, and its loss joins the total.
    /// </summary>
    private Tensor ExtendedMixMatchLoss(Classifier net, Classifier peer, double[] probability, TrainingBatch batch, EpochContext context,
        Tensor x1, Tensor x2, Tensor w, Tensor oneHot)
    {
        MixMatchViews views;
        using (no_grad())
        {
            net.train();
            peer.eval();
            var (logitsX1, mapsX) = net.ForwardWithFeatureMap(x1);
            var targetsX = MixMatch.Sharpen(MixMatch.Refine(logitsX1, net.forward(x2), w, oneHot), options.SharpenTemperature);
            Tensor? u1 = null, mapsU = null, qualityU = null, targetsU = null;
            if (batch.Companion is { } u)
            {
                u1 = u.View(0);
                var (logitsU1, maps) = net.ForwardWithFeatureMap(u1);
                mapsU = maps;
                targetsU = MixMatch.Sharpen(MixMatch.Guess(logitsU1, net.forward(u.View(1)), peer.forward(u1), peer.forward(u.View(1))), options.SharpenTemperature);
                qualityU = tensor(u.Indices.Select(i => (float)probability[i]).ToArray());
            }
            views = new MixMatchViews(x1, mapsX, w.squeeze(1), targetsX, u1, mapsU, qualityU, targetsU);
        }
        var added = extension!.Extend(batch.Phase, net, views, extending);
        Tensor inputs, targets;
        (Tensor, Tensor)? originals = null;
        long labeledRows;
        using (no_grad())
        {
            var rows = new List<Tensor> { x1, x2, added.LabeledInputs };
            var rowTargets = new List<Tensor> { views.LabeledTargets, views.LabeledTargets, added.LabeledTargets };
            var rowOriginals = new List<Tensor> { x1, x2, added.LabeledOriginals ?? added.LabeledInputs };
            var addedRows = new List<long>();
            void Added(long start, long count) { for (long r = 0; r < count; r++) addedRows.Add(start + r); }
            Added(x1.shape[0] + x2.shape[0], added.LabeledInputs.shape[0]);
            labeledRows = rows.Sum(t => t.shape[0]);
            if (batch.Companion is { } u)
            {
                rows.AddRange([u.View(0), u.View(1)]);
                rowOriginals.AddRange([u.View(0), u.View(1)]);
                rowTargets.AddRange([views.UnlabeledTargets!, views.UnlabeledTargets!]);
                if (added.UnlabeledInputs is { } addedU)
                {
                    Added(rows.Sum(t => t.shape[0]), addedU.shape[0]);
                    rows.Add(addedU);
                    rowOriginals.Add(added.UnlabeledOriginals ?? addedU);
                    rowTargets.Add(added.UnlabeledTargets!);
                }
            }
            inputs = cat(rows);
            targets = cat(rowTargets);
            if (added.WantsMixedPass) originals = (cat(rowOriginals), tensor(addedRows.ToArray()));
        }
        return MixedLoss(net, inputs, targets, labeledRows, batch, context, added.Loss, originals);
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
        foreach (var s in division.State()) yield return s;
        if (NoiseEstimate is { } e) yield return ("noise_estimate", e.ToTensor());
    }

    /// <inheritdoc/>
    public void LoadExtraState(IReadOnlyDictionary<string, Tensor> state)
    {
        division.LoadState(state);
        // The estimate made before the checkpoint settles the waiting options as it did then.
        if (state.TryGetValue("noise_estimate", out var saved))
        {
            var estimate = NoiseRateEstimate.FromTensor(saved);
            if (options.AwaitsNoiseEstimate) Settle(estimate);
            else NoiseEstimate = estimate;
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var net in nets) net.Dispose();
        extension?.Dispose();
    }
}
