using TorchSharp;
using static TorchSharp.torch;

namespace Winnow.Models;

/// <summary>
/// Scalars that live as long as the process, for hot calls that would otherwise build a temporary one: TorchSharp
/// reads a temporary Scalar's native handle without keeping the managed object alive, so the finaliser can free it
/// while libtorch still reads it (see <see cref="KeepAliveBatchNorm2d"/>). <c>a.add_(b)</c> passes such a temporary
/// as alpha; <c>a.add_(b, LongLivedScalars.One)</c> does not.
/// </summary>
public static class LongLivedScalars
{
    /// <summary>The integer 1 (valid as alpha for integral and floating tensors alike).</summary>
    public static readonly Scalar One = 1L.ToScalar();

    /// <summary>Negative infinity, for masking logits.</summary>
    public static readonly Scalar NegativeInfinity = double.NegativeInfinity.ToScalar();
}

/// <summary>
/// Tensor arithmetic with plain numbers that keeps every Scalar alive until libtorch has returned. TorchSharp 0.107's
/// operators and implicit conversions (<c>2 * t</c>, <c>t + u</c>, <c>t.clamp_min(1e-6)</c>) build temporary
/// Scalars whose finalisers can run on another thread in the middle of the native call: wrong values, "Unknown scalar
/// type" errors or a segmentation fault, more likely the more the process allocates (our batch producer does).
/// BannedSymbols.txt turns those calls into build errors; these are their replacements.
/// </summary>
public static class ScalarArithmetic
{
    /// <summary>Runs <paramref name="operation"/> with k as a Scalar that stays alive until it returns.</summary>
    private static Tensor WithScalar(double k, Func<Scalar, Tensor> operation)
    {
        using var s = k.ToScalar();
        return operation(s);
    }

    /// <summary>a + b (element-wise, broadcasting).</summary>
    public static Tensor Plus(this Tensor a, Tensor b) => a.add(b, LongLivedScalars.One);

    /// <summary>a + k.</summary>
    public static Tensor Plus(this Tensor a, double k) => WithScalar(k, s => a.add(s, LongLivedScalars.One));

    /// <summary>k · a.</summary>
    public static Tensor Times(this Tensor a, double k) => WithScalar(k, s => a.mul(s));

    /// <summary>a / k.</summary>
    public static Tensor DividedBy(this Tensor a, double k) => WithScalar(k, s => a.div(s));

    /// <summary>1 − a.</summary>
    public static Tensor OneMinus(this Tensor a) => a.neg().add_(LongLivedScalars.One, LongLivedScalars.One);

    /// <summary>w · a + (1 − w) · b, the convex combination used by mixup and by running averages.</summary>
    public static Tensor Blend(this Tensor a, Tensor b, double w)
    {
        using Scalar keep = w.ToScalar(), rest = (1 - w).ToScalar();
        return a.mul(keep).add_(b, rest);
    }

    /// <summary>a ^ k, element-wise.</summary>
    public static Tensor Power(this Tensor a, double k) => WithScalar(k, s => a.pow(s));

    /// <summary>max(a, k), element-wise.</summary>
    public static Tensor AtLeast(this Tensor a, double k) => WithScalar(k, s => a.clamp_min(s));

    /// <summary>a clamped to [lo, hi], element-wise.</summary>
    public static Tensor Within(this Tensor a, double lo, double hi)
    {
        using Scalar min = lo.ToScalar(), max = hi.ToScalar();
        return a.clamp(min, max);
    }

    /// <summary>The boolean tensor a &gt; k.</summary>
    public static Tensor Above(this Tensor a, double k) => WithScalar(k, s => a.gt(s));
}
