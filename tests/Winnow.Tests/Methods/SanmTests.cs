using Winnow.Analysis;
using Winnow.Runs;
using TorchSharp;
using Winnow.Methods;
using Winnow.Data;
using Winnow.Models;
using Winnow.Training;
using static TorchSharp.torch;

namespace Winnow.Tests.Methods;

public class SanmTests
{
    private const int Size = 28;

    /// <summary>
    /// Feature maps (N, 4, 4, 4) whose activation Σ_c F² is a(i, j) = 7 − i − j (peak at the top-left position, lowest
    /// at the bottom-right) for rows in <paramref name="peakTopLeft"/> and 1 + i + j (reversed) for the others.
    /// </summary>
    private static Tensor CornerMaps(params bool[] peakTopLeft)
    {
        var values = new float[peakTopLeft.Length * 4 * 16];
        for (int n = 0; n < peakTopLeft.Length; n++)
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++)
                    values[n * 64 + i * 4 + j] = MathF.Sqrt(peakTopLeft[n] ? 7 - i - j : 1 + i + j);
        return tensor(values, [peakTopLeft.Length, 4, 4, 4]);
    }

    /// <summary>The bounding box and count of the pixels of image <paramref name="n"/> that differ in any channel.</summary>
    private static (MaskBox Bounds, int Count) ChangedPixels(Tensor masked, Tensor original, int n)
    {
        bool[] changed = masked[n].ne(original[n]).any(0).data<bool>().ToArray();
        int top = int.MaxValue, left = int.MaxValue, bottom = -1, right = -1, count = 0;
        for (int p = 0; p < changed.Length; p++)
        {
            if (!changed[p]) continue;
            int r = p / Size, c = p % Size;
            count++;
            top = Math.Min(top, r);
            left = Math.Min(left, c);
            bottom = Math.Max(bottom, r);
            right = Math.Max(right, c);
        }
        return (new MaskBox(top, left, bottom - top + 1, right - left + 1), count);
    }

    [Fact]
    public void MaxBoxCoversTheMostActivatedCornerAndMinBoxTheLeast()
    {
        using var _ = NewDisposeScope();
        // Image 0 peaks top-left, image 1 bottom-right. Normalised pixels of −5 lie outside the fill range [0, 1), so
        // every masked pixel changes.
        var images = ones(2, 3, Size, Size).Times(-5f);
        var maps = CornerMaps(true, false);
        double[] qualities = [0.2, 0.9];
        var targets = ones(2, 10).Times(0.1f);

        // Bilinear resizing (align_corners false) of 4 → 28 reads source (d + 0.5)/7 − 0.5, clamped to [0, 3]: output
        // pixels 0–3 all equal source 0 and pixels 24–27 all equal source 3, so the first maximum of the top-left peak
        // is (0, 0) and its first minimum (24, 24); the reversed map swaps them.
        var (peaks, troughs) = AdversarialMasking.ActivationExtremes(maps, Size, Size);
        Assert.Equal([(0, 0), (24, 24)], peaks);
        Assert.Equal([(24, 24), (0, 0)], troughs);

        var masked = new AdversarialMasking().Apply(images, maps, tensor(qualities), targets, new Random(11));

        var replay = new Random(11);
        for (int n = 0; n < 2; n++)
        {
            double ratio = 0.02 + 0.05 * replay.NextDouble() + 0.03 * (1 - qualities[n]);
            double aspect = 0.8 + (1.25 - 0.8) * replay.NextDouble();
            for (int k = 0; k < 6; k++) replay.NextDouble();
            Assert.Equal(ratio, masked.Ratios[n], 12);
            var maxBox = masked.MaxBoxes[n];
            var minBox = masked.MinBoxes[n];
            Assert.Equal((int)Math.Round(Math.Sqrt(ratio * Size * Size * 0.5 * aspect)), maxBox.Height);
            Assert.Equal((int)Math.Round(Math.Sqrt(ratio * Size * Size * 0.5 / aspect)), maxBox.Width);
            Assert.Equal((maxBox.Height, maxBox.Width), (minBox.Height, minBox.Width));
            // About ρ/2 of the image (the official 0.5), within the rounding of both sides.
            double area = ratio / 2 * Size * Size;
            Assert.InRange(maxBox.Height * maxBox.Width, area - (maxBox.Height + maxBox.Width) / 2.0 - 1, area + (maxBox.Height + maxBox.Width) / 2.0 + 1);

            // The peak corner at (0, 0) places the box there; the corner at (24, 24) is moved back inside (r = H − h).
            var atOrigin = new MaskBox(0, 0, maxBox.Height, maxBox.Width);
            var atFarCorner = new MaskBox(Math.Min(24, Size - maxBox.Height), Math.Min(24, Size - maxBox.Width), maxBox.Height, maxBox.Width);
            Assert.Equal(n == 0 ? atOrigin : atFarCorner, maxBox);
            Assert.Equal(n == 0 ? atFarCorner : atOrigin, minBox);

            // Exactly the box's pixels changed (so everything outside is untouched), each channel to one value in [0, 1).
            Assert.Equal((maxBox, maxBox.Height * maxBox.Width), ChangedPixels(masked.MaxMasked, images, n));
            Assert.Equal((minBox, minBox.Height * minBox.Width), ChangedPixels(masked.MinMasked, images, n));
            for (int c = 0; c < 3; c++)
            {
                var region = masked.MaxMasked[n, c].narrow(0, maxBox.Top, maxBox.Height).narrow(1, maxBox.Left, maxBox.Width);
                Assert.Equal(region.min().item<float>(), region.max().item<float>());
                Assert.InRange(region.min().item<float>(), 0f, 1f);
            }

            // The max box holds the most activated pixel and none of the least; the boxes do not overlap.
            Assert.True(maxBox.Contains(peaks[n].Row, peaks[n].Column));
            Assert.False(maxBox.Contains(troughs[n].Row, troughs[n].Column));
            Assert.True(minBox.Contains(troughs[n].Row, troughs[n].Column));
            for (int r = 0; r < Size; r++)
                for (int c = 0; c < Size; c++)
                    Assert.False(maxBox.Contains(r, c) && minBox.Contains(r, c));
        }
        // The inputs are not changed.
        Assert.Equal(-5f, images.max().item<float>());
    }

    [Fact]
    public void ModulatedTargetMatchesTheHandComputedRow()
    {
        using var _ = NewDisposeScope();
        var images = zeros(1, 1, 8, 8);
        var maps = rand(1, 4, 2, 2);
        var soft = tensor(new float[] { 0.1f, 0.6f, 0.2f, 0.1f }, [1, 4]);
        var masked = new AdversarialMasking().Apply(images, maps, tensor(new[] { 0.5 }), soft, new Random(7));

        // ρ is the first draw: U(0.02, 0.07) + 0.03·(1 − 0.5).
        double ratio = 0.02 + 0.05 * new Random(7).NextDouble() + 0.03 * 0.5;
        Assert.Equal(ratio, masked.Ratios[0], 12);
        float[] expected = [(float)(0.1 + ratio / 3), (float)(0.6 - ratio), (float)(0.2 + ratio / 3), (float)(0.1 + ratio / 3)];
        float[] actual = masked.ModulatedTargets.data<float>().ToArray();
        for (int k = 0; k < 4; k++) Assert.Equal(expected[k], actual[k], 6);
        Assert.Equal(1f, actual.Sum(), 5);
        // The input targets are not changed.
        Assert.Equal(0.6f, soft[0, 1].item<float>());
    }

    [Fact]
    public void ConstantActivationPutsBothBoxesAtTheOrigin()
    {
        using var _ = NewDisposeScope();
        var images = ones(2, 1, Size, Size).Times(-5f);
        // A constant map and an all-zero map: every quantised value ties at 0, the first in row-major order wins.
        var maps = cat([ones(1, 8, 4, 4), zeros(1, 8, 4, 4)], 0);
        var quantised = AdversarialMasking.ActivationMaps(maps, Size, Size);
        Assert.Equal(0f, quantised.abs().max().item<float>());
        var masked = new AdversarialMasking().Apply(images, maps, tensor(new[] { 0.0, 1.0 }), ones(2, 3).Times(1f / 3), new Random(3));
        for (int n = 0; n < 2; n++)
        {
            var box = masked.MaxBoxes[n];
            Assert.Equal((0, 0), (box.Top, box.Left));
            Assert.Equal(box, masked.MinBoxes[n]);
            Assert.Equal((box, box.Height * box.Width), ChangedPixels(masked.MaxMasked, images, n));
            Assert.Equal((box, box.Height * box.Width), ChangedPixels(masked.MinMasked, images, n));
        }
        // Tied targets: the first class is the one lowered.
        float[] row = masked.ModulatedTargets[0].data<float>().ToArray();
        Assert.True(row[0] < row[1] && row[1] == row[2]);
    }

    [Fact]
    public void BoxAtTheLastPixelIsMovedBackInside()
    {
        using var _ = NewDisposeScope();
        // Activation zero everywhere but the bottom-right position of a 2×2 map: the resized peak is the bottom-right
        // block, the trough the top-left; a box at its first pixel would overflow and is moved to r = H − h.
        var maps = zeros(1, 1, 2, 2);
        maps[0, 0, 1, 1] = tensor(1f);
        var masked = new AdversarialMasking(new AdversarialMaskingOptions(MinimumRatio: 0.5, MaximumRatio: 0.5))
            .Apply(zeros(1, 3, 10, 10), maps, tensor(new[] { 1.0 }), tensor(new float[] { 1, 0 }, [1, 2]), new Random(1));
        var box = masked.MaxBoxes[0];
        Assert.Equal(10, box.Top + box.Height);
        Assert.Equal(10, box.Left + box.Width);
        Assert.Equal((0, 0), (masked.MinBoxes[0].Top, masked.MinBoxes[0].Left));
        // ρ = 0.5 on a one-hot two-class row: [0.5, 0.5].
        Assert.True(masked.ModulatedTargets.allclose(tensor(new float[] { 0.5f, 0.5f }, [1, 2])));
    }

    [Fact]
    public void ReconstructionLossFallsOnATinySet()
    {
        using var _ = NewDisposeScope();
        manual_seed(4);
        using var net = ModelFactory.CreateClassifier(ModelFactory.DefaultEncoder, 1, 10);
        using var decoder = ReconstructionDecoder.For(net.Encoder, (1, Size, Size));
        net.train();
        // Smooth images (upsampled 7×7 noise), so that a linear decoder from a 4×4 map can represent them.
        var images = nn.functional.interpolate(randn(8, 1, 7, 7), [Size, Size], mode: InterpolationMode.Bilinear, align_corners: false);
        MaskedBatch masked;
        using (no_grad())
            masked = new AdversarialMasking().Apply(images, net.FeatureMap(images), rand(8), ones(8, 10).Times(0.1f), new Random(2));
        using var optimizer = optim.Adam(net.parameters().Concat(decoder.parameters()), lr: 1e-3);
        var losses = new List<float>();
        for (int step = 0; step < 30; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var loss = SanmLosses.MaskedReconstruction(decoder, net.FeatureMap(cat([masked.MaxMasked, masked.MinMasked])), cat([images, images]));
            loss.backward();
            optimizer.step();
            losses.Add(loss.item<float>());
        }
        Assert.True(losses[^1] < losses[0] / 2, $"loss {losses[0]} → {losses[^1]}");
    }

    [Fact]
    public void ReconstructionLossIsTheSumOfBothViewsMeanSquaredErrors()
    {
        using var _ = NewDisposeScope();
        manual_seed(6);
        using var decoder = new ReconstructionDecoder((8, 4, 4), (1, Size, Size));
        var maxMaps = randn(2, 8, 4, 4);
        var minMaps = randn(2, 8, 4, 4);
        var clean = randn(2, 1, Size, Size);
        var loss = SanmLosses.MaskedReconstruction(decoder, cat([maxMaps, minMaps]), cat([clean, clean]));
        var maxError = decoder.forward(maxMaps).sub(clean);
        var minError = decoder.forward(minMaps).sub(clean);
        float expected = maxError.mul(maxError).mean().item<float>() + minError.mul(minError).mean().item<float>();
        Assert.Equal(expected, loss.item<float>(), 4);
        // One copy per image (the cheaper step) keeps the scale: twice its mean squared error.
        Assert.Equal(2 * maxError.mul(maxError).mean().item<float>(), SanmLosses.MaskedReconstruction(decoder, maxMaps, clean).item<float>(), 4);
    }
}

