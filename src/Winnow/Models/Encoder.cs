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

    /// <summary>
    /// The last stage's feature map before pooling, (N, C_f, h_f, w_f), in the input's dtype (bfloat16 in, bfloat16
    /// out). <c>forward</c> is its global average pool, flattened.
    /// </summary>
    public abstract Tensor FeatureMap(Tensor x);

    /// <summary>The shape (C_f, h_f, w_f) of <see cref="FeatureMap"/> for images of the given shape.</summary>
    public abstract (int Channels, int Height, int Width) FeatureMapShape(int channels, int height, int width);
}

/// <summary>Numeric precision of the compute.</summary>
public enum Precision
{
    /// <summary>All in float32.</summary>
    Float32,
    /// <summary>Convolutions and matrix products in bfloat16, weights, batch-norm statistics and losses in float32.</summary>
    BFloat16,
    /// <summary>
    /// Not a compute precision: the faster of <see cref="Float32"/> and <see cref="BFloat16"/> for the run's own model on
    /// this machine, measured before the first step (Analysis.PrecisionSelector). A run records the
    /// precision it chose; networks are never built with this value.
    /// </summary>
    Auto,
}

/// <summary>An encoder followed by a linear head: images in, class logits (float32) out.</summary>
public sealed class Classifier : nn.Module<Tensor, Tensor>
{
    private readonly Encoder encoder;
    private readonly MixedLinear head;
    private readonly FeatureStandardizer? standardizer;

    /// <summary>
    /// Joins an encoder and a new linear head for <paramref name="classCount"/> classes; with
    /// <paramref name="standardizeFeatures"/>, a <see cref="FeatureStandardizer"/> sits between them (calibrated by
    /// the training method before the first step; used with a frozen encoder).
    /// </summary>
    public Classifier(Encoder encoder, int classCount, bool standardizeFeatures = false) : base(nameof(Classifier))
    {
        this.encoder = encoder;
        trainableEncoderParameters = [.. encoder.parameters().Where(p => p.requires_grad)];
        head = new MixedLinear(encoder.FeatureDimension, classCount);
        if (standardizeFeatures) standardizer = new FeatureStandardizer(encoder.FeatureDimension);
        ClassCount = classCount;
        RegisterComponents();
    }

    /// <summary>The encoder.</summary>
    public Encoder Encoder => encoder;

    /// <summary>The linear head.</summary>
    public MixedLinear Head => head;

    /// <summary>The standardizer between encoder and head, or null.</summary>
    public FeatureStandardizer? Standardizer => standardizer;

    /// <summary>Number of classes.</summary>
    public int ClassCount { get; }

    /// <summary>Precision of the forward pass; bfloat16 casts the input and keeps parameters in float32.</summary>
    public Precision Precision
    {
        get => precision;
        set => precision = value != Precision.Auto ? value
            : throw new WinnowException("precision auto must be settled (PrecisionSelector.Resolve) before a network is built");
    }

    private Precision precision = Precision.Float32;

    /// <summary>
    /// Freezes the encoder (Cheng et al.'s fixed-encoder path): its parameters stop requiring gradients, it stays in
    /// eval mode (batch-norm statistics frozen) even when the classifier trains, and its forward pass runs without
    /// autograd, so only the head learns.
    /// </summary>
    public bool FrozenEncoder
    {
        get => frozen;
        set
        {
            frozen = value;
            foreach (var p in trainableEncoderParameters) p.requires_grad = !value;
            if (value) encoder.eval();
        }
    }

    private bool frozen;

    // The encoder's parameters that train when it is not frozen (a fixed batch-norm scale never does).
    private readonly TorchSharp.Modules.Parameter[] trainableEncoderParameters;

    /// <inheritdoc/>
    public override void train(bool on = true)
    {
        base.train(on);
        if (frozen) encoder.eval();
    }

    private Tensor EncoderForward(Tensor input)
    {
        if (!frozen) return encoder.forward(input);
        using var _ = no_grad();
        return encoder.forward(input);
    }

    /// <summary>
    /// The encoder's last feature map before pooling, (N, C_f, h_f, w_f), as float32 (computed in bfloat16 when
    /// <see cref="Precision"/> is bfloat16; without autograd when the encoder is frozen). Its global average pool is
    /// <see cref="Features"/>.
    /// </summary>
    public Tensor FeatureMap(Tensor x)
    {
        using var scope = NewDisposeScope();
        var input = PrepareInput(x);
        if (!frozen) return encoder.FeatureMap(input).to(ScalarType.Float32).MoveToOuterDisposeScope();
        using var _ = no_grad();
        return encoder.FeatureMap(input).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The logits and the encoder's last feature map (float32) from one pass: the logits equal <see cref="forward"/>'s,
    /// the map <see cref="FeatureMap"/>'s, and batch-norm statistics in train mode see the batch once.
    /// </summary>
    public (Tensor Logits, Tensor FeatureMap) ForwardWithFeatureMap(Tensor x)
    {
        using var scope = NewDisposeScope();
        var input = PrepareInput(x);
        Tensor map;
        if (frozen)
        {
            using var _ = no_grad();
            map = encoder.FeatureMap(input);
        }
        else map = encoder.FeatureMap(input);
        var features = nn.functional.adaptive_avg_pool2d(map, [1, 1]).flatten(1);
        if (standardizer is not null) features = standardizer.forward(features);
        var logits = head.forward(features).to(ScalarType.Float32);
        return (logits.MoveToOuterDisposeScope(), map.to(ScalarType.Float32).MoveToOuterDisposeScope());
    }

    /// <summary>Features of the input (float32).</summary>
    public Tensor Features(Tensor x)
    {
        using var scope = NewDisposeScope();
        return EncoderForward(PrepareInput(x)).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Run convolutions on channels-last (NHWC) tensors, which oneDNN computes faster than NCHW for Winnow's encoders
    /// (docs/throughput.md). WINNOW_CHANNELS_LAST=0 turns it off.
    /// TorchSharp has no memory-format API, so inputs and weights get NHWC strides by permute-contiguous-permute.
    /// Read when layers are built: set it before creating a model.
    /// </summary>
    public static bool ChannelsLast { get; set; } = Environment.GetEnvironmentVariable("WINNOW_CHANNELS_LAST") != "0";

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var features = EncoderForward(PrepareInput(x));
        if (standardizer is not null) features = standardizer.forward(features);
        return head.forward(features).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    private Tensor PrepareInput(Tensor x) => PrepareInput(x, Precision);

    /// <summary>Images in the compute dtype of <paramref name="precision"/> and, when <see cref="ChannelsLast"/>, the NHWC layout.</summary>
    public static Tensor PrepareInput(Tensor x, Precision precision)
    {
        var input = precision == Precision.BFloat16 ? x.to(ScalarType.BFloat16) : x;
        return ChannelsLast ? input.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2) : input;
    }
}
