using System.Globalization;
using System.Text;
using System.Text.Json;
using Winnow.Data;
using Winnow.Models;
using Winnow.Training;
using static TorchSharp.torch;

namespace Winnow.Analysis;

/// <summary>What <see cref="RepresentationSpectrum"/> does to the feature rows before the decomposition.</summary>
public enum FeaturePreprocessing
{
    /// <summary>
    /// Each feature (column) minus its mean over the samples. The common mean of the features, which in raw features
    /// is a singular direction of its own (usually the largest: ReLU features share a large positive mean), goes, and
    /// the K class means span K − 1 directions instead of K; so well separated classes show K − 1 prominent values
    /// rather than K. The left singular vectors become orthogonal to the all-ones vector, so the alignment with one-hot
    /// labels can reach at most 1 − Σ_j π_j² (π_j the share of class j; 0.9 for 10 balanced classes), which the result
    /// reports as <see cref="SpectrumAlignment.UpperBound"/>.
    /// </summary>
    MeanCentred,

    /// <summary>
    /// Each sample (row) divided by its Euclidean length (a zero row stays zero), as SimCLR's loss sees its
    /// projections: every sample weighs the same, the squared singular values sum to the number of non-zero rows, and
    /// the mean is kept (as in <see cref="Raw"/>).
    /// </summary>
    L2Normalised,

    /// <summary>The features as given, the setting of the paper's theory (the spectral-loss F is neither centred nor normalised).</summary>
    Raw,
}

/// <summary>Options of <see cref="RepresentationSpectrum"/>.</summary>
public sealed record RepresentationSpectrumOptions
{
    /// <summary>What is done to the features first (mean-centred unless told; the result states it).</summary>
    public FeaturePreprocessing Preprocessing { get; init; } = FeaturePreprocessing.MeanCentred;

    /// <summary>
    /// At most this many samples, drawn without replacement with <see cref="Seed"/> (<see cref="RepresentationSpectrum.SubsetIndices"/>),
    /// for machines where every sample's features do not fit; null for every sample. The result states the subset.
    /// </summary>
    public int? MaxSamples { get; init; }

    /// <summary>Seed of the subset draw (used only when <see cref="MaxSamples"/> leaves samples out).</summary>
    public int Seed { get; init; }

    /// <summary>Rows per block of the Gram matrix's accumulation (memory: this many rows × features doubles).</summary>
    public int BatchSize { get; init; } = 4096;
}

/// <summary>How one label vector lines up with the left singular vectors u₁, u₂, … of the features (Xue et al. 2022, §4).</summary>
/// <param name="PerVector">
/// For each singular vector in order (index 0 is u₁), Σ_j (uᵢᵀ y_j)² / n, with y_j the indicator column of class j:
/// the share of the label matrix's squared norm (n) that uᵢ carries. Zero for singular values counted as zero.
/// One value per feature; they sum to <see cref="AllVectors"/>.
/// </param>
/// <param name="AtClassCount">‖U_K U_Kᵀ Y‖²_F / n, the first K vectors (K the class count): the paper's alignment.</param>
/// <param name="AtProminentCount">The same for the first <see cref="SpectrumResult.ProminentCount"/> vectors.</param>
/// <param name="AllVectors">The same for every vector of non-zero singular value: what the features' span holds of the labels.</param>
/// <param name="UpperBound">
/// The most any number of vectors can reach after the preprocessing: 1 − Σ_j π_j² when mean-centred (the vectors are
/// orthogonal to the all-ones vector), else 1.
/// </param>
public sealed record SpectrumAlignment(double[] PerVector, double AtClassCount, double AtProminentCount, double AllVectors, double UpperBound)
{
    /// <summary>‖U_k U_kᵀ Y‖²_F / n for the first <paramref name="k"/> vectors (0 for k = 0; all vectors beyond the last).</summary>
    public double Cumulative(int k)
    {
        double sum = 0;
        for (int i = 0; i < Math.Min(k, PerVector.Length); i++) sum += PerVector[i];
        return sum;
    }
}

