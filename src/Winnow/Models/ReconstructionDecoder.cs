using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Winnow.Models;

/// <summary>
/// A 2-D transposed convolution with bias, float32 weights cast to the input's dtype on the fly (the pattern of
/// <see cref="MixedConv2d"/>), rectangular kernel, stride and output padding, no padding.
/// </summary>
public sealed class MixedConvTranspose2d : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter bias;

    /// <summary>Creates the layer with PyTorch's default initialisation for <c>ConvTranspose2d</c> (Kaiming-uniform, a = √5).</summary>
    public MixedConvTranspose2d(int inChannels, int outChannels, (int Height, int Width) kernel, (int Height, int Width) stride,
        (int Height, int Width) outputPadding) : base(nameof(MixedConvTranspose2d))
    {
        if (outputPadding.Height >= stride.Height || outputPadding.Width >= stride.Width)
            throw new ArgumentException("output padding must be smaller than the stride", nameof(outputPadding));
        InChannels = inChannels;
        OutChannels = outChannels;
        Kernel = kernel;
        Stride = stride;
        OutputPadding = outputPadding;
        // Transposed weights are (in, out, kh, kw); PyTorch's fan-in (dimension 1 times the kernel) is out·kh·kw.
        weight = new Parameter(empty(inChannels, outChannels, kernel.Height, kernel.Width));
        nn.init.kaiming_uniform_(weight, Math.Sqrt(5));
        double bound = 1 / Math.Sqrt((double)outChannels * kernel.Height * kernel.Width);
        bias = new Parameter(empty(outChannels));
        nn.init.uniform_(bias, -bound, bound);
        RegisterComponents();
    }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <summary>Kernel size (height, width).</summary>
    public (int Height, int Width) Kernel { get; }

    /// <summary>Stride (height, width).</summary>
    public (int Height, int Width) Stride { get; }

    /// <summary>Output padding (height, width).</summary>
    public (int Height, int Width) OutputPadding { get; }

    /// <summary>Output size along one axis for an input of <paramref name="size"/>: (n − 1)·s + k + output padding.</summary>
    public static int OutputSize(int size, int kernel, int stride, int outputPadding) => (size - 1) * stride + kernel + outputPadding;

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        // As in MixedConv2d, thin layers (here also a thin output) run in float32 under bfloat16: libtorch's bfloat16
        // convolutions over a single channel were wrong on one CPU, and these layers are cheap.
        if (x.dtype == ScalarType.BFloat16 && Math.Min(InChannels, OutChannels) < MixedConv2d.BFloat16MinInputChannels)
        {
            using var scope = NewDisposeScope();
            return Convolve(x.to(ScalarType.Float32), weight, bias).to(ScalarType.BFloat16).MoveToOuterDisposeScope();
        }
        var w = weight.dtype == x.dtype ? weight : weight.to(x.dtype);
        var b = bias.dtype == x.dtype ? bias : bias.to(x.dtype);
        return Convolve(x, w, b);
    }

    private Tensor Convolve(Tensor x, Tensor w, Tensor b) => F.conv_transpose2d(x, w, b,
        [Stride.Height, Stride.Width], [0, 0], [OutputPadding.Height, OutputPadding.Width]);
}

/// <summary>
/// SANM's self-supervised masking reconstruction decoder (Tu et al., CVPR 2023; spec §3.5): a purely linear stack of
/// three transposed convolutions with bias, no normalisation and no activation, from an encoder's last feature map
/// (C_f, h_f, w_f) to an image (C, H, W). Channels go C_f → C_f/2 → C_f/4 → C (512 → 256 → 128 → 3 in the official
/// ResNet-18 decoder). Each axis uses the official pattern: kernel 4 stride 2 (n → 2n + 2), a stride-1 layer whose
/// kernel closes the gap, kernel 4 stride 2 with output padding 1 when the target size is odd; for 512×4×4 → 3×32×32
/// that is exactly the official (k4 s2 → 10, k6 s1 → 15, k4 s2 → 32), for 4×4 → 28×28 it is k4 s2 → 10, k4 s1 → 13,
/// k4 s2 → 28. Weights are float32; with <see cref="Precision"/> bfloat16 the layers compute in bfloat16 like the
/// encoders (thin layers in float32, see <see cref="MixedConvTranspose2d"/>); the output is float32.
/// </summary>
public sealed class ReconstructionDecoder : nn.Module<Tensor, Tensor>
{
    private readonly Sequential layers;
    private readonly MixedConvTranspose2d[] layerList;

