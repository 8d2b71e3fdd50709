using TorchSharp;
using TorchSharp.Modules;
using Winnow.Models;
using static TorchSharp.torch;

namespace Winnow.Methods;

/// <summary>
/// What DivideMix's MixMatch step hands an extension: the first view of the labeled and of the unlabeled samples,
/// their last feature maps from the guessing pass, their clean probabilities, and their sharpened targets (co-refined
/// and co-guessed). The unlabeled members are null when the batch has no unlabeled part.
/// </summary>
public sealed record MixMatchViews(Tensor Labeled, Tensor LabeledMaps, Tensor LabeledQuality, Tensor LabeledTargets,
    Tensor? Unlabeled, Tensor? UnlabeledMaps, Tensor? UnlabeledQuality, Tensor? UnlabeledTargets);

/// <summary>
/// Rows an extension adds to the mix (labeled ones count in L_x, unlabeled ones in L_u) and a loss term of its own.
/// When it also gives the rows' originals (<paramref name="LabeledOriginals"/>, <paramref name="UnlabeledOriginals"/>:
/// the images the added rows were made from), the host forwards the mixed batch with its feature maps and hands them
/// to <see cref="IMixMatchExtension.MixedPassLoss"/>.
/// </summary>
public sealed record MixMatchAddition(Tensor LabeledInputs, Tensor LabeledTargets, Tensor? UnlabeledInputs, Tensor? UnlabeledTargets, Tensor? Loss,
    Tensor? LabeledOriginals = null, Tensor? UnlabeledOriginals = null)
{
    /// <summary>Whether the extension asks for the mixed pass's feature maps.</summary>
    public bool WantsMixedPass => LabeledOriginals is not null;
}

/// <summary>
/// The host's mixed forward pass, for an extension that asked for it: the last feature map of every mixed row, the
/// same mixing applied to the rows' originals (each added row replaced by the image it was made from, the host's own
/// rows as they are), and the indices of the mixed rows led by an added row (mixing weight ≥ 0.5 on it).
/// </summary>
public sealed record MixedPass(Tensor FeatureMaps, Tensor MixedOriginals, Tensor AddedRows);

/// <summary>
/// A method built on DivideMix that adds views to its MixMatch step and a loss (SANM adds masked views and a
/// reconstruction loss). The host keeps the warm-up, the co-division, co-refinement, co-guessing, mixing and the
/// loss; the extension brings its own modules, trained with each network and saved in its checkpoints.
/// </summary>
public interface IMixMatchExtension : IDisposable
{
    /// <summary>The method's name (the host reports it as its own).</summary>
    string MethodName { get; }

    /// <summary>The extension's modules per network (saved in checkpoints under these names).</summary>
    IReadOnlyList<(string Name, nn.Module Module)> Modules { get; }

    /// <summary>Parameters trained together with network <paramref name="network"/> (0 or 1).</summary>
    IEnumerable<Parameter> TrainedWith(int network);

    /// <summary>The method's options record with <paramref name="host"/> as DivideMix's (after the host settled them from a noise estimate).</summary>
    object OptionsWithHost(DivideMixOptions host);

    /// <summary>Sets the compute precision of the extension's modules.</summary>
    Precision Precision { set; }

    /// <summary>
    /// The rows and loss the extension adds for network <paramref name="network"/> (<paramref name="net"/>, in train
    /// mode; gradients on); <paramref name="random"/> is the epoch's seeded source for the extension's draws.
    /// </summary>
    MixMatchAddition Extend(int network, Classifier net, MixMatchViews views, Random random);

    /// <summary>
    /// A loss on the host's mixed forward pass (gradients on), when <see cref="Extend"/> gave originals; null adds none.
    /// </summary>
    Tensor? MixedPassLoss(int network, MixedPass pass) => null;
}
