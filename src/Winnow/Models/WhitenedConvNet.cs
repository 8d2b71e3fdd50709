using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Winnow.Models;

/// <summary>
/// A layer whose weights are computed from the training images before the first step of a new run (not of a resumed
/// one, and not when its weights were loaded from a checkpoint). The training loop finds such layers in every network
/// of a method and calls <see cref="InitialiseFromImages"/> once.
/// </summary>
public interface IImageInitialisedLayer
{
    /// <summary>True once the weights were computed (or loaded from a checkpoint that holds computed ones).</summary>
    bool IsInitialised { get; }

    /// <summary>How many training images the initialisation reads (the first ones of the set, un-augmented).</summary>
    int ImagesWanted { get; }

    /// <summary>Computes the weights from <paramref name="images"/>: normalised, un-augmented, (N, C, H, W) float32.</summary>
    void InitialiseFromImages(Tensor images);
}

/// <summary>A layer that changes what it trains from epoch to epoch; the training loop calls it at the start of every epoch.</summary>
public interface IEpochScheduledLayer
{
    /// <summary>Called before the first step of 0-based epoch <paramref name="epoch"/>, after the method's own BeginEpoch.</summary>
    void BeginEpoch(int epoch);
}

/// <summary>
/// A fixed patch-whitening convolution (airbench's first layer, Jordan 2024): a k×k convolution, no padding, whose
/// 2·C·k² filters are the eigenvectors of the training images' k×k patch covariance (uncentred, E[p pᵀ]) scaled by
/// 1/√(eigenvalue + ε), each with its negation, the largest eigenvalue first. Its outputs are decorrelated patch
/// coordinates of unit variance, which lets a narrow network learn fast. The filters are a buffer (never trained);
/// the bias trains for the first <see cref="BiasEpochs"/> epochs and is frozen after.
/// </summary>
public sealed class PatchWhitening : nn.Module<Tensor, Tensor>, IImageInitialisedLayer, IEpochScheduledLayer
{
    private readonly Tensor weight;
    private readonly Parameter bias;
    private readonly Tensor initialised;

    /// <summary>Creates the layer for <paramref name="channels"/>-channel images and <paramref name="kernel"/>×<paramref name="kernel"/> patches.</summary>
    /// <param name="channels">Input channels.</param>
    /// <param name="kernel">Patch size (2 in airbench).</param>
    /// <param name="epsilon">Added to each eigenvalue before the square root (5·10⁻⁴ in airbench).</param>
    /// <param name="biasEpochs">Epochs in which the bias trains (3 in airbench).</param>
    public PatchWhitening(int channels, int kernel = 2, double epsilon = 5e-4, int biasEpochs = 3) : base(nameof(PatchWhitening))
    {
        Channels = channels;
        Kernel = kernel;
        Epsilon = epsilon;
        BiasEpochs = biasEpochs;
        int dims = channels * kernel * kernel;
        weight = zeros(2 * dims, channels, kernel, kernel);
        bias = new Parameter(zeros(2 * dims));
        initialised = zeros(1);
        register_buffer("weight", weight);
        register_buffer("initialised", initialised);
        register_parameter("bias", bias);
    }

    /// <summary>Input channels.</summary>
    public int Channels { get; }

    /// <summary>Patch size.</summary>
    public int Kernel { get; }

    /// <summary>ε added to each eigenvalue.</summary>
    public double Epsilon { get; }

    /// <summary>Epochs in which the bias trains.</summary>
    public int BiasEpochs { get; }

    /// <summary>Output channels: 2·C·k².</summary>
    public int OutputChannels => 2 * Channels * Kernel * Kernel;

    /// <summary>The filters (2·C·k², C, k, k), float32.</summary>
    public Tensor Weight => weight;

    /// <summary>The bias (2·C·k²).</summary>
    public Parameter Bias => bias;

    /// <inheritdoc/>
    public bool IsInitialised => initialised.item<float>() != 0;

    /// <inheritdoc/>
    public int ImagesWanted => 5000;