public class SanmTrainingTests
{
    private static readonly TrainingOptions Quick = new() { Epochs = 3, BatchSize = 32, LearningRate = 0.02, Precision = Precision.Float32, Seed = 1, Threads = 2 };

    private static RunManifest Manifest(SanmOptions? options = null) => new RunManifest
    {
        Method = "sanm", Noise = new NoiseSpec { Kind = NoiseKind.Symmetric, Rate = 0.5, IncludeTrueClass = false }, Training = Quick,
    }.WithMethodOptions((options ?? new SanmOptions()) with { DivideMix = new DivideMixOptions { WarmupEpochs = 1, LabeledBatchSize = 32 } });

    private static ITrainingMethod NewSanm(int seed, SanmOptions? options = null)
    {
        TrainingLoop.SeedForInitialisation(seed);
        return TrainingJob.CreateMethod(Manifest(options), 1, 4, imageSize: (16, 16));
    }

    [Fact]
    public void SanmLearnsAboveChanceAndResumesExactly()
    {
        var train = TestData.Bars(400, seed: 1);
        var test = TestData.Bars(100, seed: 2);
        var labels = Manifest().Noise.Create(train, trueLabelsKnown: true);
        var whole = new RunFolder(TestData.TempDir());
        using var a = NewSanm(1);
        Assert.Equal("sanm", a.Name);
        Assert.Contains(a.Networks, n => n.Name == "decoder1");
        var full = new TrainingLoop(Quick).Run(a, train, labels, test, whole, cancellation: TestContext.Current.CancellationToken);
        // Four classes, half the labels wrong: chance is 25%.
        Assert.True(full.Epochs[^1].TestAccuracy > 0.6, $"test accuracy {full.Epochs[^1].TestAccuracy}");
        // The masked epochs ran on a division that kept part of the set, neither none nor all of it (after one warm-up
        // epoch it is still rough: the division's quality is DivideMixTests', on the same shared code).
        Assert.InRange(full.Epochs[^1].Extra["labeled_1"], 40, 360);
        // The networks at the end of the one warm-up epoch are kept for the separability analysis.
        using (var warm = Checkpoint.Load(whole.WarmupCheckpoint))
            Assert.Contains("\"completedEpochs\":1", warm.MetadataJson.Replace(" ", ""), StringComparison.OrdinalIgnoreCase);

        // The same run, killed after its second epoch (the first with masking), resumed in a new method.
        var parts = new RunFolder(TestData.TempDir());
        using var kill = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var killAfterTwo = new Winnow.Tests.Training.SynchronousProgress(p => { if (p.Finished?.Epoch == 2) kill.Cancel(); });
        using (var b = NewSanm(1))
            Assert.Throws<OperationCanceledException>(() => new TrainingLoop(Quick).Run(b, train, labels, test, parts, progress: killAfterTwo, cancellation: kill.Token));
        using var c = NewSanm(99);
        using var checkpoint = Checkpoint.Load(parts.LastCheckpoint);
        Assert.Contains(checkpoint.Tensors.Keys, k => k.StartsWith("net.decoder2.", StringComparison.Ordinal));
        var resumed = new TrainingLoop(Quick).Run(c, train, labels, test, parts, checkpoint, cancellation: TestContext.Current.CancellationToken);
        Assert.Equal(full.Epochs.Select(e => e.TestAccuracy), resumed.Epochs.Select(e => e.TestAccuracy));
        Assert.Equal(full.Epochs[^1].TrainLoss, resumed.Epochs[^1].TrainLoss, 6);
        var wa = a.Networks.SelectMany(n => n.Network.parameters()).SelectMany(p => p.data<float>().ToArray()).ToArray();
        var wc = c.Networks.SelectMany(n => n.Network.parameters()).SelectMany(p => p.data<float>().ToArray()).ToArray();
        Assert.Equal(wa, wc);
    }
}