/// <summary>
/// The singular-value spectrum of a feature matrix and its alignment with labels (<see cref="RepresentationSpectrum.Compute(float[], int, int[], int, int[], RepresentationSpectrumOptions, CancellationToken)"/>).
/// </summary>
/// <param name="SampleCount">The rows decomposed (n).</param>
/// <param name="TotalSampleCount">The rows given; more than <see cref="SampleCount"/> when a subset was drawn.</param>
/// <param name="SubsetSeed">The seed of the subset draw; null when every row was used.</param>
/// <param name="FeatureCount">The features per row (p).</param>
/// <param name="ClassCount">The class count (K).</param>
/// <param name="Preprocessing">What was done to the features first.</param>
/// <param name="SingularValues">All p singular values, largest first; those counted as zero are exactly 0.</param>
/// <param name="Rank">How many singular values are not zero (above 10·√(p·ε)·s₁, below which the Gram matrix's values are rounding).</param>
/// <param name="ProminentCount">
/// The count of prominent singular values: the index i (1-based) of the largest ratio sᵢ / sᵢ₊₁ among the first
/// <see cref="GapSearchCount"/> values (the first such i on ties). 0 when every value is zero.
/// </param>
/// <param name="GapRatio">That largest ratio s_c / s_{c+1} (c = <see cref="ProminentCount"/>); +∞ when s_{c+1} is zero; NaN when there is no ratio.</param>
/// <param name="GapSearchCount">min(p, 4K): how many leading values the gap is looked for in.</param>
/// <param name="Noisy">The alignment with the given (possibly noisy) labels.</param>
/// <param name="Clean">The alignment with the clean labels, where they are known.</param>
public sealed record SpectrumResult(
    int SampleCount, int TotalSampleCount, int? SubsetSeed, int FeatureCount, int ClassCount, FeaturePreprocessing Preprocessing,
    double[] SingularValues, int Rank, int ProminentCount, double GapRatio, int GapSearchCount, SpectrumAlignment Noisy, SpectrumAlignment? Clean)
{
    /// <summary>The name of the JSON file <see cref="Write"/> writes.</summary>
    public const string JsonFile = "spectrum.json";

    /// <summary>The name of the singular-value CSV file <see cref="Write"/> writes.</summary>
    public const string SingularValuesFile = "singular_values.csv";

    /// <summary>The name of the alignment CSV file <see cref="Write"/> writes.</summary>
    public const string AlignmentFile = "alignment.csv";

    /// <summary>One line for people: samples, preprocessing, the prominent count and gap, the alignments at K.</summary>
    public string Summary
    {
        get
        {
            var ci = CultureInfo.InvariantCulture;
            string samples = SubsetSeed is { } seed
                ? string.Create(ci, $"{SampleCount} of {TotalSampleCount} samples (seed {seed})")
                : string.Create(ci, $"{SampleCount} samples");
            string alignment = Clean is { } clean
                ? string.Create(ci, $"alignment@{ClassCount} {clean.AtClassCount:0.000} with the clean labels, {Noisy.AtClassCount:0.000} with the noisy ones")
                : string.Create(ci, $"alignment@{ClassCount} {Noisy.AtClassCount:0.000} with the given labels");
            return string.Create(ci,
                $"{samples}, {FeatureCount} features, {PreprocessingName(Preprocessing)}: {ProminentCount} prominent singular value{(ProminentCount == 1 ? "" : "s")} (gap ratio {FormatRatio(GapRatio)}), {alignment} (at most {(Clean ?? Noisy).UpperBound:0.000})");
        }
    }

    /// <summary>Singular values normalised by the largest (sᵢ / s₁; all 0 when every value is 0).</summary>
    public double[] NormalisedSingularValues() =>
        SingularValues.Select(s => SingularValues[0] > 0 ? s / SingularValues[0] : 0).ToArray();

    /// <summary>The result as indented JSON (camel-case names, as every Winnow file).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, RunFolder.Json) + "\n";

    /// <summary>index (1-based), value, normalised_value (sᵢ / s₁): one row per singular value.</summary>
    public string SingularValuesCsv()
    {
        var ci = CultureInfo.InvariantCulture;
        var normalised = NormalisedSingularValues();
        var sb = new StringBuilder("index,value,normalised_value\n");
        for (int i = 0; i < SingularValues.Length; i++)
            sb.Append(i + 1).Append(',').Append(SingularValues[i].ToString("R", ci)).Append(',').Append(normalised[i].ToString("R", ci)).Append('\n');
        return sb.ToString();
    }

    /// <summary>
    /// index (1-based), singular_value, clean_alignment, noisy_alignment: each vector's Σ_j (uᵢᵀ y_j)² / n; the clean
    /// column is empty when the clean labels are unknown.
    /// </summary>
    public string AlignmentCsv()
    {
        var ci = CultureInfo.InvariantCulture;
        var sb = new StringBuilder("index,singular_value,clean_alignment,noisy_alignment\n");
        for (int i = 0; i < SingularValues.Length; i++)
            sb.Append(i + 1).Append(',').Append(SingularValues[i].ToString("R", ci)).Append(',')
              .Append(Clean?.PerVector[i].ToString("R", ci)).Append(',').Append(Noisy.PerVector[i].ToString("R", ci)).Append('\n');
        return sb.ToString();
    }

    /// <summary>Writes <see cref="JsonFile"/>, <see cref="SingularValuesFile"/> and <see cref="AlignmentFile"/> into <paramref name="folder"/>, each atomically.</summary>
    public void Write(string folder)
    {
        AtomicFile.WriteAllText(Path.Combine(folder, JsonFile), ToJson());
        AtomicFile.WriteAllText(Path.Combine(folder, SingularValuesFile), SingularValuesCsv());
        AtomicFile.WriteAllText(Path.Combine(folder, AlignmentFile), AlignmentCsv());
    }

    /// <summary>The preprocessing as the files and the report name it: mean-centred, l2-normalised or raw.</summary>
    public static string PreprocessingName(FeaturePreprocessing preprocessing) => preprocessing switch
    {
        FeaturePreprocessing.MeanCentred => "mean-centred",
        FeaturePreprocessing.L2Normalised => "l2-normalised",
        _ => "raw",
    };

    /// <summary>A gap ratio for people: two decimals, ∞, or – for none.</summary>
    public static string FormatRatio(double ratio) =>
        double.IsNaN(ratio) ? "–" : double.IsPositiveInfinity(ratio) ? "∞" : ratio.ToString("0.00", CultureInfo.InvariantCulture);
}

