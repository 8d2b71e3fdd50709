using TorchSharp;
using Winnow.Models;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Winnow.Methods;

/// <summary>SANM's losses besides its host method's (Tu et al., CVPR 2023).</summary>
public static class SanmLosses
{
    /// <summary>
    /// The self-supervised masking reconstruction loss (spec §3.5) of any set of masked rows: 2 × the mean squared
    /// error between the decoder's reconstruction of <paramref name="maskedMaps"/> and <paramref name="targets"/> (the
    /// unmasked normalised images). The official loss sums the means of the max- and the min-masked copies, so the
    /// rows count twice: with both copies of every image this equals the official sum, and one copy per image keeps
    /// its scale. Gradients reach the decoder and, through the maps, the encoder; the loss's weight is the method's.
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
}