    /// <inheritdoc/>
    public void InitialiseFromImages(Tensor images)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var filters = WhiteningFilters(images, Kernel, Epsilon);
        weight.copy_(cat([filters, filters.neg()], 0));
        initialised.fill_(LongLivedScalars.One);
    }

    /// <summary>
    /// The C·k² whitening filters of <paramref name="images"/>' k×k patches (C·k², C, k, k), largest eigenvalue first:
    /// row i is the i-th eigenvector of Σ = (1/n)·Σ_p p pᵀ over every k×k patch p (stride 1, flattened channel, row,
    /// column), divided by √(λ_i + ε).
    /// </summary>
    public static Tensor WhiteningFilters(Tensor images, int kernel, double epsilon)
    {
        using var scope = NewDisposeScope();
        if (images.dim() != 4) throw new ArgumentException($"expected (N, C, H, W) images, got {images.dim()}-D", nameof(images));
        long c = images.shape[1];
        // (N, C, H', W', k, k) → (N·H'·W', C·k·k), each row one patch.
        var patches = images.to(ScalarType.Float64).unfold(2, kernel, 1).unfold(3, kernel, 1)
            .permute(0, 2, 3, 1, 4, 5).reshape(-1, c * kernel * kernel);
        var covariance = patches.t().matmul(patches).DividedBy(patches.shape[0]);
        var (values, vectors) = linalg.eigh(covariance);
        // eigh sorts ascending; columns are eigenvectors.
        var scaled = vectors.flip(1).t().div(values.flip(0).AtLeast(0).Plus(epsilon).sqrt().unsqueeze(1));
        return scaled.reshape(-1, c, kernel, kernel).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public void BeginEpoch(int epoch) => bias.requires_grad = epoch < BiasEpochs;

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        if (!IsInitialisedFast) throw new WinnowException("the patch-whitening layer was never initialised from training images (IImageInitialisedLayer)");
        return MixedConv2d.Convolve(x, weight, bias, stride: 1, padding: 0);
    }

    // Reading the flag through item() costs a native call per batch; once true it stays true.
    private bool knownInitialised;
    private bool IsInitialisedFast => knownInitialised || (knownInitialised = IsInitialised);
}

/// <summary>
/// airbench's conv group: 3×3 convolution (no bias), 2×2 max-pool, batch norm, GELU, 3×3 convolution, batch norm,
/// GELU. Batch norms have a fixed scale of 1 and a trained shift, ε = 10⁻¹², and weigh each batch by 0.4 in the running
/// statistics (airbench's "momentum 0.6"). Convolutions start from PyTorch's default initialisation with their first
/// C_in filters set to the identity (Dirac), so the group starts close to passing its input through.
/// </summary>
public sealed class PooledConvGroup : nn.Module<Tensor, Tensor>
{
    private readonly MixedConv2d conv1, conv2;
    private readonly KeepAliveBatchNorm2d norm1, norm2;

    /// <summary>Creates the group.</summary>
    public PooledConvGroup(int cin, int cout) : base(nameof(PooledConvGroup))
    {
        conv1 = new MixedConv2d(cin, cout, 3, 1, 1);
        norm1 = new KeepAliveBatchNorm2d(cout, momentum: 0.4, eps: 1e-12, trainScale: false);
        conv2 = new MixedConv2d(cout, cout, 3, 1, 1);
        norm2 = new KeepAliveBatchNorm2d(cout, momentum: 0.4, eps: 1e-12, trainScale: false);
        RegisterComponents();
        using var _ = no_grad();
        DiracPrefix(conv1.Weight);
        DiracPrefix(conv2.Weight);
    }

    private static void DiracPrefix(Tensor w)
    {
        long n = Math.Min(w.shape[0], w.shape[1]);
        using var scope = NewDisposeScope();
        var prefix = w.narrow(0, 0, n);
        prefix.zero_();
        long centre = w.shape[2] / 2;
        for (long i = 0; i < n; i++) prefix[i, i, centre, centre].fill_(LongLivedScalars.One);
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = F.gelu(norm1.forward(F.max_pool2d(conv1.forward(x), [2, 2])));
        if (training) h = F.gelu(norm2.forward(conv2.forward(h)));
        else h = F.gelu(conv2.ForwardFolded(h, norm2));
        return h.MoveToOuterDisposeScope();
    }
}

