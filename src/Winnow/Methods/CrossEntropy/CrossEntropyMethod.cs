using TorchSharp;
using Winnow.Models;
using Winnow.Training;
using static TorchSharp.torch;

namespace Winnow.Methods;

/// <summary>
/// Plain cross-entropy on the (noisy) labels: the baseline every noise-robust method is compared with.
/// One network, one optimiser, loss = CE(f(x), ỹ). With a frozen encoder (<see cref="Classifier.FrozenEncoder"/>)
/// only the linear head trains: Cheng et al.'s fixed-encoder path.
/// </summary>
public sealed class CrossEntropyMethod : ClassifierTrainingMethod
{
    private readonly IOptimizer optimizer;
    private readonly int headOnlyEpochs;

    /// <summary>
    /// Trains <paramref name="network"/> with the optimiser the options describe (over the parameters that require
    /// gradients); for the first <paramref name="headOnlyEpochs"/> epochs the encoder is frozen and only the head
    /// trains (LP-FT; the optimiser skips parameters without gradients, so the encoder's weights do not move).
    /// </summary>
    public CrossEntropyMethod(Classifier network, TrainingOptions options, int headOnlyEpochs = 0) : base(network, options)
    {
        optimizer = OptimizerFactory.Create(network, options);
        this.headOnlyEpochs = headOnlyEpochs;
        labelSmoothing = options.LabelSmoothing;
    }

    private readonly double labelSmoothing;

    /// <inheritdoc/>
    public override string Name => "ce";

    /// <inheritdoc/>
    public override IReadOnlyList<(string Name, nn.Module Network)> Networks => [("net", Network)];

    /// <inheritdoc/>
    public override IReadOnlyList<(string Name, IOptimizer Optimizer)> Optimizers => [("net", optimizer)];

    /// <summary>
    /// Freezes or releases the encoder for LP-FT's head-only epochs. Before the first step of a fixed-encoder run, sets
    /// the standardizer between the frozen encoder and the head from the features of the un-augmented training images
    /// (a resumed run gets them from its checkpoint instead).
    /// </summary>
    public override void BeginEpoch(EpochContext context)
    {
        if (headOnlyEpochs > 0) Network.FrozenEncoder = context.Epoch < headOnlyEpochs;
        if (Network.Standardizer is not { IsCalibrated: false } standardizer) return;
        Network.eval();
        using var features = Evaluation.FeatureMatrix(Network.Features, context.Train, cancellation: context.Cancellation);
        standardizer.Calibrate(features);
    }

    /// <inheritdoc/>
    public override double TrainStep(TrainingBatch batch, EpochContext context)
    {
        Network.train();
        optimizer.ZeroGrad();
        var loss = nn.functional.cross_entropy(Network.forward(batch.Images), batch.Labels, label_smoothing: labelSmoothing);
        loss.backward();
        optimizer.Step();
        return loss.item<float>();
    }
}