/// <summary>
/// The representation spectrum of Xue, Whitecross and Mirzasoleiman (ICML 2022, §4): the singular values of a feature
/// matrix F (n samples × p features, e.g. an encoder's features of the un-augmented training images), how many stand
/// out before a gap (the paper expects about one per sub-class), and how much of the one-hot label matrix Y the
/// leading left singular vectors span, ‖U_k U_kᵀ Y‖²_F / n, with the clean labels and with the noisy ones.
/// Plain functions: features and labels in, a <see cref="SpectrumResult"/> out.
/// </summary>
public static class RepresentationSpectrum
{
    /// <summary>Decomposes the features of <paramref name="labels"/>' samples, with its noisy labels and, where known, its true ones.</summary>
    /// <param name="features">The feature matrix, n × p, row i the features of sample i (any float dtype).</param>
    /// <param name="labels">The samples' labels.</param>
    /// <param name="options">Preprocessing and subset.</param>
    /// <param name="cancellation">Checked between blocks of rows.</param>
    public static SpectrumResult Compute(Tensor features, NoisyLabelSet labels, RepresentationSpectrumOptions? options = null, CancellationToken cancellation = default) =>
        Compute(features, labels.Noisy, labels.ClassCount, labels.True, options, cancellation);

    /// <summary>Decomposes an n × p feature tensor (copied to the CPU as float32).</summary>
    /// <inheritdoc cref="Compute(float[], int, int[], int, int[], RepresentationSpectrumOptions, CancellationToken)"/>
    public static SpectrumResult Compute(Tensor features, int[] noisyLabels, int classCount, int[]? cleanLabels = null,
        RepresentationSpectrumOptions? options = null, CancellationToken cancellation = default)
    {
        if (features.dim() != 2) throw new ArgumentException($"the features must be a matrix (samples × features), not of shape [{string.Join(", ", features.shape)}]", nameof(features));
        int p = (int)features.shape[1];
        float[] values;
        using (var scope = NewDisposeScope())
            values = features.detach().cpu().to(ScalarType.Float32).contiguous().data<float>().ToArray();
        return Compute(values, p, noisyLabels, classCount, cleanLabels, options, cancellation);
    }

