using TorchSharp;
using Winnow.Models;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Winnow.Methods;

/// <summary>SANM's losses besides its host method's (Tu et al., CVPR 2023).</summary>
public static class SanmLosses
{
    /// <summary>
    /// The self-supervised masking reconstruction loss (spec §3.5): MSE (mean) between the decoder's reconstruction of
    /// the max-masked views' feature maps and the unmasked normalised images, plus the same for the min-masked views.
    /// Gradients reach the decoder and, through the maps, the encoder. Its weight (0.02 on CIFAR) is the method's.
    /// </summary>
    /// <param name="decoder">The decoder.</param>
    /// <param name="maxMaskedMaps">Feature maps (N, C_f, h, w) of the max-masked views.</param>
    /// <param name="minMaskedMaps">Feature maps (N, C_f, h, w) of the min-masked views.</param>
    /// <param name="cleanImages">The unmasked normalised images (N, C, H, W).</param>
    /// <returns>A float32 scalar.</returns>
    public static Tensor Reconstruction(ReconstructionDecoder decoder, Tensor maxMaskedMaps, Tensor minMaskedMaps, Tensor cleanImages)
    {
        using var scope = NewDisposeScope();
        var target = cleanImages.detach().to(ScalarType.Float32);
        var maxLoss = F.mse_loss(decoder.forward(maxMaskedMaps), target, nn.Reduction.Mean);
        var minLoss = F.mse_loss(decoder.forward(minMaskedMaps), target, nn.Reduction.Mean);
        return maxLoss.Plus(minLoss).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The reconstruction loss of any set of masked rows: 2 × the mean squared error between the decoder's
    /// reconstruction of <paramref name="maskedMaps"/> and <paramref name="targets"/>. The official loss sums the
    /// means of the max- and the min-masked copies, so the rows count twice: with both copies of every image this
    /// equals <see cref="Reconstruction(ReconstructionDecoder, Tensor, Tensor, Tensor)"/>, and one copy per image keeps
    /// its scale.
    /// </summary>
    /// <param name="decoder">The decoder.</param>
    /// <param name="maskedMaps">Feature maps (N, C_f, h, w) of the masked rows.</param>
    /// <param name="targets">What each row should rebuild (N, C, H, W): its unmasked normalised image.</param>
    /// <returns>A float32 scalar.</returns>
    public static Tensor MaskedReconstruction(ReconstructionDecoder decoder, Tensor maskedMaps, Tensor targets)
    {
        using var scope = NewDisposeScope();
        var target = targets.detach().to(ScalarType.Float32);
        return F.mse_loss(decoder.forward(maskedMaps), target, nn.Reduction.Mean).Times(2).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <see cref="Reconstruction(ReconstructionDecoder, Tensor, Tensor, Tensor)"/> with the maps computed here by one
    /// pass of <paramref name="network"/>'s encoder over both masked views (as the official code does, so batch-norm
    /// statistics in train mode see both).
    /// </summary>
    /// <param name="network">The classifier whose encoder produces the maps (in its current mode and precision).</param>
    /// <param name="decoder">The decoder.</param>
    /// <param name="masked">The masked batch (<see cref="AdversarialMasking.Apply"/>).</param>
    /// <param name="cleanImages">The unmasked normalised images (N, C, H, W).</param>
    /// <returns>A float32 scalar.</returns>
    public static Tensor Reconstruction(Classifier network, ReconstructionDecoder decoder, MaskedBatch masked, Tensor cleanImages)
    {
        using var scope = NewDisposeScope();
        long n = cleanImages.shape[0];
        var maps = network.FeatureMap(cat([masked.MaxMasked, masked.MinMasked], 0));
        return Reconstruction(decoder, maps.narrow(0, 0, n), maps.narrow(0, n, n), cleanImages).MoveToOuterDisposeScope();
    }
}
