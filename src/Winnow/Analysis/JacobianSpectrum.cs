using System.Globalization;
using System.Text.Json;
using Winnow.Data;
using Winnow.Models;
using Winnow.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Winnow.Analysis;

/// <summary>What <see cref="JacobianSpectrum.Compute"/> measures.</summary>
public sealed record JacobianSpectrumOptions
{
    /// <summary>Training images in the Jacobian (1,000, as Xue et al.'s Table 4), a seeded subset.</summary>
    public int Samples { get; init; } = 1000;

    /// <summary>Seed of the subset.</summary>
    public int Seed { get; init; }

    /// <summary>Leading singular vectors whose span is the "information space" (10).</summary>
    public int TopVectors { get; init; } = 10;

    /// <summary>
    /// Memory for the two blocks of Jacobian rows held at once, in bytes; null: half the memory the process may use
    /// (12 GiB of 24). J itself rarely fits (1,000 images × 10 outputs × 0.7 M parameters are 28 GB in float32); with
    /// B blocks the rows are computed B(B+1)/2 times over, so less memory means more time.
    /// </summary>
    public long? BlockMemory { get; init; }
}

/// <summary>
/// The spectrum of a network's Jacobian J (nK × d: row (i, k) is ∂z_k(x_i)/∂W over all d parameters) and the labels'
/// projection on it (Xue et al., ICML 2022, §4.2 and Table 4; spec §2.3).
/// </summary>
/// <param name="Samples">Images n.</param>
/// <param name="Outputs">Outputs per image K.</param>
/// <param name="Parameters">Parameters d.</param>
/// <param name="SingularValues">Singular values of J, largest first (the square roots of J Jᵀ's eigenvalues).</param>
/// <param name="TopVectors">The k of the information space.</param>
/// <param name="ProjectionTop">‖Π_I(y)‖: the norm of the one-hot label vector y (nK) projected on the top-k left singular vectors.</param>
/// <param name="ProjectionRest">‖Π_N(y)‖: the norm of its projection on the rest.</param>
/// <param name="GramRatio">‖J Jᵀ y‖ / ‖J Jᵀ‖_F.</param>
/// <param name="LabelShares">(u_iᵀ y)² / ‖y‖² for the leading singular vectors u_i (at most 100).</param>
/// <param name="Seconds">Wall time.</param>
public sealed record JacobianSpectrumResult(int Samples, int Outputs, long Parameters, double[] SingularValues, int TopVectors,
    double ProjectionTop, double ProjectionRest, double GramRatio, double[] LabelShares, double Seconds)
{
    /// <summary>The JSON file <see cref="Write"/> writes.</summary>
    public const string JsonFile = "jacobian.json";

    /// <summary>One line for people.</summary>
    public string Summary => string.Create(CultureInfo.InvariantCulture,
        $"Jacobian of {Samples} images × {Outputs} outputs × {Parameters:N0} parameters: σ₁ {SingularValues[0]:G4}, σ₁₀ {SingularValues[Math.Min(9, SingularValues.Length - 1)]:G4}; ‖Π_I(y)‖ {ProjectionTop:F3}, ‖Π_N(y)‖ {ProjectionRest:F3}, ‖JJᵀy‖/‖JJᵀ‖_F {GramRatio:F3} ({Seconds:F0} s)");

    /// <summary>Writes <see cref="JsonFile"/> into <paramref name="folder"/>.</summary>
    public void Write(string folder)
    {
        Directory.CreateDirectory(folder);
        AtomicFile.WriteAllText(Path.Combine(folder, JsonFile), JsonSerializer.Serialize(this, RunFolder.Json) + "\n");
    }
}

