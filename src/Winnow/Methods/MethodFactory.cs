using Winnow.Models;
using Winnow.SelfSupervised;
using Winnow.Training;

namespace Winnow.Methods;

/// <summary>Whether a pre-trained encoder keeps learning.</summary>
public enum EncoderMode
{
    /// <summary>Every layer trains (Cheng et al.'s "unfixed encoder"; C2D).</summary>
    Finetune,
    /// <summary>The encoder is frozen in eval mode and only the linear head trains (Cheng et al.'s "fixed encoder").</summary>
    Fixed,
}

/// <summary>Creates training methods by name.</summary>
public static class MethodFactory
{
    /// <summary>The methods of 'winnow train', with a one-line description.</summary>
    public static IReadOnlyDictionary<string, string> Methods { get; } = new Dictionary<string, string>
    {
        ["ce"] = "cross-entropy on the noisy labels (the baseline; with --encoder-mode fixed, a linear head on a frozen encoder)",
        ["ce-reg"] = "cross-entropy + InfoNCE on two strong views + Cheng et al.'s representation regularizer",
        ["dividemix"] = "DivideMix: two networks, loss-mixture co-divide, MixMatch with co-refined and co-guessed labels",
        ["elr"] = "early-learning regularization: cross-entropy + λ·log(1 − ⟨p, temporal-ensemble target⟩)",
        ["elr-plus"] = "ELR+: two networks, mixup, targets from the other network's weight-averaged copy",
    };

    /// <summary>
    /// Builds the method a manifest names, on a new network of its architecture (seed torch first). With
    /// <paramref name="initialiseEncoder"/> the encoder starts from <see cref="RunManifest.Encoder"/> when one is named.
    /// </summary>
    public static ITrainingMethod Create(RunManifest manifest, int inputChannels, int classCount, bool initialiseEncoder = true) =>
        Create(manifest, inputChannels, classCount, manifest.SampleCount ?? 0, initialiseEncoder);

    /// <summary>As <see cref="Create(RunManifest, int, int, bool)"/>, for a training set of <paramref name="sampleCount"/> samples (ELR keeps a target per sample).</summary>
    public static ITrainingMethod Create(RunManifest manifest, int inputChannels, int classCount, int sampleCount, bool initialiseEncoder = true)
    {
        if (manifest.HeadOnlyEpochs != 0 && (manifest.Method != "ce" || manifest.Encoder is null || manifest.EncoderMode != EncoderMode.Finetune || manifest.HeadOnlyEpochs < 0))
            throw new WinnowException($"--head-epochs (got {manifest.HeadOnlyEpochs}) needs a non-negative count, --method ce and --encoder in finetune mode");
        if (manifest.Training.EncoderRateScale != 1 && manifest.Method == "simclr")
            throw new WinnowException("--encoder-lr-scale sets a classifier's encoder apart from its head; pre-training has no head");
        Classifier NewClassifier()
        {
            var e = ModelFactory.CreateEncoder(manifest.Model, inputChannels);
            var c = new Classifier(e, classCount);
            if (initialiseEncoder && manifest.Encoder is not null) EncoderCheckpoint.LoadInto(e, manifest.Encoder);
            return c;
        }
        if (manifest.Method is "elr" or "elr-plus")
        {
            if (sampleCount <= 0) throw new WinnowException($"{manifest.Method} needs the training set's size");
            if (manifest.EncoderMode == EncoderMode.Fixed) throw new WinnowException($"--encoder-mode fixed trains a linear head with cross-entropy (--method ce); {manifest.Method} trains the encoder");
            var elr = (manifest.Elr ?? new ElrOptions()).Resolve(manifest.Noise, manifest.Encoder is not null);
            if (manifest.Method == "elr") return new ElrMethod(NewClassifier(), sampleCount, elr, manifest.Training);
            return new ElrPlusMethod([NewClassifier(), NewClassifier()], [NewClassifier(), NewClassifier()], sampleCount, elr, manifest.Training);
        }
        if (manifest.Method == "simclr")
        {
            var ssl = ModelFactory.CreateEncoder(manifest.Model, inputChannels);
            if (initialiseEncoder && manifest.Encoder is not null) EncoderCheckpoint.LoadInto(ssl, manifest.Encoder);
            return new SimClrMethod(ssl, manifest.SimClr ?? new SimClrOptions(), manifest.Training);
        }
        if (!Methods.ContainsKey(manifest.Method))
            throw new WinnowException($"unknown method '{manifest.Method}'; expected one of {string.Join(", ", Methods.Keys)}");
        if (manifest.EncoderMode == EncoderMode.Fixed && manifest.Method != "ce")
            throw new WinnowException($"--encoder-mode fixed trains a linear head with cross-entropy (--method ce); {manifest.Method} trains the encoder");
        if (manifest.EncoderMode == EncoderMode.Fixed && manifest.Encoder is null)
            throw new WinnowException("--encoder-mode fixed needs a pre-trained encoder (--encoder PATH); a frozen random encoder learns nothing");
        if (manifest.Method == "dividemix")
        {
            var options = (manifest.DivideMix ?? new DivideMixOptions()).Resolve(manifest.KnownNoise(), manifest.Encoder is not null);
            return new DivideMixMethod(NewClassifier(), NewClassifier(), options, manifest.Training, manifest.Encoder is not null);
        }
        var encoder = ModelFactory.CreateEncoder(manifest.Model, inputChannels);
        var network = new Classifier(encoder, classCount, standardizeFeatures: manifest.EncoderMode == EncoderMode.Fixed);
        if (initialiseEncoder && manifest.Encoder is not null) EncoderCheckpoint.LoadInto(encoder, manifest.Encoder);
        network.FrozenEncoder = manifest.EncoderMode == EncoderMode.Fixed;
        switch (manifest.Method)
        {
            case "ce":
                return new CrossEntropyMethod(network, manifest.Training, manifest.HeadOnlyEpochs);
            default:
                var regularizer = manifest.Regularizer ?? new RepresentationRegularizerOptions();
                var projection = new ProjectionHead(encoder.FeatureDimension, regularizer.ProjectionDimension);
                if (initialiseEncoder && manifest.Encoder is not null) EncoderCheckpoint.LoadProjection(projection, manifest.Encoder);
                return new RegularizedCrossEntropyMethod(network, projection, regularizer, manifest.Training);
        }
    }
}
