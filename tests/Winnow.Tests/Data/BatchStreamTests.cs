using Winnow.Data;

namespace Winnow.Tests.Data;

public class BatchStreamTests
{
    [Fact]
    public void BatchesFollowTheOrderAndKeepTheSmallLastBatch()
    {
        var data = TestData.Bars(10, size: 8);
        int[] order = [3, 1, 4, 0, 9, 2, 6];
        var batches = BatchStream.Create(data, data.Labels, order, 3, NormalizeOnly.Instance, seed: 0, cancellation: TestContext.Current.CancellationToken).ToList();
        Assert.Equal([3, 3, 1], batches.Select(b => b.Count));
        Assert.Equal(order, batches.SelectMany(b => b.Indices));
        Assert.Equal(order.Select(i => (long)data.Labels[i]), batches.SelectMany(b => b.Labels));
        // Image 4 is the third of the first batch: its 64 pixels, normalised with the dataset's mean and std.
        var expected = data.Image(4).ToArray().Select(p => (p / 255f - data.Normalization.Mean[0]) / data.Normalization.Std[0]);
        Assert.Equal(expected, batches[0].Pixels.Skip(2 * 64).Take(64), (a, b) => Math.Abs(a - b) < 1e-5);
        Assert.Equal(2, BatchStream.Create(data, data.Labels, order, 3, NormalizeOnly.Instance, seed: 0, dropLast: true, cancellation: TestContext.Current.CancellationToken).Count());
    }

    [Fact]
    public void TheSeedAloneFixesTheAugmentedPixels()
    {
        var data = TestData.Bars(20, size: 8);
        var order = Enumerable.Range(0, 20).ToArray();
        var crop = new RandomCropFlip(2);
        float[] Run(int seed) => BatchStream.Create(data, data.Labels, order, 8, [crop, crop], seed, cancellation: TestContext.Current.CancellationToken).SelectMany(b => b.Pixels.ToArray()).ToArray();
        Assert.Equal(Run(5), Run(5));
        Assert.NotEqual(Run(5), Run(6));
    }

    [Fact]
    public void PixelsMovedToATensorSurviveTheReuseOfTheirArray()
    {
        var data = TestData.Bars(6, size: 8);
        var batch = BatchStream.Build(data, data.Labels, new[] { 0, 1, 2 }, [NormalizeOnly.Instance, NormalizeOnly.Instance], new Random(0));
        var copy = batch.Pixels.ToArray();
        var pixels = batch.Pixels;
        using var t = batch.MovePixelsToTensor();
        Assert.Equal([6L, 1, 8, 8], t.shape);
        Assert.Same(pixels, PixelBufferPool.Rent(pixels.Length));
        Array.Fill(pixels, 7f);
        Assert.Equal(copy, t.data<float>().ToArray());
    }

    [Fact]
    public void ACancelledStreamThrowsInsteadOfEndingEarly()
    {
        var data = TestData.Bars(64);
        var order = Enumerable.Range(0, 64).ToArray();
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        // The producer may complete the queue before the consumer looks at the token: every try must still throw.
        for (int attempt = 0; attempt < 50; attempt++)
            Assert.ThrowsAny<OperationCanceledException>(() => BatchStream.Create(data, data.Labels, order, 8, NormalizeOnly.Instance, seed: 0, cancellation: cancelled.Token).Count());
    }
}

public class CropFlipTests
{
    private static readonly Normalization Identity = new([0f], [1f / 255f]);

    /// <summary>A 1×4 row 10, 20, 30, 40 (raw bytes; with mean 0 and std 1/255 the normalised value is the byte).</summary>
    private static float[] Crop(RandomCropFlip t, int seed, int index = -1)
    {
        var dst = new float[4];
        t.Apply(new byte[] { 10, 20, 30, 40 }, dst, 1, 1, 4, Identity, new Random(seed), index);
        return dst;
    }

    [Fact]
    public void ReflectPaddingMirrorsTheBorderWithoutRepeatingTheEdgePixel()
    {
        // Find seeds whose shift is -2 and +2 horizontally with no flip (the vertical shift of a 1-pixel-high image is
        // reflected back onto the row itself).
        var t = new RandomCropFlip(2, HorizontalFlip: false) { ReflectPadding = true };
        var seen = Enumerable.Range(0, 200).Select(s => Crop(t, s)).Select(v => string.Join(",", v)).Distinct().ToHashSet();
        Assert.Contains("30,20,10,20", seen);   // shifted right by 2: x = -2, -1 reflect to 2, 1
        Assert.Contains("30,40,30,20", seen);   // shifted left by 2: x = 4, 5 reflect to 2, 1
        Assert.Contains("10,20,30,40", seen);
        var zero = new RandomCropFlip(2, HorizontalFlip: false);
        Assert.Contains(Enumerable.Range(0, 200).Select(s => Crop(zero, s)), v => v.SequenceEqual([0f, 0f, 10f, 20f]));
    }

    [Fact]
    public void AlternatingFlipsShowEveryImageTheOtherWayEachEpoch()
    {
        for (int index = 0; index < 20; index++)
        {
            var even = Crop(new RandomCropFlip(0) { AlternatingFlipEpoch = 4, FlipSeed = 9 }, seed: index, index);
            var odd = Crop(new RandomCropFlip(0) { AlternatingFlipEpoch = 5, FlipSeed = 9 }, seed: index + 100, index);
            Assert.Equal(even.Reverse(), odd);
            bool flipped = RandomCropFlip.FirstFlip(9, index);
            Assert.Equal(flipped ? new float[] { 40, 30, 20, 10 } : [10, 20, 30, 40], even);
        }
        // The first-epoch coins are not all the same.
        Assert.InRange(Enumerable.Range(0, 200).Count(i => RandomCropFlip.FirstFlip(9, i)), 70, 130);
    }
}
