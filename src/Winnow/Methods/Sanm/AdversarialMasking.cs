using TorchSharp;
using Winnow.Models;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Winnow.Methods;

/// <summary>A masked box: its top-left pixel and size.</summary>
/// <param name="Top">Row of the top-left pixel.</param>
/// <param name="Left">Column of the top-left pixel.</param>
/// <param name="Height">Rows covered.</param>
/// <param name="Width">Columns covered.</param>
public readonly record struct MaskBox(int Top, int Left, int Height, int Width)
{
    /// <summary>Whether the pixel (row, column) lies in the box.</summary>
    public bool Contains(int row, int column) => row >= Top && row < Top + Height && column >= Left && column < Left + Width;
}

/// <summary>
/// A batch after SANM's adversarial masking: the two masked views, the modulated targets, and per image the boxes and
/// the mask ratio ρ.
/// </summary>
/// <param name="MaxMasked">Images (N, C, H, W) with a box at the most activated position.</param>
/// <param name="MinMasked">Images (N, C, H, W) with a box of the same size at the least activated position.</param>
/// <param name="ModulatedTargets">Soft targets (N, K), float32: the top class lowered by ρ, the others raised by ρ/(K − 1).</param>
/// <param name="MaxBoxes">The box of each image in <paramref name="MaxMasked"/>.</param>
/// <param name="MinBoxes">The box of each image in <paramref name="MinMasked"/>.</param>
/// <param name="Ratios">ρ of each image.</param>
public sealed record MaskedBatch(Tensor MaxMasked, Tensor MinMasked, Tensor ModulatedTargets, MaskBox[] MaxBoxes, MaskBox[] MinBoxes, double[] Ratios);

/// <summary>
/// The mask ratio's parameters: ρ = U(<paramref name="MinimumRatio"/>, <paramref name="MaximumRatio"/>) +
/// <paramref name="QualityCoefficient"/>·(1 − w), aspect ratio U(<paramref name="AspectRatio"/>, 1/<paramref name="AspectRatio"/>).
/// The defaults are the official CIFAR script's (the coefficient as of its January 2024 commits); its Clothing1M
/// script draws U(0.06, 0.13).
/// </summary>
/// <param name="MinimumRatio">Lower end of the uniform part of ρ.</param>
/// <param name="MaximumRatio">Upper end of the uniform part of ρ.</param>
/// <param name="QualityCoefficient">Weight of 1 − w (a noisier label gets a larger box and a softer target).</param>
/// <param name="AspectRatio">Lower end of the box's aspect ratio (height/width); the upper is its inverse.</param>
public sealed record AdversarialMaskingOptions(double MinimumRatio = 0.02, double MaximumRatio = 0.07, double QualityCoefficient = 0.03, double AspectRatio = 0.8);

/// <summary>
/// SANM's label-quality-guided adversarial masking (Tu et al., CVPR 2023; spec §3.3–3.4). For each image, the
/// activation a = Σ_c F² of its last feature map, L2-normalised over positions, bilinearly resized to the image size
/// and quantised to 0–255 gives two positions: the first maximum and the first minimum in row-major order. A box of
/// about ρ/2 of the image, ρ growing as the label quality w falls, is filled there with one U(0, 1) value per
/// channel, giving a max-masked and a min-masked view; the soft target's top class loses ρ and the others share it.
/// A transform only: no loss, no gradient (it runs under no_grad on detached inputs). All randomness comes from the
/// given <see cref="Random"/>: per image, in order, the uniform part of ρ, the aspect ratio, the max view's C fill
/// values, the min view's C fill values (the official script's order).
/// </summary>
public sealed class AdversarialMasking
{
    /// <summary>Creates the transform with <paramref name="options"/> (the CIFAR defaults when null).</summary>
    public AdversarialMasking(AdversarialMaskingOptions? options = null)
    {
        Options = options ?? new AdversarialMaskingOptions();
        if (!(Options.MinimumRatio >= 0 && Options.MaximumRatio >= Options.MinimumRatio && Options.MaximumRatio <= 1))
            throw new WinnowException($"sanm: --mask-ratio-min and --mask-ratio-max must satisfy 0 <= min <= max <= 1, got {Options.MinimumRatio} and {Options.MaximumRatio}");
        if (!(Options.QualityCoefficient >= 0)) throw new WinnowException($"sanm: --mask-quality-weight must be non-negative, got {Options.QualityCoefficient}");
        if (Options.AspectRatio is not (> 0 and <= 1)) throw new WinnowException($"sanm: the mask's aspect ratio must be in (0, 1], got {Options.AspectRatio}");
    }

    /// <summary>The options.</summary>
    public AdversarialMaskingOptions Options { get; }