    /// <summary>
    /// Builds the decoder from a feature map of shape <paramref name="featureMap"/> to images of shape
    /// <paramref name="image"/>; its hidden layers have C_f/<paramref name="widthDivisor"/> and C_f/(2·divisor) channels
    /// (2: the official 512 → 256 → 128).
    /// </summary>
    public ReconstructionDecoder((int Channels, int Height, int Width) featureMap, (int Channels, int Height, int Width) image, int widthDivisor = 2)
        : base(nameof(ReconstructionDecoder))
    {
        if (featureMap.Channels < 1 || featureMap.Height < 1 || featureMap.Width < 1 || image.Channels < 1 || image.Height < 1 || image.Width < 1)
            throw new ArgumentException("feature map and image shapes must be positive");
        if (widthDivisor < 1) throw new ArgumentException($"the width divisor must be at least 1, got {widthDivisor}", nameof(widthDivisor));
        FeatureMapShape = featureMap;
        ImageShape = image;
        var (kh, sh, oph, exactH) = PlanAxis(featureMap.Height, image.Height);
        var (kw, sw, opw, exactW) = PlanAxis(featureMap.Width, image.Width);
        ResizesOutput = !(exactH && exactW);
        int[] channels = [featureMap.Channels, Math.Max(1, featureMap.Channels / widthDivisor), Math.Max(1, featureMap.Channels / (2 * widthDivisor)), image.Channels];
        layerList = Enumerable.Range(0, 3)
            .Select(i => new MixedConvTranspose2d(channels[i], channels[i + 1], (kh[i], kw[i]), (sh[i], sw[i]), (oph[i], opw[i])))
            .ToArray();
        layers = nn.Sequential(layerList.Select((l, i) => ($"deconv{i + 1}", (nn.Module<Tensor, Tensor>)l)).ToList());
        RegisterComponents();
    }

    /// <summary>Builds the decoder for <paramref name="encoder"/> on images of shape <paramref name="image"/> (hidden widths C_f/<paramref name="widthDivisor"/>, C_f/(2·divisor)).</summary>
    public static ReconstructionDecoder For(Encoder encoder, (int Channels, int Height, int Width) image, int widthDivisor = 2) =>
        new(encoder.FeatureMapShape(image.Channels, image.Height, image.Width), image, widthDivisor);

    /// <summary>The feature-map shape (C_f, h_f, w_f) the decoder reads.</summary>
    public (int Channels, int Height, int Width) FeatureMapShape { get; }

    /// <summary>The image shape (C, H, W) the decoder writes.</summary>
    public (int Channels, int Height, int Width) ImageShape { get; }

    /// <summary>The three transposed convolutions, in order.</summary>
    public IReadOnlyList<MixedConvTranspose2d> Layers => layerList;

    /// <summary>
    /// Whether a bilinear resize follows the layers: only when the image is too small for the pattern on some axis
    /// (H &lt; 4·h_f + 6 or so, e.g. an 8-pixel image from a 1-pixel map); never for Winnow's encoders on 28×28 or 32×32.
    /// </summary>
    public bool ResizesOutput { get; }

    /// <summary>Precision of the compute; bfloat16 casts the feature map and keeps the weights in float32.</summary>
    public Precision Precision
    {
        get => precision;
        set => precision = value != Precision.Auto ? value
            : throw new WinnowException("precision auto must be settled (PrecisionSelector.Resolve) before a network is built");
    }

    private Precision precision = Precision.Float32;

    /// <summary>The reconstruction (N, C, H, W), float32, of feature maps (N, C_f, h_f, w_f).</summary>
    public override Tensor forward(Tensor featureMaps)
    {
        if (featureMaps.dim() != 4 || featureMaps.shape[1] != FeatureMapShape.Channels
            || featureMaps.shape[2] != FeatureMapShape.Height || featureMaps.shape[3] != FeatureMapShape.Width)
            throw new ArgumentException($"expected feature maps (N, {FeatureMapShape.Channels}, {FeatureMapShape.Height}, {FeatureMapShape.Width}), got ({string.Join(", ", featureMaps.shape)})");
        using var scope = NewDisposeScope();
        var input = precision == Precision.BFloat16 ? featureMaps.to(ScalarType.BFloat16) : featureMaps;
        var output = layers.forward(input).to(ScalarType.Float32);
        if (ResizesOutput)
            output = F.interpolate(output, [ImageShape.Height, ImageShape.Width], mode: InterpolationMode.Bilinear, align_corners: false);
        return output.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// One axis of the three layers: kernels, strides, output paddings and whether they reach <paramref name="imageSize"/>
    /// exactly. Pattern: k4 s2 (n → 2n + 2), k_mid s1 (m → m + k_mid − 1), k4 s2 with output padding (H − 2) mod 2.
    /// </summary>
    private static (int[] Kernels, int[] Strides, int[] OutputPaddings, bool Exact) PlanAxis(int mapSize, int imageSize)
    {
        int afterFirst = MixedConvTranspose2d.OutputSize(mapSize, 4, 2, 0);
        int lastPadding = Math.Max(0, imageSize - 2) % 2;
        int beforeLast = (imageSize - 2 - lastPadding) / 2;
        int middleKernel = beforeLast - afterFirst + 1;
        if (middleKernel >= 1) return ([4, middleKernel, 4], [2, 1, 2], [0, 0, lastPadding], true);
        // No exact choice in this pattern (the image is small for the map): a 1×1 middle layer, then the final bilinear
        // resize in forward brings the 4n + 6 pixels to the image size.
        return ([4, 1, 4], [2, 1, 2], [0, 0, 0], false);
    }
}
