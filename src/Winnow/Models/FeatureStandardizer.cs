using TorchSharp;
using static TorchSharp.torch;

namespace Winnow.Models;

/// <summary>
/// Standardises features with a fixed mean and standard deviation (per dimension), held as buffers so checkpoints
/// carry them. It sits between a frozen encoder and its linear head: the encoder's pooled post-ReLU features are
/// non-negative and of uneven scale, and a linear head trained on them directly with noisy labels converges slowly
/// and noisily (docs/self-supervised.md). Standardising is a fixed affine map, so the model class is still "a linear
/// head on the frozen encoder".
/// </summary>
public sealed class FeatureStandardizer : nn.Module<Tensor, Tensor>
{
    private readonly Tensor mean;
    private readonly Tensor std;

    /// <summary>An uncalibrated standardizer for <paramref name="dimension"/> features.</summary>
    public FeatureStandardizer(int dimension) : base(nameof(FeatureStandardizer))
    {
        mean = zeros(dimension);
        std = zeros(dimension);
        register_buffer("mean", mean);
        register_buffer("std", std);
    }

    /// <summary>Whether <see cref="Calibrate"/> has run (or a checkpoint supplied the statistics).</summary>
    public bool IsCalibrated => std.sum().item<float>() > 0;

    /// <summary>Sets the statistics from a feature matrix (N, D); dimensions with (near) zero spread get 1.</summary>
    public void Calibrate(Tensor features)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var f = features.to(ScalarType.Float32);
        mean.copy_(f.mean([0]));
        var s = f.std(0);
        std.copy_(where(s.Above(1e-6), s, ones_like(s)));
    }

    /// <summary>(x − mean) / std in float32; throws while uncalibrated.</summary>
    public override Tensor forward(Tensor x)
    {
        if (!IsCalibrated) throw new InvalidOperationException("the feature standardizer has no statistics yet: call Calibrate first");
        return (x.to(ScalarType.Float32) - mean) / std;
    }
}
