using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Winnow.Models;

/// <summary>
/// DivideMix's pre-activation block (PreResNet.py): a = ReLU(BN1(x)); h = conv2(ReLU(BN2(conv1(a))));
/// out = h + shortcut, where the shortcut is a itself, or a 1×1 convolution of a when the shape changes.
/// Note that the identity shortcut adds the pre-activated a, not x (unlike He et al.), as the spec requires.
/// </summary>
public sealed class PreActBlock : nn.Module<Tensor, Tensor>
{
    private readonly KeepAliveBatchNorm2d bn1, bn2;
    private readonly MixedConv2d conv1, conv2;
    private readonly MixedConv2d? shortcut;

    /// <summary>Creates the block.</summary>
    public PreActBlock(long cin, long cout, long stride) : base(nameof(PreActBlock))
    {
        bn1 = new KeepAliveBatchNorm2d(cin);
        conv1 = new MixedConv2d(cin, cout, 3, stride, 1);
        bn2 = new KeepAliveBatchNorm2d(cout);
        conv2 = new MixedConv2d(cout, cout, 3, 1, 1);
        if (stride != 1 || cin != cout) shortcut = new MixedConv2d(cin, cout, 1, stride, 0);
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var a = F.relu(bn1.forward(x), inplace: !training);
        var shortPath = shortcut is null ? a : shortcut.forward(a);
        // Eval mode folds bn2 into conv1 (the same function, one pass over the activations fewer).
        var h = conv2.forward(training ? F.relu(bn2.forward(conv1.forward(a))) : F.relu(conv1.ForwardFolded(a, bn2), inplace: true));
        return h.add_(shortPath, LongLivedScalars.One).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// The standard (post-activation) basic block: out = ReLU(BN2(conv2(ReLU(BN1(conv1(x))))) + shortcut(x)), the
/// shortcut being x or a 1×1 convolution followed by batch norm when the shape changes.
/// </summary>
public sealed class BasicBlock : nn.Module<Tensor, Tensor>
{
    private readonly MixedConv2d conv1, conv2;
    private readonly KeepAliveBatchNorm2d bn1, bn2;
    private readonly MixedConv2d? shortcutConv;
    private readonly KeepAliveBatchNorm2d? shortcutBn;

    /// <summary>Creates the block.</summary>
    public BasicBlock(long cin, long cout, long stride) : base(nameof(BasicBlock))
    {
        conv1 = new MixedConv2d(cin, cout, 3, stride, 1);
        bn1 = new KeepAliveBatchNorm2d(cout);
        conv2 = new MixedConv2d(cout, cout, 3, 1, 1);
        bn2 = new KeepAliveBatchNorm2d(cout);
        if (stride != 1 || cin != cout)
        {
            shortcutConv = new MixedConv2d(cin, cout, 1, stride, 0);
            shortcutBn = new KeepAliveBatchNorm2d(cout);
        }
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        if (!training)
        {
            // Eval mode: every batch norm folded into the convolution before it.
            var hf = conv2.ForwardFolded(F.relu(conv1.ForwardFolded(x, bn1), inplace: true), bn2);
            var sf = shortcutConv is null ? x : shortcutConv.ForwardFolded(x, shortcutBn!);
            return F.relu(hf.add_(sf, LongLivedScalars.One), inplace: true).MoveToOuterDisposeScope();
        }
        var h = bn2.forward(conv2.forward(F.relu(bn1.forward(conv1.forward(x)))));
        var s = shortcutConv is null ? x : shortcutBn!.forward(shortcutConv.forward(x));
        return F.relu(h.add_(s, LongLivedScalars.One)).MoveToOuterDisposeScope();
    }
}

/// <summary>Which residual block a <see cref="ResNetEncoder"/> stacks.</summary>
public enum BlockKind
{
    /// <summary><see cref="PreActBlock"/> (DivideMix's PreAct ResNet).</summary>
    PreActivation,
    /// <summary><see cref="BasicBlock"/> (the standard CIFAR ResNet).</summary>
    Basic,
}

/// <summary>
/// A CIFAR-style residual encoder: a 3×3 stride-1 stem (conv, BN, ReLU; no max-pool), stages of residual blocks,
/// global average pooling. On 28×28 or 32×32 inputs with three stride-2 stages the last map is 4×4, so the global
/// pool equals DivideMix's avg_pool2d(4).
/// </summary>
public sealed class ResNetEncoder : Encoder
{
    private readonly MixedConv2d stem;
    private readonly KeepAliveBatchNorm2d stemBn;
    private readonly Sequential stages;
    private readonly int featureDimension;
    private readonly string architecture;
    private readonly int[] stageStrides;

    /// <summary>Builds the encoder.</summary>
    /// <param name="architecture">Registered name.</param>
    /// <param name="inputChannels">1 or 3.</param>
    /// <param name="stemWidth">Channels after the stem.</param>
    /// <param name="widths">Channels of each stage.</param>
    /// <param name="blocks">Blocks in each stage.</param>
    /// <param name="strides">Stride of each stage's first block.</param>
    /// <param name="kind">Block type.</param>
    public ResNetEncoder(string architecture, int inputChannels, int stemWidth, int[] widths, int[] blocks, int[] strides, BlockKind kind)
        : base(nameof(ResNetEncoder))
    {
        this.architecture = architecture;
        stageStrides = [.. strides];
        stem = new MixedConv2d(inputChannels, stemWidth, 3, 1, 1);
        stemBn = new KeepAliveBatchNorm2d(stemWidth);
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
        long cin = stemWidth;
        for (int s = 0; s < widths.Length; s++)
            for (int b = 0; b < blocks[s]; b++)
            {
                long stride = b == 0 ? strides[s] : 1;
                nn.Module<Tensor, Tensor> block = kind == BlockKind.PreActivation
                    ? new PreActBlock(cin, widths[s], stride)
                    : new BasicBlock(cin, widths[s], stride);
                layers.Add(($"stage{s + 1}_{b}", block));
                cin = widths[s];
            }
        stages = nn.Sequential(layers);
        featureDimension = widths[^1];
        RegisterComponents();
        if (kind == BlockKind.Basic) InitialiseLikeSupContrast();
    }

    /// <inheritdoc/>
    public override int FeatureDimension => featureDimension;

    /// <inheritdoc/>
    public override string Architecture => architecture;

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return F.adaptive_avg_pool2d(LastStage(x), [1, 1]).flatten(1).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public override Tensor FeatureMap(Tensor x)
    {
        using var scope = NewDisposeScope();
        return LastStage(x).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public override (int Channels, int Height, int Width) FeatureMapShape(int channels, int height, int width)
    {
        // The stem (3×3, stride 1, padding 1) keeps the size; each stage's first block (3×3, padding 1, and its 1×1
        // shortcut, padding 0) maps n to ⌊(n − 1)/s⌋ + 1.
        foreach (int s in stageStrides)
        {
            height = (height - 1) / s + 1;
            width = (width - 1) / s + 1;
        }
        return (featureDimension, height, width);
    }

    private Tensor LastStage(Tensor x)
    {
        var stemmed = training ? F.relu(stemBn.forward(stem.forward(x))) : F.relu(stem.ForwardFolded(x, stemBn), inplace: true);
        return stages.forward(stemmed);
    }

    private void InitialiseLikeSupContrast()
    {
        // C2D's SupCEResNet: Kaiming-normal (fan_out, ReLU) convolutions; batch-norm weight 1, bias 0.
        using var _ = no_grad();
        foreach (var (name, p) in named_parameters())
            if (p.dim() == 4) nn.init.kaiming_normal_(p, mode: nn.init.FanInOut.FanOut, nonlinearity: nn.init.NonlinearityType.ReLU);
    }
}

/// <summary>Creates encoders by name.</summary>
public static class ModelFactory
{
    /// <summary>The CPU default encoder.</summary>
    public const string DefaultEncoder = "compact-resnet";

    /// <summary>The registered encoder names with a one-line description.</summary>
    public static IReadOnlyDictionary<string, string> Encoders { get; } = new Dictionary<string, string>
    {
        [DefaultEncoder] = "CPU default: PreAct ResNet with one block per stage (24-48-96-192 channels), sized for 2 cores",
        ["preact-resnet18"] = "DivideMix's PreAct ResNet-18 (64-128-256-512, shortcut on the pre-activated input)",
        ["resnet18"] = "standard CIFAR ResNet-18 (post-activation), the backbone of C2D's checkpoints",
        [FastCnn] = "CPU-fast network for small photos (airbench94-style): a patch-whitening layer computed from the training images, conv groups of 64-256-256 channels with max-pooling",
    };

    /// <summary>The CPU-fast photo network (<see cref="WhitenedConvNetEncoder"/>).</summary>
    public const string FastCnn = "fast-cnn";

    /// <summary>Builds the named encoder for images with <paramref name="inputChannels"/> channels.</summary>
    public static Encoder CreateEncoder(string name, int inputChannels) => name switch
    {
        DefaultEncoder => new ResNetEncoder(name, inputChannels, 24, [48, 96, 192], [1, 1, 1], [2, 2, 2], BlockKind.PreActivation),
        "preact-resnet18" => new ResNetEncoder(name, inputChannels, 64, [64, 128, 256, 512], [2, 2, 2, 2], [1, 2, 2, 2], BlockKind.PreActivation),
        "resnet18" => new ResNetEncoder(name, inputChannels, 64, [64, 128, 256, 512], [2, 2, 2, 2], [1, 2, 2, 2], BlockKind.Basic),
        FastCnn => new WhitenedConvNetEncoder(name, inputChannels, [64, 256, 256]),
        _ => throw new WinnowException($"unknown model '{name}'; expected one of {string.Join(", ", Encoders.Keys)}"),
    };

    /// <summary>Builds the named encoder with a linear head for <paramref name="classCount"/> classes.</summary>
    public static Classifier CreateClassifier(string name, int inputChannels, int classCount) =>
        new(CreateEncoder(name, inputChannels), classCount);
}
