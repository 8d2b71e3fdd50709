using TorchSharp;
using Winnow.Models;
using Winnow.Training;
using static TorchSharp.torch;

namespace Winnow.Methods;

/// <summary>
/// Plain cross-entropy on the (noisy) labels: the baseline every noise-robust method is compared with.
/// One network, one optimiser, loss = CE(f(x), ỹ).
/// </summary>
public sealed class CrossEntropyMethod : ITrainingMethod
{
    private readonly Classifier network;
    private readonly IOptimizer optimizer;

    /// <summary>Trains <paramref name="network"/> with the optimiser the options describe.</summary>
    public CrossEntropyMethod(Classifier network, TrainingOptions options)
    {
        this.network = network;
        network.Precision = options.Precision;
        optimizer = OptimizerFactory.Create(network.parameters(), options);
    }

    /// <inheritdoc/>
    public string Name => "ce";

    /// <summary>The network being trained.</summary>
    public Classifier Network => network;

    /// <inheritdoc/>
    public IReadOnlyList<(string Name, nn.Module Network)> Networks => [("net", network)];

    /// <inheritdoc/>
    public IReadOnlyList<(string Name, IOptimizer Optimizer)> Optimizers => [("net", optimizer)];

    /// <inheritdoc/>
    public double TrainStep(TrainingBatch batch, EpochContext context)
    {
        network.train();
        optimizer.ZeroGrad();
        var loss = nn.functional.cross_entropy(network.forward(batch.Images), batch.Labels);
        loss.backward();
        optimizer.Step();
        return loss.item<float>();
    }

    /// <inheritdoc/>
    public Tensor PredictLogits(Tensor images)
    {
        network.eval();
        using var _ = no_grad();
        return network.forward(images);
    }

    /// <inheritdoc/>
    public Tensor Features(Tensor images)
    {
        network.eval();
        using var _ = no_grad();
        return network.Features(images);
    }

    /// <inheritdoc/>
    public void Dispose() => network.Dispose();
}
