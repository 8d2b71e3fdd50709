using Winnow.Models;
using static TorchSharp.torch;

namespace Winnow.Training;

/// <summary>
/// The weighted k-nearest-neighbour classifier that SimCLR codes use to monitor feature quality: cosine similarity
/// between L2-normalised features; each of the k nearest training samples votes for its label with weight
/// exp(similarity / t); the class with the largest vote wins.
/// </summary>
public static class KnnClassifier
{
    /// <summary>Predicted class of every query row.</summary>
    /// <param name="bank">Training features (N, d).</param>
    /// <param name="bankLabels">Their labels.</param>
    /// <param name="classCount">Number of classes.</param>
    /// <param name="queries">Query features (M, d).</param>
    /// <param name="k">Neighbours (capped at N).</param>
    /// <param name="temperature">Weight temperature t.</param>
    public static int[] Predict(Tensor bank, int[] bankLabels, int classCount, Tensor queries, int k, double temperature)
    {
        if (bank.shape[0] != bankLabels.Length) throw new ArgumentException($"{bank.shape[0]} bank rows but {bankLabels.Length} labels");
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), "k must be at least 1");
        k = (int)Math.Min(k, bank.shape[0]);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var b = nn.functional.normalize(bank.to(ScalarType.Float32), dim: 1);
        var q = nn.functional.normalize(queries.to(ScalarType.Float32), dim: 1);
        var labels = tensor(bankLabels.Select(l => (long)l).ToArray());
        var predicted = new int[queries.shape[0]];
        const int block = 512;
        for (long start = 0; start < q.shape[0]; start += block)
        {
            using var inner = NewDisposeScope();
            long rows = Math.Min(block, q.shape[0] - start);
            var sim = q.narrow(0, start, rows).matmul(b.t());
            var (top, idx) = sim.topk(k, dim: 1);
            var weights = top.DividedBy(temperature).exp();
            var votes = zeros(rows, classCount).scatter_add_(1, labels[idx], weights);
            var am = votes.argmax(1).data<long>().ToArray();
            for (int i = 0; i < am.Length; i++) predicted[start + i] = (int)am[i];
        }
        return predicted;
    }

    /// <summary>Accuracy of <see cref="Predict"/> against the queries' labels.</summary>
    public static double Accuracy(Tensor bank, int[] bankLabels, int classCount, Tensor queries, int[] queryLabels, int k = 200, double temperature = 0.5)
    {
        var predicted = Predict(bank, bankLabels, classCount, queries, k, temperature);
        return predicted.Length == 0 ? double.NaN : (double)predicted.Where((p, i) => p == queryLabels[i]).Count() / predicted.Length;
    }
}
