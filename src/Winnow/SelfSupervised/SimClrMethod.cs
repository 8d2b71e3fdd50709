using TorchSharp;
using Winnow.Data;
using Winnow.Models;
using Winnow.Training;
using static TorchSharp.torch;

namespace Winnow.SelfSupervised;

/// <summary>Options of SimCLR pre-training (the method's own; optimisation and schedule are in <see cref="TrainingOptions"/>).</summary>
public sealed record SimClrOptions
{
    /// <summary>NT-Xent temperature τ (0.5 in C2D's SupContrast recipe and in Cheng et al.).</summary>
    public double Temperature { get; init; } = 0.5;

    /// <summary>Length of the projection (128).</summary>
    public int ProjectionDimension { get; init; } = 128;

    /// <summary>How each of the two views is made.</summary>
    public SimClrAugmentation Augmentation { get; init; } = new();
}

/// <summary>
/// SimCLR: two random views of every image go through the encoder and the projection head in one batch of 2N, and
/// NT-Xent pulls each pair together. It never reads a label; after each epoch the training loop measures the
/// encoder with a weighted kNN monitor.
/// </summary>
public sealed class SimClrMethod : ITrainingMethod
{
    private readonly Encoder encoder;
    private readonly ProjectionHead head;
    private readonly IOptimizer optimizer;
    private readonly SimClrOptions options;
    private readonly Precision precision;

    /// <summary>Pre-trains <paramref name="encoder"/> with a new projection head.</summary>
    public SimClrMethod(Encoder encoder, SimClrOptions options, TrainingOptions training)
    {
        this.encoder = encoder;
        this.options = options;
        precision = training.Precision != Precision.Auto ? training.Precision
            : throw new WinnowException("precision auto must be settled (PrecisionSelector.Resolve) before a network is built");
        head = new ProjectionHead(encoder.FeatureDimension, options.ProjectionDimension);
        optimizer = OptimizerFactory.Create(encoder.parameters().Concat(head.parameters()), training, [encoder, head]);
    }

    /// <inheritdoc/>
    public string Name => "simclr";

    /// <summary>The encoder being pre-trained.</summary>
    public Encoder Encoder => encoder;

    /// <inheritdoc/>
    public IReadOnlyList<(string Name, nn.Module Network)> Networks => [("encoder", encoder), ("projection", head)];

    /// <inheritdoc/>
    public IReadOnlyList<(string Name, IOptimizer Optimizer)> Optimizers => [("simclr", optimizer)];

    /// <inheritdoc/>
    public IReadOnlyList<IImageTransform> TrainViews(IImageTransform standard) => [options.Augmentation, options.Augmentation];

    /// <inheritdoc/>
    public EvaluationKind Evaluation => EvaluationKind.FeatureKnn;

    /// <inheritdoc/>
    public double TrainStep(TrainingBatch batch, EpochContext context)
    {
        encoder.train();
        head.train();
        optimizer.ZeroGrad();
        var projections = head.forward(encoder.forward(Classifier.PrepareInput(batch.AllViews, precision)));
        var loss = NtXentLoss.Compute(projections, options.Temperature);
        loss.backward();
        optimizer.Step();
        return loss.item<float>();
    }

    /// <inheritdoc/>
    public Tensor Features(Tensor images)
    {
        encoder.eval();
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        return encoder.forward(Classifier.PrepareInput(images, precision)).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public Tensor PredictLogits(Tensor images) => throw new NotSupportedException("SimCLR pre-training has no classifier; use the encoder with a training method");

    /// <inheritdoc/>
    public void Dispose()
    {
        encoder.Dispose();
        head.Dispose();
    }
}