/// <summary>
/// The CPU-fast network for small colour photos, after airbench94 (Jordan 2024): a patch-whitening first layer
/// computed from the training images (<see cref="PatchWhitening"/>), GELU, three <see cref="PooledConvGroup"/>s
/// (64, 256, 256 channels by default) and a global max-pool, the features scaled by 1/9 (airbench's logit scale,
/// applied before the linear head). On 32×32 inputs the maps are 31, 15, 7 and 3 pixels wide; about 118 million
/// multiply-adds per image, a fifth of PreAct ResNet-18's.
/// </summary>
public sealed class WhitenedConvNetEncoder : Encoder
{
    private readonly PatchWhitening whitening;
    private readonly Sequential groups;
    private readonly string architecture;
    private readonly int featureDimension;

    /// <summary>The scale of the features (airbench's 1/9 on the logits).</summary>
    public const double FeatureScale = 1.0 / 9;

    /// <summary>Builds the encoder.</summary>
    /// <param name="architecture">Registered name.</param>
    /// <param name="inputChannels">Image channels.</param>
    /// <param name="widths">Channels of the three groups.</param>
    public WhitenedConvNetEncoder(string architecture, int inputChannels, int[] widths) : base(nameof(WhitenedConvNetEncoder))
    {
        this.architecture = architecture;
        whitening = new PatchWhitening(inputChannels);
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
        int cin = whitening.OutputChannels;
        for (int i = 0; i < widths.Length; i++)
        {
            layers.Add(($"group{i + 1}", new PooledConvGroup(cin, widths[i])));
            cin = widths[i];
        }
        groups = nn.Sequential(layers);
        featureDimension = cin;
        GroupCount = widths.Length;
        RegisterComponents();
    }

    /// <summary>Conv groups (each halves the map).</summary>
    public int GroupCount { get; }

    /// <summary>The first layer.</summary>
    public PatchWhitening Whitening => whitening;

    /// <inheritdoc/>
    public override int FeatureDimension => featureDimension;

    /// <inheritdoc/>
    public override string Architecture => architecture;

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return FeatureMap(x).flatten(1).MoveToOuterDisposeScope();
    }

    /// <summary>The globally max-pooled, scaled features as a (N, C, 1, 1) map, so that its average pool is <see cref="forward"/>.</summary>
    public override Tensor FeatureMap(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = groups.forward(F.gelu(whitening.forward(x)));
        return F.adaptive_max_pool2d(h, [1, 1]).mul(FeatureScaleScalar).MoveToOuterDisposeScope();
    }

    private static readonly Scalar FeatureScaleScalar = FeatureScale.ToScalar();

    /// <inheritdoc/>
    public override (int Channels, int Height, int Width) FeatureMapShape(int channels, int height, int width) => (featureDimension, 1, 1);
}

/// <summary>Finds the <see cref="IImageInitialisedLayer"/>s and <see cref="IEpochScheduledLayer"/>s of a network and calls them.</summary>
public static class DataDependentLayers
{
    /// <summary>
    /// Initialises every layer of <paramref name="network"/> that is not yet initialised from the images
    /// <paramref name="firstImages"/> returns for a count (the first ones of the training set, normalised, un-augmented);
    /// returns how many layers it initialised.
    /// </summary>
    public static int Initialise(nn.Module network, Func<int, Tensor> firstImages)
    {
        int done = 0;
        foreach (var layer in network.modules().OfType<IImageInitialisedLayer>())
        {
            if (layer.IsInitialised) continue;
            using var images = firstImages(layer.ImagesWanted);
            layer.InitialiseFromImages(images);
            done++;
        }
        return done;
    }

    /// <summary>Tells every <see cref="IEpochScheduledLayer"/> of <paramref name="network"/> that epoch <paramref name="epoch"/> (0-based) begins.</summary>
    public static void BeginEpoch(nn.Module network, int epoch)
    {
        foreach (var layer in network.modules().OfType<IEpochScheduledLayer>()) layer.BeginEpoch(epoch);
    }
}
