using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Winnow.Data;

/// <summary>
/// One mini-batch as plain arrays: normalised pixels, labels and sample indices. With several views per image the
/// pixels hold view 0 of every image, then view 1 of every image, and so on (views × batch × C × H × W floats).
/// </summary>
/// <param name="Pixels">The normalised images, one after the other, view by view.</param>
/// <param name="Labels">The label of each image (the training labels, possibly noisy).</param>
/// <param name="Indices">Each image's index in the dataset.</param>
/// <param name="Channels">Channels per image.</param>
/// <param name="Height">Image height.</param>
/// <param name="Width">Image width.</param>
/// <param name="Views">Views per image.</param>
public sealed record HostBatch(float[] Pixels, long[] Labels, int[] Indices, int Channels, int Height, int Width, int Views = 1)
{
    /// <summary>Images in the batch.</summary>
    public int Count => Indices.Length;

    /// <summary>
    /// The pixels as a new float32 tensor of shape (views × count, C, H, W), copied straight into native memory; the
    /// pixel array then goes back to <see cref="PixelBufferPool"/>, so <see cref="Pixels"/> must not be read afterwards.
    /// Unlike <c>torch.tensor(float[])</c>, which clones the array into a second pinned managed copy, this allocates
    /// nothing on the managed heap: fewer garbage collections during training, and so fewer chances for TorchSharp
    /// 0.107's finaliser race on temporary Scalars (see Models/ScalarArithmetic.cs, LongLivedScalars).
    /// </summary>
    public Tensor MovePixelsToTensor()
    {
        var t = empty([(long)Views * Count, Channels, Height, Width], ScalarType.Float32);
        t.bytes = MemoryMarshal.AsBytes(Pixels.AsSpan());
        PixelBufferPool.Return(Pixels);
        return t;
    }
}

/// <summary>
/// Reuses the pixel arrays of batches (a few hundred kilobytes each, so they would land on the large-object heap) by
/// exact length. Every <see cref="IImageTransform"/> writes all of its destination, so a reused array needs no clearing.
/// </summary>
public static class PixelBufferPool
{
    private const int KeptPerLength = 16;
    private static readonly ConcurrentDictionary<int, ConcurrentBag<float[]>> free = new();

    /// <summary>An array of exactly <paramref name="length"/> floats, reused when one is free (contents undefined).</summary>
    public static float[] Rent(int length) =>
        free.TryGetValue(length, out var bag) && bag.TryTake(out var array) ? array : new float[length];

    /// <summary>Hands <paramref name="array"/> back; the caller must not use it afterwards.</summary>
    public static void Return(float[] array)
    {
        var bag = free.GetOrAdd(array.Length, _ => []);
        if (bag.Count < KeptPerLength) bag.Add(array);
    }
}

/// <summary>
/// Produces mini-batches on a background thread, a few batches ahead of the model, so that decoding and
/// augmentation never leave the model waiting. The order and the augmentation are fixed by the seed alone.
/// </summary>
public static class BatchStream
{
    /// <summary>
    /// Batches of <paramref name="dataset"/> in the given order. <paramref name="transform"/> is applied to each image
    /// with a generator seeded by <paramref name="seed"/>; the last, smaller batch is kept unless <paramref name="dropLast"/>.
    /// </summary>
    public static IEnumerable<HostBatch> Create(ImageDataset dataset, int[] labels, int[] order, int batchSize,
        IImageTransform transform, int seed, bool dropLast = false, int prefetch = 3, CancellationToken cancellation = default) =>
        Create(dataset, labels, order, batchSize, [transform], seed, dropLast, prefetch, cancellation);

    /// <summary>
    /// Batches in which every image appears once per transform in <paramref name="views"/> (for example two random
    /// SimCLR views, or a weak and two strong views). All randomness comes from one generator seeded by <paramref name="seed"/>.
    /// </summary>
    public static IEnumerable<HostBatch> Create(ImageDataset dataset, int[] labels, int[] order, int batchSize,
        IReadOnlyList<IImageTransform> views, int seed, bool dropLast = false, int prefetch = 3, CancellationToken cancellation = default)
    {
        if (views.Count == 0) throw new ArgumentException("at least one view is needed", nameof(views));
        int batches = dropLast ? order.Length / batchSize : (order.Length + batchSize - 1) / batchSize;
        if (batches == 0) yield break;
        using var queue = new BlockingCollection<HostBatch>(prefetch);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        Exception? failure = null;
        var producer = Task.Factory.StartNew(() =>
        {
            try
            {
                var rng = new Random(seed);
                for (int b = 0; b < batches; b++)
                {
                    int start = b * batchSize, count = Math.Min(batchSize, order.Length - start);
                    queue.Add(Build(dataset, labels, order.AsSpan(start, count), views, rng), stop.Token);
                }
            }
            catch (OperationCanceledException) { }
            catch (Exception e) { failure = e; }
            finally { queue.CompleteAdding(); }
        }, TaskCreationOptions.LongRunning);
        try
        {
            foreach (var batch in queue.GetConsumingEnumerable(cancellation)) yield return batch;
            // A cancelled producer completes the queue early: the stream must not then look finished.
            cancellation.ThrowIfCancellationRequested();
            if (failure is not null) throw new WinnowException("preparing a batch failed: " + failure.Message, failure);
        }
        finally
        {
            stop.Cancel();
            try { producer.Wait(); } catch (AggregateException) { }
        }
    }

    /// <summary>Builds one batch on the calling thread: image by image, each view in turn.</summary>
    public static HostBatch Build(ImageDataset dataset, int[] labels, ReadOnlySpan<int> indices, IReadOnlyList<IImageTransform> views, Random rng)
    {
        int size = dataset.ImageSize, n = indices.Length;
        var pixels = PixelBufferPool.Rent(views.Count * n * size);
        var y = new long[n];
        var idx = indices.ToArray();
        for (int i = 0; i < n; i++)
        {
            for (int v = 0; v < views.Count; v++)
                views[v].Apply(dataset.Image(idx[i]), pixels.AsSpan((v * n + i) * size, size), dataset.Channels, dataset.Height, dataset.Width, dataset.Normalization, rng, idx[i]);
            y[i] = labels[idx[i]];
        }
        return new HostBatch(pixels, y, idx, dataset.Channels, dataset.Height, dataset.Width, views.Count);
    }

    /// <summary>The indices 0..n−1 shuffled by a generator seeded with <paramref name="seed"/>.</summary>
    public static int[] Shuffled(int n, int seed)
    {
        var order = Enumerable.Range(0, n).ToArray();
        new Random(seed).Shuffle(order);
        return order;
    }
}