/// <summary>
/// Computes <see cref="JacobianSpectrumResult"/> without forming J whole: J Jᵀ is accumulated from blocks of rows
/// (per image, one backward pass per output with the network in eval mode, so that images do not interact), two
/// blocks in memory at a time, and eigendecomposed in float64 by libtorch.
/// </summary>
public static class JacobianSpectrum
{
    /// <summary>
    /// The Jacobian spectrum of <paramref name="network"/> (as it is: at initialisation when it is new) on a seeded
    /// subset of <paramref name="images"/>, with the one-hot <paramref name="labels"/> (the noisy ones, as the paper's y).
    /// <paramref name="progress"/> gets the blocks of rows computed and the blocks to compute.
    /// </summary>
    public static JacobianSpectrumResult Compute(Classifier network, ImageDataset images, int[] labels, JacobianSpectrumOptions? options = null,
        IProgress<(int Done, int Total)>? progress = null, CancellationToken cancellation = default)
    {
        var o = options ?? new JacobianSpectrumOptions();
        if (labels.Length != images.Count) throw new ArgumentException($"{labels.Length} labels for {images.Count} images", nameof(labels));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var rows = RepresentationSpectrum.SubsetIndices(images.Count, o.Samples, o.Seed);
        int n = rows.Length, k = network.ClassCount;
        var parameters = network.parameters().Where(p => p.requires_grad).ToArray();
        long d = parameters.Sum(p => p.numel());
        int m = n * k;
        long memory = o.BlockMemory ?? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 2;
        int blockImages = (int)Math.Clamp(memory / 2 / (4L * k * d), 1, n);
        var blocks = Enumerable.Range(0, (n + blockImages - 1) / blockImages).Select(b => rows.Skip(b * blockImages).Take(blockImages).ToArray()).ToArray();
        int total = blocks.Length * (blocks.Length + 1) / 2, done = 0;
        network.eval();
        using var gram = zeros([m, m], ScalarType.Float64);
        var nnpack = Nnpack.SetEnabled(false); // per-image convolutions: see Nnpack
        try
        {
            for (int a = 0; a < blocks.Length; a++)
            {
                using var ja = BlockRows(network, parameters, images, labels, blocks[a], cancellation);
                progress?.Report((++done, total));
                Fill(gram, a * blockImages * k, a * blockImages * k, ja, ja);
                for (int b = a + 1; b < blocks.Length; b++)
                {
                    using var jb = BlockRows(network, parameters, images, labels, blocks[b], cancellation);
                    progress?.Report((++done, total));
                    Fill(gram, a * blockImages * k, b * blockImages * k, ja, jb);
                }
            }
        }
        finally
        {
            if (nnpack is { } previous) Nnpack.SetEnabled(previous);
        }

        using var scope = NewDisposeScope();
        var hot = new double[m];
        for (int i = 0; i < n; i++) hot[i * k + labels[rows[i]]] = 1;
        var y = tensor(hot, ScalarType.Float64);
        var (values, vectors) = linalg.eigh(gram);
        // eigh sorts ascending: flip to largest first.
        var eigen = values.flip(0).AtLeast(0);
        var u = vectors.flip(1);
        var singular = eigen.sqrt().data<double>().ToArray();
        int top = Math.Min(o.TopVectors, m);
        var coefficients = u.t().matmul(y);
        var squares = coefficients.mul(coefficients).data<double>().ToArray();
        double norm2 = hot.Sum();
        double inTop = squares.Take(top).Sum();
        double gramNorm = gram.mul(gram).sum().sqrt().item<double>();
        var gy = gram.matmul(y);
        double gyNorm = gy.mul(gy).sum().sqrt().item<double>();
        return new JacobianSpectrumResult(n, k, d, singular, top, Math.Sqrt(inTop), Math.Sqrt(Math.Max(0, norm2 - inTop)),
            gramNorm == 0 ? double.NaN : gyNorm / gramNorm, squares.Take(Math.Min(100, m)).Select(s => s / norm2).ToArray(), clock.Elapsed.TotalSeconds);
    }

    /// <summary>Writes J_a J_bᵀ into the Gram matrix at (rowA, rowB) and its transpose at (rowB, rowA).</summary>
    private static void Fill(Tensor gram, int rowA, int rowB, Tensor ja, Tensor jb)
    {
        using var scope = NewDisposeScope();
        var product = ja.matmul(jb.t()).to(ScalarType.Float64);
        gram.narrow(0, rowA, product.shape[0]).narrow(1, rowB, product.shape[1]).copy_(product);
        if (rowA != rowB) gram.narrow(0, rowB, product.shape[1]).narrow(1, rowA, product.shape[0]).copy_(product.t());
    }

    /// <summary>The Jacobian rows (images × K, d), float32, of the images <paramref name="block"/>: per image one forward pass, one backward per output.</summary>
    private static Tensor BlockRows(Classifier network, Parameter[] parameters, ImageDataset images, int[] labels, int[] block, CancellationToken cancellation)
    {
        int k = network.ClassCount;
        long d = parameters.Sum(p => p.numel());
        var result = empty([block.Length * k, d], ScalarType.Float32);
        var batch = BatchStream.Build(images, labels, block, [NormalizeOnly.Instance], new Random(0));
        using var scope = NewDisposeScope();
        var x = batch.MovePixelsToTensor();
        for (int i = 0; i < block.Length; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            using var sample = NewDisposeScope();
            var z = network.forward(x.narrow(0, i, 1));
            for (int c = 0; c < k; c++)
            {
                var grads = autograd.grad([z[0, c]], parameters, retain_graph: c < k - 1, allow_unused: true);
                long offset = 0;
                var row = result[i * k + c];
                for (int p = 0; p < parameters.Length; p++)
                {
                    long size = parameters[p].numel();
                    if (grads[p] is { } g && g.numel() == size) row.narrow(0, offset, size).copy_(g.reshape(-1).to(ScalarType.Float32));
                    else row.narrow(0, offset, size).zero_();
                    offset += size;
                }
            }
        }
        return result;
    }
}
