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

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        var w = weight.dtype == x.dtype ? weight : weight.to(x.dtype);
        var b = bias is null ? null : bias.dtype == x.dtype ? bias : bias.to(x.dtype);
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
