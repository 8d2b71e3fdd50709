using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Winnow.Models;

/// <summary>
/// A 2-D convolution whose weights are kept in float32 and cast to the input's dtype on the fly, so that a
/// bfloat16 input runs the convolution in bfloat16 while gradients flow back into the float32 weights
/// (what PyTorch's autocast does for convolutions).
/// </summary>
public sealed class MixedConv2d : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter? bias;
    private readonly long stride, padding;

    /// <summary>Creates a square-kernel convolution; weights start from PyTorch's default (Kaiming-uniform) initialisation.</summary>
    public MixedConv2d(long inChannels, long outChannels, long kernel, long stride = 1, long padding = 0, bool hasBias = false)
        : base(nameof(MixedConv2d))
    {
        this.stride = stride;
        this.padding = padding;
        // Channels-last weights are stored with NHWC strides once, instead of being re-laid out at every forward pass.
        weight = new Parameter(Classifier.ChannelsLast
            ? empty(outChannels, kernel, kernel, inChannels).permute(0, 3, 1, 2)
            : empty(outChannels, inChannels, kernel, kernel));
        nn.init.kaiming_uniform_(weight, Math.Sqrt(5));
        if (hasBias)
        {
            double bound = 1 / Math.Sqrt(inChannels * kernel * kernel);
            bias = new Parameter(empty(outChannels));
            nn.init.uniform_(bias, -bound, bound);
        }
        RegisterComponents();
    }

    /// <summary>The float32 weight, shape (out, in, k, k).</summary>
    public Parameter Weight => weight;

    /// <summary>
    /// Convolutions over fewer input channels than this run in float32 even in bfloat16 mode. libtorch 2.10's bfloat16
    /// convolution returns wrong values for a single input channel on an AVX-512 BF16 AMD EPYC (66–100% relative
    /// error; 2 to 512 channels were right to 0.5%), and a stem this thin costs under 1% of the network's operations.
    /// </summary>
    public const int BFloat16MinInputChannels = 4;

    /// <inheritdoc/>
    public override Tensor forward(Tensor x) => Convolve(x, weight, bias);

    /// <summary>
    /// The convolution followed by a batch norm in eval mode, as one convolution: the norm's per-channel
    /// <c>scale·y + shift</c> (<see cref="KeepAliveBatchNorm2d.EvalAffine"/>) folded into the weights and bias. The
    /// inference fast path: it saves the norm's pass over the activations.
    /// </summary>
    public Tensor ForwardFolded(Tensor x, KeepAliveBatchNorm2d norm)
    {
        using var scope = NewDisposeScope();
        var (scale, shift) = norm.EvalAffine();
        var w = weight.mul(scale.view(-1, 1, 1, 1));
        var b = bias is null ? shift : bias.mul(scale).Plus(shift);
        return Convolve(x, w, b).MoveToOuterDisposeScope();
    }

    private Tensor Convolve(Tensor x, Tensor w, Tensor? b) => Convolve(x, w, b, stride, padding);

    /// <summary>
    /// A square convolution of <paramref name="x"/> with float32 <paramref name="w"/> and <paramref name="b"/> cast to the
    /// input's dtype, in float32 where bfloat16 is wrong (fewer than <see cref="BFloat16MinInputChannels"/> input
    /// channels): the computation of every convolution layer here.
    /// </summary>
    internal static Tensor Convolve(Tensor x, Tensor w, Tensor? b, long stride, long padding)
    {
        if (x.dtype == ScalarType.BFloat16 && w.shape[1] < BFloat16MinInputChannels)
        {
            using var scope = NewDisposeScope();
            return nn.functional.conv2d(x.to(ScalarType.Float32), w, b, strides: [stride, stride], padding: [padding, padding])
                .to(ScalarType.BFloat16).MoveToOuterDisposeScope();
        }
        if (w.dtype != x.dtype) w = w.to(x.dtype);
        if (b is not null && b.dtype != x.dtype) b = b.to(x.dtype);
        return nn.functional.conv2d(x, w, b, strides: [stride, stride], padding: [padding, padding]);
    }
}