    /// <summary>Decomposes a feature matrix and measures its alignment with the labels.</summary>
    /// <param name="features">The feature matrix, row-major: n rows of <paramref name="featureCount"/> values.</param>
    /// <param name="featureCount">p, the features per row.</param>
    /// <param name="noisyLabels">The given (possibly noisy) label of each row, in [0, K).</param>
    /// <param name="classCount">K, at least 2.</param>
    /// <param name="cleanLabels">The clean label of each row, where known.</param>
    /// <param name="options">Preprocessing and subset.</param>
    /// <param name="cancellation">Checked between blocks of rows.</param>
    /// <exception cref="ArgumentException">Empty features, a length that is not n × p, a label count other than n, a label outside [0, K), K &lt; 2, a non-finite feature.</exception>
    public static SpectrumResult Compute(float[] features, int featureCount, int[] noisyLabels, int classCount, int[]? cleanLabels = null,
        RepresentationSpectrumOptions? options = null, CancellationToken cancellation = default)
    {
        options ??= new RepresentationSpectrumOptions();
        int p = featureCount;
        if (p < 1) throw new ArgumentException($"the feature count must be at least 1, not {p}", nameof(featureCount));
        if (features.Length == 0) throw new ArgumentException("the feature matrix is empty", nameof(features));
        if (features.Length % p != 0) throw new ArgumentException($"{features.Length} feature values are not a whole number of rows of {p}", nameof(features));
        if (classCount < 2) throw new ArgumentException($"the class count must be at least 2, not {classCount}", nameof(classCount));
        if (options.BatchSize < 1) throw new ArgumentException($"the batch size must be at least 1, not {options.BatchSize}", nameof(options));
        if (options.MaxSamples is < 1) throw new ArgumentException($"the most samples must be at least 1, not {options.MaxSamples}", nameof(options));
        int total = features.Length / p;
        CheckLabels(noisyLabels, total, classCount, nameof(noisyLabels));
        if (cleanLabels is not null) CheckLabels(cleanLabels, total, classCount, nameof(cleanLabels));

        int[]? subset = options.MaxSamples is { } max && max < total ? SubsetIndices(total, max, options.Seed) : null;
        int[] rows = subset ?? Enumerable.Range(0, total).ToArray();
        int n = rows.Length;
        for (int r = 0; r < n; r++)
            for (int f = 0; f < p; f++)
                if (!float.IsFinite(features[(long)rows[r] * p + f])) throw new ArgumentException($"feature {f} of row {rows[r]} is not finite", nameof(features));

        double[] mean = new double[p];
        if (options.Preprocessing == FeaturePreprocessing.MeanCentred)
        {
            foreach (int row in rows)
                for (int f = 0; f < p; f++) mean[f] += features[(long)row * p + f];
            for (int f = 0; f < p; f++) mean[f] /= n;
        }

        // Why the Gram matrix: FᵀF (p × p, p ≤ 512) accumulated in double by libtorch's BLAS costs n·p² (16 GFLOP at
        // n = 60,000, p = 512: seconds) with one block of rows in memory at a time, then a p × p symmetric eigensolve;
        // a thin SVD of F would hold all n × p doubles (and U) and cost about twice the flops. Squaring the condition
        // number only blurs singular values below about √(p·ε)·s₁ ≈ 1e-7·s₁, far below anything the gap or the
        // alignment uses; and U is never formed, since uᵢᵀY = vᵢᵀ(FᵀY) / sᵢ. The eigensolve is MathNet's managed one
        // (0.4 s at p = 512): libtorch's linalg.eigh took 3–7 s on two cores busy with training (its threads wait on
        // each other) against 0.1 s on one, and the thread count is the process's, not this function's to change.
        double[] gramValues;
        var featuresByClassNoisy = new double[p * classCount];
        var featuresByClassClean = cleanLabels is null ? null : new double[p * classCount];
        using (var gram = zeros(p, p, ScalarType.Float64))
        {
            for (int start = 0; start < n; start += options.BatchSize)
            {
                cancellation.ThrowIfCancellationRequested();
                int count = Math.Min(options.BatchSize, n - start);
                var block = new double[count * p];
                for (int r = 0; r < count; r++)
                {
                    int row = rows[start + r];
                    long from = (long)row * p;
                    double scale = 1;
                    if (options.Preprocessing == FeaturePreprocessing.L2Normalised)
                    {
                        double squared = 0;
                        for (int f = 0; f < p; f++) squared += (double)features[from + f] * features[from + f];
                        scale = squared > 0 ? 1 / Math.Sqrt(squared) : 0;
                    }
                    int noisy = noisyLabels[row], clean = cleanLabels?[row] ?? 0;
                    for (int f = 0; f < p; f++)
                    {
                        double x = (features[from + f] - mean[f]) * scale;
                        block[r * p + f] = x;
                        featuresByClassNoisy[f * classCount + noisy] += x;
                        if (featuresByClassClean is not null) featuresByClassClean[f * classCount + clean] += x;
                    }
                }
                using var scope = NewDisposeScope();
                var b = tensor(block, [count, p]);
                gram.add_(b.t().matmul(b), LongLivedScalars.One);
            }
            gramValues = gram.data<double>().ToArray();
        }

        var (singular, vectors) = Decompose(gramValues, p);
        double threshold = singular[0] * 10 * Math.Sqrt(p * MachineEpsilon);
        int rank = 0;
        for (int i = 0; i < p; i++)
        {
            if (singular[i] > threshold && singular[i] > 0) rank++;
            else singular[i] = 0;
        }

        int search = Math.Min(p, 4 * classCount);
        var (prominent, gap) = ProminentGap(singular, search);
        var noisyAlignment = Align(featuresByClassNoisy, noisyLabels, rows, classCount, singular, vectors, p, prominent, options.Preprocessing);
        var cleanAlignment = featuresByClassClean is null ? null : Align(featuresByClassClean, cleanLabels!, rows, classCount, singular, vectors, p, prominent, options.Preprocessing);
        return new SpectrumResult(n, total, subset is null ? null : options.Seed, p, classCount, options.Preprocessing, singular, rank, prominent, gap, search,
            noisyAlignment, cleanAlignment);
    }

