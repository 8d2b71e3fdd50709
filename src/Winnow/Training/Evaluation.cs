using Winnow.Data;
using Winnow.Detection;
using static TorchSharp.torch;

namespace Winnow.Training;

/// <summary>Predictions of a model on a whole dataset (un-augmented, eval mode).</summary>
/// <param name="Probabilities">Softmax probabilities, row-major (N × classes).</param>
/// <param name="Predicted">Arg-max class per sample.</param>
/// <param name="ClassCount">Number of classes.</param>
public sealed record DatasetPredictions(float[] Probabilities, int[] Predicted, int ClassCount)
{
    /// <summary>Samples.</summary>
    public int Count => Predicted.Length;

    /// <summary>Fraction of samples whose prediction equals <paramref name="labels"/>.</summary>
    public double Accuracy(int[] labels)
    {
        int hit = 0;
        for (int i = 0; i < Count; i++) if (Predicted[i] == labels[i]) hit++;
        return Count == 0 ? double.NaN : (double)hit / Count;
    }

    /// <summary>Per-sample cross-entropy −log p(label), from the stored probabilities.</summary>
    public double[] Losses(int[] labels) => CleanProbability.CrossEntropyLosses(labels, Probabilities, ClassCount);
}

/// <summary>Runs a model over a dataset in batches.</summary>
public static class Evaluation
{
    /// <summary>Images per inference batch.</summary>
    public const int DefaultBatchSize = 256;

    /// <summary>The features of every sample of <paramref name="dataset"/> (un-augmented), as one (N, d) float32 tensor.</summary>
    public static Tensor FeatureMatrix(Func<Tensor, Tensor> features, ImageDataset dataset, int batchSize = DefaultBatchSize, CancellationToken cancellation = default)
    {
        var parts = MapBatches(features, dataset, batchSize, cancellation);
        try
        {
            var matrix = cat(parts, 0);
            using (var finiteRows = matrix.isfinite().all(1))
                if (!finiteRows.all().item<bool>())
                {
                    long row = finiteRows.logical_not().nonzero()[0, 0].item<long>();
                    matrix.Dispose();
                    throw new NonFiniteValueException($"the features of image {row} of {dataset.Name} are not finite");
                }
            return matrix;
        }
        finally
        {
            foreach (var p in parts) p.Dispose();
        }
    }

    /// <summary>Predicts every sample of <paramref name="dataset"/> with <paramref name="logits"/> (called under no-grad).</summary>
    public static DatasetPredictions Predict(Func<Tensor, Tensor> logits, ImageDataset dataset, int batchSize = DefaultBatchSize, CancellationToken cancellation = default) =>
        FromLogits(Logits(logits, dataset, batchSize, cancellation), dataset.ClassCount);

    /// <summary>
    /// The float32 logits of every sample of <paramref name="dataset"/> (un-augmented, in dataset order), row-major
    /// N × classes; <paramref name="logits"/> is called under no-grad.
    /// </summary>
    public static float[] Logits(Func<Tensor, Tensor> logits, ImageDataset dataset, int batchSize = DefaultBatchSize, CancellationToken cancellation = default)
    {
        int n = dataset.Count, c = dataset.ClassCount;
        var values = new float[(long)n * c];
        var parts = MapBatches(logits, dataset, batchSize, cancellation);
        try
        {
            long offset = 0;
            for (int b = 0; b < parts.Length; b++)
            {
                var arr = parts[b].data<float>().ToArray();
                int images = (int)Math.Min(batchSize, n - (long)b * batchSize);
                if (arr.Length != images * c)
                    throw new InvalidOperationException($"the model gave {arr.Length} logits for {images} images of {c} classes");
                int bad = Array.FindIndex(arr, v => !float.IsFinite(v));
                if (bad >= 0)
                    throw new NonFiniteValueException($"the model's output for image {(long)b * batchSize + bad / c} of {dataset.Name} is {arr[bad]}");
                Array.Copy(arr, 0, values, offset, arr.Length);
                offset += arr.Length;
            }
        }
        finally
        {
            foreach (var p in parts) p.Dispose();
        }
        return values;
    }

    /// <summary>
    /// <paramref name="map"/> applied under no-grad to every batch of the un-augmented <paramref name="dataset"/> in
    /// order; each result float32 and contiguous. The batches are shared among as many worker threads as torch has
    /// intra-op threads, each running its batches with one: small convolutions use two cores at about 80% efficiency
    /// within one batch, and fully with one batch per core.
    /// </summary>
    private static Tensor[] MapBatches(Func<Tensor, Tensor> map, ImageDataset dataset, int batchSize, CancellationToken cancellation)
    {
        var order = Enumerable.Range(0, dataset.Count).ToArray();
        var results = new Tensor?[(dataset.Count + batchSize - 1) / batchSize];
        // One worker per torch thread, at most 8: each holds a batch's activations.
        int workers = Math.Max(1, Math.Min(Math.Min(get_num_threads(), 8), results.Length));
        using var source = BatchStream.Create(dataset, dataset.Labels, order, batchSize, NormalizeOnly.Instance, 0, cancellation: cancellation).GetEnumerator();
        var gate = new object();
        Exception? failure = null;
        void Work(int threads)
        {
            try
            {
                set_num_threads(threads);
            }
            catch (Exception e)
            {
                lock (gate) failure ??= e;
                return;
            }
            using var _ = no_grad();
            while (true)
            {
                try
                {
                    HostBatch batch;
                    lock (gate)
                    {
                        // MoveNext throws when the run is cancelled or a batch cannot be made: kept as the failure below.
                        if (failure is not null || !source.MoveNext()) return;
                        batch = source.Current;
                    }
                    using var scope = NewDisposeScope();
                    var x = batch.MovePixelsToTensor();
                    results[batch.Indices[0] / batchSize] = map(x).to(ScalarType.Float32).contiguous().DetachFromDisposeScope();
                }
                catch (Exception e)
                {
                    lock (gate) failure ??= e;
                    return;
                }
            }
        }
        int mainThreads = get_num_threads();
        try
        {
            if (workers == 1) Work(mainThreads);
            else
            {
                var threads = Enumerable.Range(0, workers).Select(_ => new Thread(() => Work(1))).ToArray();
                foreach (var t in threads) t.Start();
                foreach (var t in threads) t.Join();
            }
        }
        finally
        {
            set_num_threads(mainThreads);
        }
        if (failure is not null)
        {
            foreach (var r in results) r?.Dispose();
            if (failure is OperationCanceledException oce) throw new OperationCanceledException(oce.Message, oce, cancellation);
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        }
        return results.Select(r => r!).ToArray();
    }

    /// <summary>Softmax probabilities and arg-max classes of row-major logits with <paramref name="classCount"/> columns.</summary>
    public static DatasetPredictions FromLogits(float[] logits, int classCount)
    {
        if (classCount <= 0 || logits.Length % classCount != 0)
            throw new ArgumentException($"{logits.Length} logits do not split into rows of {classCount} classes", nameof(logits));
        int n = logits.Length / classCount;
        using var scope = NewDisposeScope();
        var p = nn.functional.softmax(tensor(logits).view(n, classCount), 1).contiguous();
        var predicted = p.argmax(1).data<long>().ToArray().Select(v => (int)v).ToArray();
        return new DatasetPredictions(p.data<float>().ToArray(), predicted, classCount);
    }
}
