using Winnow.Models;
using static TorchSharp.torch;

namespace Winnow.SelfSupervised;

/// <summary>
/// NT-Xent, SimCLR's contrastive loss. For 2N L2-normalised projections (view 1 of N images, then view 2), each row i
/// is an anchor; its positive is the other view of the same image; the denominator runs over all 2N − 1 other rows
/// (the positive included): loss = mean_i −log( exp(z_i·z_p(i)/τ) / Σ_{k≠i} exp(z_i·z_k/τ) ).
/// SupContrast, whose recipe C2D uses, multiplies this by τ/0.07; that only rescales the learning rate, so we follow
/// the SimCLR paper's loss without the factor.
/// </summary>
public static class NtXentLoss
{
    /// <summary>The loss of <paramref name="projections"/> (2N, d), computed in float32.</summary>
    public static Tensor Compute(Tensor projections, double temperature)
    {
        long rows = projections.shape[0];
        if (rows % 2 != 0 || rows < 4) throw new ArgumentException($"NT-Xent needs two views of at least two images, got {rows} rows");
        if (!(temperature > 0)) throw new ArgumentOutOfRangeException(nameof(temperature), "temperature must be positive");
        using var scope = NewDisposeScope();
        long n = rows / 2;
        var z = nn.functional.normalize(projections.to(ScalarType.Float32), dim: 1);
        var logits = z.matmul(z.t()).DividedBy(temperature).masked_fill(eye(rows, dtype: ScalarType.Bool), LongLivedScalars.NegativeInfinity);
        var positives = tensor(Enumerable.Range(0, (int)rows).Select(i => (i + n) % rows).ToArray());
        return nn.functional.cross_entropy(logits, positives).MoveToOuterDisposeScope();
    }
}