    /// <summary>
    /// The rows a subset of at most <paramref name="maxSamples"/> of <paramref name="total"/> takes with <paramref name="seed"/>:
    /// the first <paramref name="maxSamples"/> of a seeded Fisher–Yates shuffle, in ascending order; every row when there are no more.
    /// </summary>
    public static int[] SubsetIndices(int total, int maxSamples, int seed)
    {
        if (maxSamples < 1) throw new ArgumentException($"the most samples must be at least 1, not {maxSamples}", nameof(maxSamples));
        var order = Enumerable.Range(0, total).ToArray();
        if (maxSamples >= total) return order;
        var rng = new Random(seed);
        for (int i = 0; i < maxSamples; i++)
        {
            int j = rng.Next(i, total);
            (order[i], order[j]) = (order[j], order[i]);
        }
        var chosen = order[..maxSamples];
        Array.Sort(chosen);
        return chosen;
    }

    /// <summary>
    /// The count of prominent values and the gap after them: the i in [1, m − 1] (m = <paramref name="search"/>) with
    /// the largest sᵢ / sᵢ₊₁, the first on ties, among non-zero sᵢ (a zero sᵢ₊₁ gives +∞).
    /// </summary>
    internal static (int Count, double Ratio) ProminentGap(double[] singular, int search)
    {
        if (singular.Length == 0 || singular[0] == 0) return (0, double.NaN);
        int count = 1;
        double best = double.NaN;
        for (int i = 0; i + 1 < Math.Min(search, singular.Length) && singular[i] > 0; i++)
        {
            double ratio = singular[i + 1] > 0 ? singular[i] / singular[i + 1] : double.PositiveInfinity;
            if (double.IsNaN(best) || ratio > best)
            {
                best = ratio;
                count = i + 1;
            }
        }
        return (count, best);
    }

