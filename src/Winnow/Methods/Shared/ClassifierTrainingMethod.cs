using TorchSharp;
using Winnow.Data;
using Winnow.Models;
using Winnow.Training;
using static TorchSharp.torch;

namespace Winnow.Methods;

/// <summary>
/// What methods that train one <see cref="Classifier"/> share: prediction and features come from that network in
/// eval mode without gradients. Subclasses bring their step, their loss and any extra networks.
/// </summary>
public abstract class ClassifierTrainingMethod : ITrainingMethod
{
    /// <summary>Takes ownership of <paramref name="network"/> and sets its compute precision.</summary>
    protected ClassifierTrainingMethod(Classifier network, TrainingOptions options)
    {
        Network = network;
        network.Precision = options.Precision;
    }

    /// <summary>The network being trained.</summary>
    public Classifier Network { get; }

    /// <inheritdoc/>
    public abstract string Name { get; }

    /// <inheritdoc/>
    public abstract IReadOnlyList<(string Name, nn.Module Network)> Networks { get; }

    /// <inheritdoc/>
    public abstract IReadOnlyList<(string Name, IOptimizer Optimizer)> Optimizers { get; }

    /// <inheritdoc/>
    public abstract double TrainStep(TrainingBatch batch, EpochContext context);

    /// <inheritdoc/>
    public virtual void BeginEpoch(EpochContext context) { }

    /// <inheritdoc/>
    public virtual IReadOnlyList<IImageTransform> TrainViews(IImageTransform standard) => [standard];

    /// <inheritdoc/>
    public virtual IEnumerable<BatchPlan>? PlanEpoch(EpochContext context, IImageTransform standard) => null;

    /// <inheritdoc/>
    public virtual IReadOnlyDictionary<string, double> EpochFigures() => new Dictionary<string, double>();

    /// <inheritdoc/>
    public virtual IEnumerable<(string Name, Tensor Value)> ExtraState() => [];

    /// <inheritdoc/>
    public virtual void LoadExtraState(IReadOnlyDictionary<string, Tensor> state) { }

    /// <inheritdoc/>
    public Tensor PredictLogits(Tensor images)
    {
        Network.eval();
        using var _ = no_grad();
        return Network.forward(images);
    }

    /// <inheritdoc/>
    public Tensor Features(Tensor images)
    {
        Network.eval();
        using var _ = no_grad();
        return Network.Features(images);
    }

    /// <summary>Disposes the networks.</summary>
    public virtual void Dispose()
    {
        Network.Dispose();
        GC.SuppressFinalize(this);
    }
}
