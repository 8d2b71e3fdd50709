using TorchSharp;
using static TorchSharp.torch;

namespace Winnow.Models;

/// <summary>
/// A network that maps images (N, C, H, W) to feature vectors (N, <see cref="FeatureDimension"/>). Encoders and
/// heads are separate modules so that methods can freeze an encoder, swap its head or train two networks.
/// </summary>
public abstract class Encoder : nn.Module<Tensor, Tensor>
{
    /// <summary>Names the module.</summary>
    protected Encoder(string name) : base(name) { }

    /// <summary>Length of the feature vector.</summary>
    public abstract int FeatureDimension { get; }

    /// <summary>The architecture's registered name (see <see cref="ModelFactory"/>).</summary>
    public abstract string Architecture { get; }
}

/// <summary>Numeric precision of the compute.</summary>
public enum Precision
{
    /// <summary>All in float32.</summary>
    Float32,
    /// <summary>Convolutions and matrix products in bfloat16, weights, batch-norm statistics and losses in float32.</summary>
    BFloat16,
}

/// <summary>An encoder followed by a linear head: images in, class logits (float32) out.</summary>
public sealed class Classifier : nn.Module<Tensor, Tensor>
{
    private readonly Encoder encoder;
    private readonly MixedLinear head;

    /// <summary>Joins an encoder and a new linear head for <paramref name="classCount"/> classes.</summary>
    public Classifier(Encoder encoder, int classCount) : base(nameof(Classifier))
    {
        this.encoder = encoder;
        head = new MixedLinear(encoder.FeatureDimension, classCount);
        ClassCount = classCount;
        RegisterComponents();
    }

    /// <summary>The encoder.</summary>
    public Encoder Encoder => encoder;

    /// <summary>The linear head.</summary>
    public MixedLinear Head => head;

    /// <summary>Number of classes.</summary>
    public int ClassCount { get; }

    /// <summary>Precision of the forward pass; bfloat16 casts the input and keeps parameters in float32.</summary>
    public Precision Precision { get; set; } = Precision.Float32;

    /// <summary>Features of the input (float32).</summary>
    public Tensor Features(Tensor x)
    {
        using var scope = NewDisposeScope();
        return encoder.forward(PrepareInput(x)).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Run convolutions on channels-last (NHWC) tensors, which oneDNN computes 10 to 30% faster on this class of CPU.
    /// TorchSharp has no memory-format API, so inputs and weights get NHWC strides by permute-contiguous-permute.
    /// Read when layers are built: set it before creating a model.
    /// </summary>
    public static bool ChannelsLast { get; set; } = Environment.GetEnvironmentVariable("WINNOW_CHANNELS_LAST") != "0";

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return head.forward(encoder.forward(PrepareInput(x))).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>The input in the compute dtype and, for convolutions, the channels-last layout.</summary>
    private Tensor PrepareInput(Tensor x)
    {
        var input = Precision == Precision.BFloat16 ? x.to(ScalarType.BFloat16) : x;
        return ChannelsLast ? input.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2) : input;
    }
}
