namespace Winnow.Data;

/// <summary>
/// The SimCLR view: random resized crop (scale 0.2–1, aspect ratio 3/4–4/3, bilinear back to the original size),
/// horizontal flip (p 0.5), colour jitter with probability 0.8 (brightness and contrast; saturation and hue too for
/// RGB images; the four in random order, as torchvision), random grayscale for RGB (p 0.2), optional Gaussian
/// blur, then normalisation. Defaults are SupContrast's CIFAR recipe, which C2D uses, except the crop scale, which
/// C2D takes from SupContrast (0.2) where Cheng et al.'s code keeps torchvision's 0.08.
/// </summary>
public sealed record SimClrAugmentation : IImageTransform
{
    /// <summary>Smallest crop area, as a fraction of the image.</summary>
    public double CropScaleMin { get; init; } = 0.2;

    /// <summary>Largest crop area, as a fraction of the image.</summary>
    public double CropScaleMax { get; init; } = 1.0;

    /// <summary>Probability of a horizontal flip.</summary>
    public double FlipProbability { get; init; } = 0.5;

    /// <summary>Probability of applying colour jitter.</summary>
    public double JitterProbability { get; init; } = 0.8;

    /// <summary>Brightness jitter: factor drawn from [1 − b, 1 + b].</summary>
    public double Brightness { get; init; } = 0.4;

    /// <summary>Contrast jitter: factor drawn from [1 − c, 1 + c].</summary>
    public double Contrast { get; init; } = 0.4;

    /// <summary>Saturation jitter (RGB only): factor drawn from [1 − s, 1 + s].</summary>
    public double Saturation { get; init; } = 0.4;

    /// <summary>Hue jitter (RGB only): shift drawn from [−h, h] turns of the colour wheel.</summary>
    public double Hue { get; init; } = 0.1;

    /// <summary>Probability of converting an RGB view to grey.</summary>
    public double GrayscaleProbability { get; init; } = 0.2;

    /// <summary>Probability of a Gaussian blur (kernel about a tenth of the image, sigma 0.1–2); 0 turns it off, as for CIFAR.</summary>
    public double BlurProbability { get; init; }

    [ThreadStatic] private static float[]? scratchA, scratchB;

    /// <inheritdoc/>
    public void Apply(ReadOnlySpan<byte> source, Span<float> destination, int channels, int height, int width, Normalization normalization, Random rng)
    {
        int plane = height * width, size = channels * plane;
        if (scratchA is null || scratchA.Length < size) { scratchA = new float[size]; scratchB = new float[size]; }
        var img = scratchA.AsSpan(0, size);
        var tmp = scratchB!.AsSpan(0, size);

        var (top, left, cropH, cropW) = CropBox(height, width, rng);
        bool flip = rng.NextDouble() < FlipProbability;
        ResizeCrop(source, img, channels, height, width, top, left, cropH, cropW, flip);

        if (rng.NextDouble() < JitterProbability)
        {
            Span<int> order = [0, 1, 2, 3];
            rng.Shuffle(order);
            double b = Factor(Brightness, rng), c = Factor(Contrast, rng);
            double s = channels == 3 ? Factor(Saturation, rng) : 1, h = channels == 3 ? (rng.NextDouble() * 2 - 1) * Hue : 0;
            foreach (int op in order)
            {
                switch (op)
                {
                    case 0: for (int i = 0; i < size; i++) img[i] = Clamp01(img[i] * (float)b); break;
                    case 1: AdjustContrast(img, channels, plane, (float)c); break;
                    case 2: if (channels == 3) AdjustSaturation(img, plane, (float)s); break;
                    case 3: if (channels == 3 && h != 0) ShiftHue(img, plane, (float)h); break;
                }
            }
        }
        if (channels == 3 && rng.NextDouble() < GrayscaleProbability)
            for (int p = 0; p < plane; p++) img[p] = img[plane + p] = img[2 * plane + p] = Luma(img, plane, p);
        if (BlurProbability > 0 && rng.NextDouble() < BlurProbability)
            Blur(img, tmp, channels, height, width, 0.1 + rng.NextDouble() * 1.9);

        for (int c = 0; c < channels; c++)
        {
            float mean = normalization.Mean[c], inv = 1f / normalization.Std[c];
            for (int p = 0; p < plane; p++) destination[c * plane + p] = (img[c * plane + p] - mean) * inv;
        }
    }

    private static double Factor(double strength, Random rng) => Math.Max(0, 1 - strength + rng.NextDouble() * 2 * strength);

    private static float Clamp01(float v) => v < 0 ? 0 : v > 1 ? 1 : v;

    private static float Luma(ReadOnlySpan<float> img, int plane, int p) => 0.299f * img[p] + 0.587f * img[plane + p] + 0.114f * img[2 * plane + p];

    /// <summary>torchvision's RandomResizedCrop.get_params: ten tries at a random area and aspect ratio, then a centre crop.</summary>
    private (int Top, int Left, int Height, int Width) CropBox(int height, int width, Random rng)
    {
        double area = height * width, logLo = Math.Log(3.0 / 4), logHi = Math.Log(4.0 / 3);
        for (int attempt = 0; attempt < 10; attempt++)
        {
            double target = area * (CropScaleMin + rng.NextDouble() * (CropScaleMax - CropScaleMin));
            double aspect = Math.Exp(logLo + rng.NextDouble() * (logHi - logLo));
            int w = (int)Math.Round(Math.Sqrt(target * aspect)), h = (int)Math.Round(Math.Sqrt(target / aspect));
            if (w > 0 && h > 0 && w <= width && h <= height)
                return (rng.Next(height - h + 1), rng.Next(width - w + 1), h, w);
        }
        return (0, 0, height, width);
    }