    /// <summary>The singular values of F (√ of FᵀF's eigenvalues, negative rounding clamped to 0), largest first, and the right singular vectors as columns of a p × p row-major matrix in the same order.</summary>
    private static (double[] Singular, double[] Vectors) Decompose(double[] gramValues, int p)
    {
        // Column-major or row-major reads the same symmetric matrix.
        var evd = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.Dense(p, p, gramValues).Evd(MathNet.Numerics.LinearAlgebra.Symmetricity.Symmetric);
        var eigenvectors = evd.EigenVectors;
        var order = Enumerable.Range(0, p).OrderByDescending(i => evd.EigenValues[i].Real).ThenBy(i => i).ToArray();
        var singular = new double[p];
        var vectors = new double[p * p];
        for (int i = 0; i < p; i++)
        {
            int from = order[i];
            singular[i] = Math.Sqrt(Math.Max(0, evd.EigenValues[from].Real));
            for (int r = 0; r < p; r++) vectors[r * p + i] = eigenvectors[r, from];
        }
        return (singular, vectors);
    }

    /// <summary>
    /// Each vector's Σ_j (uᵢᵀ y_j)² / n from FᵀY (<paramref name="featuresByClass"/>, p × K row-major): uᵢᵀ y_j =
    /// vᵢᵀ (FᵀY)_j / sᵢ, zero for zero sᵢ.
    /// </summary>
    private static SpectrumAlignment Align(double[] featuresByClass, int[] labels, int[] rows, int classCount, double[] singular, double[] vectors, int p,
        int prominent, FeaturePreprocessing preprocessing)
    {
        int n = rows.Length;
        var perVector = new double[p];
        for (int i = 0; i < p; i++)
        {
            if (singular[i] == 0) continue;
            double sum = 0;
            for (int j = 0; j < classCount; j++)
            {
                double dot = 0;
                for (int f = 0; f < p; f++) dot += vectors[f * p + i] * featuresByClass[f * classCount + j];
                dot /= singular[i];
                sum += dot * dot;
            }
            perVector[i] = sum / n;
        }
        double bound = 1;
        if (preprocessing == FeaturePreprocessing.MeanCentred)
        {
            var classSize = new long[classCount];
            foreach (int row in rows) classSize[labels[row]]++;
            bound = 1 - classSize.Sum(c => (double)c / n * ((double)c / n));
        }
        var alignment = new SpectrumAlignment(perVector, 0, 0, perVector.Sum(), bound);
        return alignment with { AtClassCount = alignment.Cumulative(classCount), AtProminentCount = alignment.Cumulative(prominent) };
    }

    private static void CheckLabels(int[] labels, int rows, int classCount, string name)
    {
        if (labels.Length != rows) throw new ArgumentException($"{labels.Length} labels for {rows} feature rows", name);
        for (int i = 0; i < labels.Length; i++)
            if ((uint)labels[i] >= (uint)classCount) throw new ArgumentException($"label {labels[i]} of row {i} is outside [0, {classCount})", name);
    }

    /// <summary>The spacing of doubles at 1 (2⁻⁵²).</summary>
    private const double MachineEpsilon = 2.220446049250313e-16;
}