/// <summary>A fully connected layer with float32 weights cast to the input's dtype on the fly (see <see cref="MixedConv2d"/>).</summary>
public sealed class MixedLinear : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter bias;

    /// <summary>Creates the layer with PyTorch's default initialisation.</summary>
    public MixedLinear(long inFeatures, long outFeatures) : base(nameof(MixedLinear))
    {
        weight = new Parameter(empty(outFeatures, inFeatures));
        nn.init.kaiming_uniform_(weight, Math.Sqrt(5));
        double bound = 1 / Math.Sqrt(inFeatures);
        bias = new Parameter(empty(outFeatures));
        nn.init.uniform_(bias, -bound, bound);
        RegisterComponents();
    }

    /// <summary>Input features.</summary>
    public long InFeatures => weight.shape[1];

    /// <summary>Output features.</summary>
    public long OutFeatures => weight.shape[0];

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        var w = weight.dtype == x.dtype ? weight : weight.to(x.dtype);
        var b = bias.dtype == x.dtype ? bias : bias.to(x.dtype);
        return nn.functional.linear(x, w, b);
    }
}

/// <summary>
/// 2-D batch normalisation with TorchSharp's parameter and buffer names (weight, bias, running_mean, running_var,
/// num_batches_tracked), so checkpoints are interchangeable with <c>nn.BatchNorm2d</c>. It exists because
/// TorchSharp 0.107's BatchNorm counts batches with <c>num_batches_tracked.add_(1)</c>, which builds two temporary
/// Scalars and reads their native handles without keeping the managed objects alive: a garbage collection on
/// another thread (our augmentation producer allocates constantly) can finalise and free a Scalar while libtorch
/// still reads it, and a reused slot holding a double then fails the call ("For integral input tensors, argument
/// alpha must not be a floating point number"), observed once in ~1,400 steps of a DivideMix warm-up. This layer
/// increments the counter with <see cref="LongLivedScalars.One"/>, which is never collected.
/// </summary>
public sealed class KeepAliveBatchNorm2d : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter bias;
    private readonly Tensor running_mean;
    private readonly Tensor running_var;
    private readonly Tensor num_batches_tracked;
    private readonly double eps;

    /// <summary>Weight of each batch's statistics in the running ones (PyTorch's momentum; 1 keeps only the last batch's).</summary>
    public double Momentum { get; set; }

    /// <summary>
    /// Creates the layer: weight 1, bias 0, running mean 0, running variance 1, PyTorch's momentum 0.1 and eps 1e-5;
    /// without <paramref name="trainScale"/> the weight stays 1 (it never requires a gradient; airbench's norms).
    /// </summary>
    public KeepAliveBatchNorm2d(long features, double momentum = 0.1, double eps = 1e-5, bool trainScale = true) : base(nameof(KeepAliveBatchNorm2d))
    {
        Momentum = momentum;
        this.eps = eps;
        weight = new Parameter(ones(features));
        bias = new Parameter(zeros(features));
        running_mean = zeros(features);
        running_var = ones(features);
        num_batches_tracked = tensor(0L);
        RegisterComponents();
        weight.requires_grad = trainScale;
    }

    /// <summary>The shift (bias) parameter.</summary>
    public Parameter Bias => bias;

    /// <summary>
    /// The eval-mode transform as a per-channel affine map <c>y = scale·x + shift</c> (float32) from the running
    /// statistics: scale = weight / √(running_var + eps), shift = bias − running_mean·scale.
    /// </summary>
    public (Tensor Scale, Tensor Shift) EvalAffine()
    {
        var scale = weight.div(running_var.Plus(eps).sqrt());
        return (scale, bias.Plus(running_mean.mul(scale).neg()));
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        if (x.dim() != 4) throw new ArgumentException($"expected a 4-D input (batch, channels, height, width), got {x.dim()}-D");
        if (training)
            using (no_grad()) num_batches_tracked.add_(LongLivedScalars.One, LongLivedScalars.One);
        return nn.functional.batch_norm(x, running_mean, running_var, weight, bias, training, Momentum, eps);
    }
}