    /// <summary>Bilinear resize of the crop box back to height × width (half-pixel centres, as align_corners=False), scaled to [0, 1].</summary>
    private static void ResizeCrop(ReadOnlySpan<byte> src, Span<float> dst, int channels, int height, int width, int top, int left, int cropH, int cropW, bool flip)
    {
        int plane = height * width;
        float sy = (float)cropH / height, sx = (float)cropW / width;
        for (int y = 0; y < height; y++)
        {
            float fy = Math.Clamp((y + 0.5f) * sy - 0.5f, 0, cropH - 1);
            int y0 = (int)fy, y1 = Math.Min(y0 + 1, cropH - 1);
            float wy = fy - y0;
            for (int x = 0; x < width; x++)
            {
                int xs = flip ? width - 1 - x : x;
                float fx = Math.Clamp((xs + 0.5f) * sx - 0.5f, 0, cropW - 1);
                int x0 = (int)fx, x1 = Math.Min(x0 + 1, cropW - 1);
                float wx = fx - x0;
                for (int c = 0; c < channels; c++)
                {
                    int b = c * plane;
                    float a00 = src[b + (top + y0) * width + left + x0], a01 = src[b + (top + y0) * width + left + x1];
                    float a10 = src[b + (top + y1) * width + left + x0], a11 = src[b + (top + y1) * width + left + x1];
                    float v = (a00 * (1 - wx) + a01 * wx) * (1 - wy) + (a10 * (1 - wx) + a11 * wx) * wy;
                    dst[b + y * width + x] = v / 255f;
                }
            }
        }
    }

    /// <summary>Blends with the mean grey level of the image (torchvision's adjust_contrast).</summary>
    private static void AdjustContrast(Span<float> img, int channels, int plane, float factor)
    {
        double sum = 0;
        for (int p = 0; p < plane; p++) sum += channels == 3 ? Luma(img, plane, p) : img[p];
        float mean = (float)(sum / plane);
        for (int i = 0; i < channels * plane; i++) img[i] = Clamp01((img[i] - mean) * factor + mean);
    }

    /// <summary>Blends each pixel with its own grey level (torchvision's adjust_saturation).</summary>
    private static void AdjustSaturation(Span<float> img, int plane, float factor)
    {
        for (int p = 0; p < plane; p++)
        {
            float g = Luma(img, plane, p);
            for (int c = 0; c < 3; c++) img[c * plane + p] = Clamp01((img[c * plane + p] - g) * factor + g);
        }
    }

    /// <summary>Rotates the hue by <paramref name="shift"/> turns, through HSV.</summary>
    private static void ShiftHue(Span<float> img, int plane, float shift)
    {
        for (int p = 0; p < plane; p++)
        {
            float r = img[p], g = img[plane + p], b = img[2 * plane + p];
            float max = Math.Max(r, Math.Max(g, b)), min = Math.Min(r, Math.Min(g, b)), d = max - min;
            if (d <= 0) continue;
            float h = max == r ? (g - b) / d : max == g ? 2 + (b - r) / d : 4 + (r - g) / d;
            h = h / 6 + shift;
            h -= MathF.Floor(h);
            float s = d / max, v = max;
            float hh = h * 6;
            int sector = (int)hh % 6;
            float f = hh - MathF.Floor(hh), pv = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
            (r, g, b) = sector switch { 0 => (v, t, pv), 1 => (q, v, pv), 2 => (pv, v, t), 3 => (pv, q, v), 4 => (t, pv, v), _ => (v, pv, q) };
            img[p] = r; img[plane + p] = g; img[2 * plane + p] = b;
        }
    }

    /// <summary>Separable Gaussian blur with reflected borders; kernel size about a tenth of the image, odd.</summary>
    private static void Blur(Span<float> img, Span<float> tmp, int channels, int height, int width, double sigma)
    {
        int radius = Math.Max(1, Math.Min(height, width) / 20);
        Span<float> k = stackalloc float[2 * radius + 1];
        float total = 0;
        for (int i = -radius; i <= radius; i++) total += k[i + radius] = (float)Math.Exp(-i * i / (2 * sigma * sigma));
        for (int i = 0; i < k.Length; i++) k[i] /= total;
        int plane = height * width;
        static int Reflect(int i, int n) => i < 0 ? -i : i >= n ? 2 * n - 2 - i : i;
        for (int c = 0; c < channels; c++)
        {
            var src = img.Slice(c * plane, plane);
            var mid = tmp.Slice(c * plane, plane);
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                {
                    float acc = 0;
                    for (int i = -radius; i <= radius; i++) acc += k[i + radius] * src[y * width + Reflect(x + i, width)];
                    mid[y * width + x] = acc;
                }
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                {
                    float acc = 0;
                    for (int i = -radius; i <= radius; i++) acc += k[i + radius] * mid[Reflect(y + i, height) * width + x];
                    src[y * width + x] = acc;
                }
        }
    }
}