    /// <summary>
    /// Masks a batch. <paramref name="images"/> (N, C, H, W) are the normalised images, <paramref name="featureMaps"/>
    /// (N, C_f, h, w) their encoder's last feature maps, <paramref name="labelQualities"/> (N) the clean probabilities
    /// w in [0, 1], <paramref name="softTargets"/> (N, K) rows summing to 1. The outputs are new tensors in the
    /// caller's dispose scope; the inputs are not changed.
    /// </summary>
    public MaskedBatch Apply(Tensor images, Tensor featureMaps, Tensor labelQualities, Tensor softTargets, Random random)
    {
        if (images.dim() != 4) throw new ArgumentException("images must be (N, C, H, W)", nameof(images));
        long n = images.shape[0];
        if (featureMaps.dim() != 4 || featureMaps.shape[0] != n) throw new ArgumentException("feature maps must be (N, C_f, h, w) for the N images", nameof(featureMaps));
        if (labelQualities.numel() != n) throw new ArgumentException("one label quality per image", nameof(labelQualities));
        if (softTargets.dim() != 2 || softTargets.shape[0] != n || softTargets.shape[1] < 2)
            throw new ArgumentException("soft targets must be (N, K) with K ≥ 2", nameof(softTargets));
        int channels = (int)images.shape[1], height = (int)images.shape[2], width = (int)images.shape[3];

        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var (peaks, troughs) = ActivationExtremes(featureMaps.detach(), height, width);
        double[] qualities = labelQualities.detach().to(ScalarType.Float64).cpu().contiguous().data<double>().ToArray();
        var ratios = new double[n];
        var maxBoxes = new MaskBox[n];
        var minBoxes = new MaskBox[n];
        var maxFills = new float[n * channels];
        var minFills = new float[n * channels];
        for (int j = 0; j < n; j++)
        {
            ratios[j] = Uniform(random, Options.MinimumRatio, Options.MaximumRatio) + Options.QualityCoefficient * (1 - qualities[j]);
            double aspect = Uniform(random, Options.AspectRatio, 1 / Options.AspectRatio);
            var (boxHeight, boxWidth) = BoxSize(ratios[j], aspect, height, width);
            maxBoxes[j] = PlaceBox(peaks[j], boxHeight, boxWidth, height, width);
            minBoxes[j] = PlaceBox(troughs[j], boxHeight, boxWidth, height, width);
            for (int c = 0; c < channels; c++) maxFills[j * channels + c] = (float)random.NextDouble();
            for (int c = 0; c < channels; c++) minFills[j * channels + c] = (float)random.NextDouble();
        }
        var source = images.detach();
        var maxMasked = FillBoxes(source, maxBoxes, maxFills);
        var minMasked = FillBoxes(source, minBoxes, minFills);
        var modulated = ModulateTargets(softTargets.detach(), ratios);
        return new MaskedBatch(maxMasked.MoveToOuterDisposeScope(), minMasked.MoveToOuterDisposeScope(),
            modulated.MoveToOuterDisposeScope(), maxBoxes, minBoxes, ratios);
    }

