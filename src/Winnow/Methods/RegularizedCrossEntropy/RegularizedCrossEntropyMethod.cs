using TorchSharp;
using Winnow.Data;
using Winnow.Models;
using Winnow.SelfSupervised;
using Winnow.Training;
using static TorchSharp.torch;

namespace Winnow.Methods;

/// <summary>
/// Cheng et al.'s regularised cross-entropy (CE_Reg): every image comes as a weak view and two strong (SimCLR) views;
/// one encoder feeds the linear classifier and an SSL projection head. Loss = CE(classifier(weak), ỹ) +
/// InfoNCE(projection(strong₁), projection(strong₂)) + λ · regularizer(softmax(classifier(weak)), projection(weak)).
/// The three views go through the encoder as one batch (the official code runs three forward passes; one batch of
/// 3B is faster on a CPU and shares the batch-norm statistics across views).
/// </summary>
public sealed class RegularizedCrossEntropyMethod : ClassifierTrainingMethod
{
    private readonly ProjectionHead projection;
    private readonly RepresentationRegularizerOptions options;
    private readonly IOptimizer optimizer;
    private double regularizerSum, contrastiveSum;
    private int steps;

    /// <summary>Trains <paramref name="network"/> and <paramref name="projection"/> together.</summary>
    public RegularizedCrossEntropyMethod(Classifier network, ProjectionHead projection, RepresentationRegularizerOptions options, TrainingOptions training)
        : base(network, training)
    {
        this.projection = projection;
        this.options = options;
        optimizer = OptimizerFactory.Create(network, training, projection.parameters());
        labelSmoothing = training.LabelSmoothing;
    }

    private readonly double labelSmoothing;

    /// <inheritdoc/>
    public override string Name => "ce-reg";

    /// <inheritdoc/>
    public override IReadOnlyList<(string Name, nn.Module Network)> Networks => [("net", Network), ("projection", projection)];

    /// <inheritdoc/>
    public override IReadOnlyList<(string Name, IOptimizer Optimizer)> Optimizers => [("net", optimizer)];

    /// <inheritdoc/>
    public override IReadOnlyList<IImageTransform> TrainViews(IImageTransform standard) => [standard, options.StrongAugmentation, options.StrongAugmentation];

    /// <inheritdoc/>
    public override double TrainStep(TrainingBatch batch, EpochContext context)
    {
        Network.train();
        projection.train();
        optimizer.ZeroGrad();
        long n = batch.Count;
        var features = Network.Features(batch.AllViews);
        var logits = Network.Head.forward(features.narrow(0, 0, n));
        var z = projection.forward(features);
        var ce = nn.functional.cross_entropy(logits, batch.Labels, label_smoothing: labelSmoothing);
        var contrastive = NtXentLoss.Compute(z.narrow(0, n, 2 * n), options.Temperature);
        var regularizer = RepresentationRegularizer.Compute(nn.functional.softmax(logits, 1), z.narrow(0, 0, n));
        var loss = ce.Plus(contrastive).Plus(regularizer.Times(options.Lambda));
        loss.backward();
        optimizer.Step();
        contrastiveSum += contrastive.item<float>();
        regularizerSum += regularizer.item<float>();
        steps++;
        return loss.item<float>();
    }

    /// <inheritdoc/>
    public override void BeginEpoch(EpochContext context) => (regularizerSum, contrastiveSum, steps) = (0, 0, 0);

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, double> EpochFigures() => new Dictionary<string, double>
    {
        ["infonce"] = steps == 0 ? double.NaN : contrastiveSum / steps,
        ["regularizer"] = steps == 0 ? double.NaN : regularizerSum / steps,
    };

    /// <inheritdoc/>
    public override void Dispose()
    {
        projection.Dispose();
        base.Dispose();
    }
}