    /// <summary>
    /// The quantised activation maps (N, H, W), float32 with integer values 0–255: a = Σ_c F², L2-normalised over the
    /// h·w positions (eps 1e-12), bilinearly resized to H×W (align_corners false; OpenCV's resize in the official code
    /// differs slightly at the borders), min-max rescaled to 0–255 (eps 1e-12) and floored. Computed in float64, and
    /// floored after adding 1e-6: the min-max rescaling magnifies the resize's rounding (a constant map's float32
    /// ripples of 1e-8 over the 1e-12 eps became values up to 254), and pixels of a plateau that should tie at 255
    /// came out at 254.99999; neither may decide where a box goes.
    /// </summary>
    public static Tensor ActivationMaps(Tensor featureMaps, int height, int width)
    {
        using var scope = NewDisposeScope();
        var maps = featureMaps.detach().to(ScalarType.Float64);
        long n = maps.shape[0];
        var activation = maps.mul(maps).sum(1).reshape(n, -1);
        var normalised = activation.div(activation.mul(activation).sum(1, keepdim: true).sqrt().AtLeast(1e-12));
        var resized = F.interpolate(normalised.reshape(n, 1, maps.shape[2], maps.shape[3]), [height, width],
            mode: InterpolationMode.Bilinear, align_corners: false).reshape(n, -1);
        var low = resized.amin([1], keepdim: true);
        var range = resized.amax([1], keepdim: true).sub(low).Plus(1e-12);
        var quantised = resized.sub(low).div(range).Times(255).Plus(1e-6).floor();
        return quantised.reshape(n, height, width).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Per image, the (row, column) of the first maximum and of the first minimum of its <see cref="ActivationMaps"/>
    /// in row-major order (numpy's argmax and argmin, as the official code uses).
    /// </summary>
    public static ((int Row, int Column)[] Peaks, (int Row, int Column)[] Troughs) ActivationExtremes(Tensor featureMaps, int height, int width)
    {
        using var scope = NewDisposeScope();
        float[] values = ActivationMaps(featureMaps, height, width).cpu().contiguous().data<float>().ToArray();
        int n = values.Length / (height * width), size = height * width;
        var peaks = new (int, int)[n];
        var troughs = new (int, int)[n];
        for (int j = 0; j < n; j++)
        {
            int best = 0, worst = 0;
            for (int p = 1; p < size; p++)
            {
                float v = values[j * size + p];
                if (v > values[j * size + best]) best = p;
                if (v < values[j * size + worst]) worst = p;
            }
            peaks[j] = (best / width, best % width);
            troughs[j] = (worst / width, worst % width);
        }
        return (peaks, troughs);
    }

    /// <summary>
    /// The box's (height, width) for ratio ρ and aspect ratio r on an H×W image: round(√(ρ·H·W·0.5·r)) and
    /// round(√(ρ·H·W·0.5/r)), rounding half to even as Python's round does, each between 1 and the image's side.
    /// </summary>
    public static (int Height, int Width) BoxSize(double ratio, double aspect, int height, int width)
    {
        // The official code's factor 0.5: the box covers about ρ/2 of the image, not ρ.
        double area = ratio * height * width * 0.5;
        int boxHeight = (int)Math.Round(Math.Sqrt(area * aspect), MidpointRounding.ToEven);
        int boxWidth = (int)Math.Round(Math.Sqrt(area / aspect), MidpointRounding.ToEven);
        return (Math.Clamp(boxHeight, 1, height), Math.Clamp(boxWidth, 1, width));
    }

    /// <summary>
    /// The soft targets with each row's top class (first maximum) lowered by its ρ and every other class raised by
    /// ρ/(K − 1): rows keep their sum (no clamping, as in the official code: a top entry below ρ turns negative).
    /// </summary>
    public static Tensor ModulateTargets(Tensor softTargets, IReadOnlyList<double> ratios)
    {
        using var scope = NewDisposeScope();
        var targets = softTargets.detach().to(ScalarType.Float32);
        long classes = targets.shape[1];
        var ratio = tensor(ratios.Select(r => (float)r).ToArray(), [ratios.Count, 1]);
        var top = F.one_hot(targets.argmax(1), classes).to(ScalarType.Float32);
        var share = ratio.DividedBy(classes - 1);
        // t + ρ/(K − 1) on every class, then − (ρ + ρ/(K − 1)) on the top one.
        return targets.Plus(share).sub(top.mul(ratio.Plus(share))).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Copies of <paramref name="images"/> with box j of image j set to fill value [j·C + c] in channel c. The values
    /// are written into the already normalised tensor, as the official code does (they are not normalised).
    /// </summary>
    public static Tensor FillBoxes(Tensor images, IReadOnlyList<MaskBox> boxes, float[] fills)
    {
        using var scope = NewDisposeScope();
        long n = images.shape[0], channels = images.shape[1], height = images.shape[2], width = images.shape[3];
        // Index ranges built from arrays: arange takes temporary Scalars.
        var rows = tensor(Enumerable.Range(0, (int)height).Select(i => (long)i).ToArray()).view(1, 1, height, 1);
        var columns = tensor(Enumerable.Range(0, (int)width).Select(i => (long)i).ToArray()).view(1, 1, 1, width);
        var top = tensor(boxes.Select(b => (long)b.Top).ToArray()).view(n, 1, 1, 1);
        var bottom = tensor(boxes.Select(b => (long)(b.Top + b.Height)).ToArray()).view(n, 1, 1, 1);
        var left = tensor(boxes.Select(b => (long)b.Left).ToArray()).view(n, 1, 1, 1);
        var right = tensor(boxes.Select(b => (long)(b.Left + b.Width)).ToArray()).view(n, 1, 1, 1);
        var inside = rows.ge(top).logical_and(rows.lt(bottom)).logical_and(columns.ge(left)).logical_and(columns.lt(right));
        var values = tensor(fills, [n, channels, 1, 1]).to(images.dtype).to(images.device);
        return where(inside.to(images.device), values, images).MoveToOuterDisposeScope();
    }

    /// <summary>The box of the given size with its top-left at <paramref name="corner"/>, moved up or left to fit inside the image.</summary>
    private static MaskBox PlaceBox((int Row, int Column) corner, int boxHeight, int boxWidth, int height, int width) =>
        new(Math.Min(corner.Row, height - boxHeight), Math.Min(corner.Column, width - boxWidth), boxHeight, boxWidth);

    /// <summary>U(a, b) as Python's random.uniform: a + (b − a)·U(0, 1).</summary>
    private static double Uniform(Random random, double low, double high) => low + (high - low) * random.NextDouble();
}
