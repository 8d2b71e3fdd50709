using System.Text.Json;
using Winnow.Analysis;
using static TorchSharp.torch;

namespace Winnow.Tests.Analysis;

public class RepresentationSpectrumTests
{
    private const int Features = 8;

    /// <summary>
    /// Rows of <see cref="Features"/> features: sample i of class c has <paramref name="scales"/>[c] in feature c,
    /// <paramref name="offset"/> in the last feature, and uniform noise of ±<paramref name="noise"/> everywhere.
    /// </summary>
    private static (float[] Features, int[] Labels) Blocks(int[] classSizes, double[] scales, double offset = 0, double noise = 1e-4, int seed = 1)
    {
        var rng = new Random(seed);
        int n = classSizes.Sum();
        var features = new float[n * Features];
        var labels = new int[n];
        int row = 0;
        for (int c = 0; c < classSizes.Length; c++)
            for (int i = 0; i < classSizes[c]; i++, row++)
            {
                labels[row] = c;
                for (int f = 0; f < Features; f++) features[row * Features + f] = (float)(noise * (2 * rng.NextDouble() - 1));
                features[row * Features + c] += (float)scales[c];
                features[row * Features + Features - 1] += (float)offset;
            }
        return (features, labels);
    }

    /// <summary>The labels with a seeded half of the samples' labels shuffled among themselves.</summary>
    private static int[] ShuffleHalf(int[] labels, int seed)
    {
        var rng = new Random(seed);
        var chosen = Enumerable.Range(0, labels.Length).OrderBy(_ => rng.Next()).Take(labels.Length / 2).ToArray();
        var values = chosen.Select(i => labels[i]).ToArray();
        rng.Shuffle(values);
        var noisy = (int[])labels.Clone();
        for (int j = 0; j < chosen.Length; j++) noisy[chosen[j]] = values[j];
        return noisy;
    }

    private static readonly RepresentationSpectrumOptions Raw = new() { Preprocessing = FeaturePreprocessing.Raw };

    [Fact]
    public void OrthogonalScaledClassBlocksGiveOneSingularValuePerClassOfRootSizeTimesScaleAndFullAlignment()
    {
        // Class sizes 150, 100, 50 with scales 1, 2, 3: F's columns are scale_c times class c's indicator, orthogonal,
        // so the singular values are √n_c·scale_c = √50·3, √100·2, √150·1 (in that order), with u = the indicator / √n_c.
        var (features, labels) = Blocks([150, 100, 50], [1, 2, 3]);
        var result = RepresentationSpectrum.Compute(features, Features, labels, 3, labels, Raw, TestContext.Current.CancellationToken);

        Assert.Equal(300, result.SampleCount);
        Assert.Equal(FeaturePreprocessing.Raw, result.Preprocessing);
        Assert.Equal(Features, result.SingularValues.Length);
        double[] expected = [Math.Sqrt(50) * 3, Math.Sqrt(100) * 2, Math.Sqrt(150) * 1];
        for (int i = 0; i < 3; i++) Assert.Equal(expected[i], result.SingularValues[i], expected[i] * 1e-3);
        Assert.All(result.SingularValues.Skip(3), s => Assert.True(s < 1e-2, $"a noise singular value of {s}"));
        Assert.Equal(3, result.ProminentCount);
        Assert.True(result.GapRatio > 1e3, $"gap ratio {result.GapRatio}");
        Assert.Equal(Math.Min(Features, 4 * 3), result.GapSearchCount);

        var clean = result.Clean!;
        Assert.Equal(1, clean.AtClassCount, 1e-3);
        Assert.Equal(1, clean.AtProminentCount, 1e-3);
        Assert.Equal(1, clean.UpperBound);
        double[] shares = [50 / 300.0, 100 / 300.0, 150 / 300.0];
        for (int i = 0; i < 3; i++) Assert.Equal(shares[i], clean.PerVector[i], 1e-3);
        Assert.Equal(clean.AtClassCount, result.Noisy.AtClassCount, 1e-12); // the same labels given twice
    }

    [Fact]
    public void ShuffledLabelsAlignLessThanCleanOnesAndASmallExactCaseMatchesTheHandComputedValues()
    {
        var (features, labels) = Blocks([100, 100, 100], [1, 1.5, 2]);
        var noisy = ShuffleHalf(labels, 3);
        var result = RepresentationSpectrum.Compute(features, Features, noisy, 3, labels, Raw, TestContext.Current.CancellationToken);
        Assert.True(result.Noisy.AtClassCount < result.Clean!.AtClassCount - 0.2, $"noisy {result.Noisy.AtClassCount} against clean {result.Clean.AtClassCount}");

        // F = [[1, 0], [1, 0], [0, 2], [0, 1]]: FᵀF = diag(2, 5), so s = (√5, √2), u₁ = (0, 0, 2, 1)/√5, u₂ = (1, 1, 0, 0)/√2.
        // Clean labels (0, 0, 1, 1): u₁ gives (0² + (3/√5)²)/4 = 0.45, u₂ gives ((2/√2)² + 0)/4 = 0.5.
        // Noisy labels (0, 1, 1, 0): u₁ gives ((1/√5)² + (2/√5)²)/4 = 0.25, u₂ gives ((1/√2)² + (1/√2)²)/4 = 0.25.
        float[] exact = [1, 0, 1, 0, 0, 2, 0, 1];
        var small = RepresentationSpectrum.Compute(exact, 2, [0, 1, 1, 0], 2, [0, 0, 1, 1], Raw, TestContext.Current.CancellationToken);
        Assert.Equal(Math.Sqrt(5), small.SingularValues[0], 1e-9);
        Assert.Equal(Math.Sqrt(2), small.SingularValues[1], 1e-9);
        Assert.Equal(2, small.Rank);
        Assert.Equal(0.45, small.Clean!.PerVector[0], 1e-9);
        Assert.Equal(0.5, small.Clean.PerVector[1], 1e-9);
        Assert.Equal(0.95, small.Clean.AtClassCount, 1e-9);
        Assert.Equal(0.25, small.Noisy.PerVector[0], 1e-9);
        Assert.Equal(0.25, small.Noisy.PerVector[1], 1e-9);
        Assert.Equal(0.5, small.Noisy.AtClassCount, 1e-9);
        Assert.Equal(1, small.ProminentCount);
        Assert.Equal(Math.Sqrt(5.0 / 2), small.GapRatio, 1e-9);
        Assert.Equal(0.45, small.Clean.AtProminentCount, 1e-9);
    }

    [Fact]
    public void MeanCentringRemovesTheCommonMeansSingularValueAndBoundsTheAlignmentWhileL2NormalisingMakesTheSquaresSumToN()
    {
        // Three balanced classes at e₀, e₁, e₂ plus a common offset e₇: raw rows are eₖ + e₇, whose top singular
        // vector is the all-ones direction (s = √100·√(1 + 3) = 20, alignment Σπ² = 1/3) before two class ones (s = 10).
        var (features, labels) = Blocks([100, 100, 100], [1, 1, 1], offset: 1);
        var ct = TestContext.Current.CancellationToken;
        var raw = RepresentationSpectrum.Compute(features, Features, labels, 3, labels, Raw, ct);
        var centred = RepresentationSpectrum.Compute(features, Features, labels, 3, labels, new RepresentationSpectrumOptions(), ct);
        var normalised = RepresentationSpectrum.Compute(features, Features, labels, 3, labels, new RepresentationSpectrumOptions { Preprocessing = FeaturePreprocessing.L2Normalised }, ct);

        Assert.Equal(FeaturePreprocessing.MeanCentred, centred.Preprocessing);
        Assert.Equal(3, raw.ProminentCount);
        Assert.Equal(2, centred.ProminentCount);
        Assert.Equal(20, raw.SingularValues[0], 1e-2);
        Assert.Equal(1 / 3.0, raw.Clean!.PerVector[0], 1e-3);
        Assert.Equal(1, raw.Clean.AtClassCount, 1e-3);
        Assert.Equal(1, raw.Clean.UpperBound);

        // Centred: the class means minus their mean span two directions, holding 1 − Σπ² = 2/3 of the labels.
        Assert.Equal(2 / 3.0, centred.Clean!.UpperBound, 1e-12);
        Assert.Equal(2 / 3.0, centred.Clean.AtProminentCount, 1e-3);
        Assert.Equal(2 / 3.0, centred.Clean.AtClassCount, 1e-3);
        Assert.True(centred.Clean.AllVectors <= centred.Clean.UpperBound + 1e-9);

        // L2-normalised: every row has length 1, so Σ sᵢ² = trace(FᵀF) = n; the mean is kept, so as raw, 3 prominent values.
        Assert.Equal(300, normalised.SingularValues.Sum(s => s * s), 1e-6);
        Assert.Equal(3, normalised.ProminentCount);
    }

    [Fact]
    public void ASeededSubsetIsReproducibleAndHasTheAskedRowsAndTheTensorInputGivesTheSameResult()
    {
        var (features, labels) = Blocks([100, 100, 100], [1, 2, 3], noise: 0.3);
        var ct = TestContext.Current.CancellationToken;
        var options = new RepresentationSpectrumOptions { MaxSamples = 120, Seed = 5, BatchSize = 50 };
        var first = RepresentationSpectrum.Compute(features, Features, labels, 3, null, options, ct);
        var again = RepresentationSpectrum.Compute(features, Features, labels, 3, null, options, ct);
        var other = RepresentationSpectrum.Compute(features, Features, labels, 3, null, options with { Seed = 6 }, ct);

        Assert.Equal(120, first.SampleCount);
        Assert.Equal(300, first.TotalSampleCount);
        Assert.Equal(5, first.SubsetSeed);
        Assert.Null(first.Clean);
        Assert.Equal(first.SingularValues, again.SingularValues);
        Assert.Equal(first.Noisy.PerVector, again.Noisy.PerVector);
        Assert.NotEqual(first.SingularValues, other.SingularValues);

        var indices = RepresentationSpectrum.SubsetIndices(300, 120, 5);
        Assert.Equal(120, indices.Distinct().Count());
        Assert.Equal(indices.Order(), indices);
        Assert.Equal(indices, RepresentationSpectrum.SubsetIndices(300, 120, 5));
        Assert.Equal(Enumerable.Range(0, 300), RepresentationSpectrum.SubsetIndices(300, 500, 5));
        Assert.Null(RepresentationSpectrum.Compute(features, Features, labels, 3, null, options with { MaxSamples = 300 }, ct).SubsetSeed);

        // The subset is the rows SubsetIndices names: decomposing those rows directly gives the same values.
        var picked = indices.SelectMany(i => features.Skip(i * Features).Take(Features)).ToArray();
        var direct = RepresentationSpectrum.Compute(picked, Features, indices.Select(i => labels[i]).ToArray(), 3, null, new RepresentationSpectrumOptions(), ct);
        for (int i = 0; i < Features; i++) Assert.Equal(direct.SingularValues[i], first.SingularValues[i], 1e-9);

        using var tensorFeatures = tensor(features, [300, Features]);
        var fromTensor = RepresentationSpectrum.Compute(tensorFeatures, labels, 3, null, options, ct);
        Assert.Equal(first.SingularValues, fromTensor.SingularValues);
    }

    [Fact]
    public void BadInputIsRefusedNamingTheProblem()
    {
        var (features, labels) = Blocks([10, 10], [1, 1]);
        var ct = TestContext.Current.CancellationToken;
        var e = Assert.Throws<ArgumentException>(() => RepresentationSpectrum.Compute(features, Features, labels[..19], 2, null, null, ct));
        Assert.Equal("noisyLabels", e.ParamName);
        Assert.Contains("19 labels for 20 feature rows", e.Message);
        e = Assert.Throws<ArgumentException>(() => RepresentationSpectrum.Compute(features, Features, labels, 2, labels[..5], null, ct));
        Assert.Equal("cleanLabels", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => RepresentationSpectrum.Compute(features, Features, labels, 1, null, null, ct));
        Assert.Equal("classCount", e.ParamName);
        Assert.Contains("at least 2", e.Message);
        e = Assert.Throws<ArgumentException>(() => RepresentationSpectrum.Compute([], Features, [], 2, null, null, ct));
        Assert.Equal("features", e.ParamName);
        Assert.Contains("empty", e.Message);
        e = Assert.Throws<ArgumentException>(() => RepresentationSpectrum.Compute(features[..^1], Features, labels, 2, null, null, ct));
        Assert.Contains("whole number of rows", e.Message);
        e = Assert.Throws<ArgumentException>(() => RepresentationSpectrum.Compute(features, Features, labels.Select(l => l + 1).ToArray(), 2, null, null, ct));
        Assert.Contains("outside [0, 2)", e.Message);
        var withNaN = (float[])features.Clone();
        withNaN[3] = float.NaN;
        e = Assert.Throws<ArgumentException>(() => RepresentationSpectrum.Compute(withNaN, Features, labels, 2, null, null, ct));
        Assert.Contains("not finite", e.Message);
    }

    [Fact]
    public void TheResultWritesJsonAndBothCsvFiles()
    {
        var (features, labels) = Blocks([100, 100, 100], [1, 2, 3]);
        var result = RepresentationSpectrum.Compute(features, Features, ShuffleHalf(labels, 3), 3, labels, null, TestContext.Current.CancellationToken);
        string dir = TestData.TempDir();
        result.Write(dir);
        Assert.Equal([SpectrumResult.AlignmentFile, SpectrumResult.SingularValuesFile, SpectrumResult.JsonFile], Directory.GetFiles(dir).Select(Path.GetFileName).Order());

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, SpectrumResult.JsonFile)));
        Assert.Equal("mean-centred", json.RootElement.GetProperty("preprocessing").GetString());
        Assert.Equal(result.ProminentCount, json.RootElement.GetProperty("prominentCount").GetInt32());
        Assert.Equal(result.Clean!.AtClassCount, json.RootElement.GetProperty("clean").GetProperty("atClassCount").GetDouble());
        Assert.Contains("mean-centred", json.RootElement.GetProperty("summary").GetString());

        var values = File.ReadAllLines(Path.Combine(dir, SpectrumResult.SingularValuesFile));
        Assert.Equal("index,value,normalised_value", values[0]);
        Assert.Equal(Features + 1, values.Length);
        Assert.Equal("1", values[1].Split(',')[0]);
        Assert.Equal(1.0, double.Parse(values[1].Split(',')[2], System.Globalization.CultureInfo.InvariantCulture));
        var alignment = File.ReadAllLines(Path.Combine(dir, SpectrumResult.AlignmentFile));
        Assert.Equal("index,singular_value,clean_alignment,noisy_alignment", alignment[0]);
        Assert.Equal(Features + 1, alignment.Length);
        Assert.Equal(result.Noisy.PerVector[0], double.Parse(alignment[1].Split(',')[3], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains("alignment@3", result.Summary);
    }

    [Fact]
    public void TheReportSectionShowsEveryEncoderInATableAndTwoPlotsThatDecode()
    {
        var ct = TestContext.Current.CancellationToken;
        var (sharp, labels) = Blocks([100, 100, 100], [1, 2, 3]);
        var (blurred, _) = Blocks([100, 100, 100], [1, 2, 3], noise: 1.5, seed: 2);
        var noisy = ShuffleHalf(labels, 3);
        var report = new HtmlReport("spectra");
        var section = SpectrumSection.AddTo(report,
            ("sharp <encoder>", RepresentationSpectrum.Compute(sharp, Features, noisy, 3, labels, null, ct)),
            ("blurred encoder", RepresentationSpectrum.Compute(blurred, Features, noisy, 3, labels, Raw, ct)));
        Assert.Equal(SpectrumSection.Id, section.Id);
        string html = report.ToHtml();

        Assert.Contains($"<section id=\"{SpectrumSection.Id}\">", html);
        Assert.Contains("<table>", html);
        Assert.Contains("<td>sharp &lt;encoder&gt;</td>", html);
        Assert.Contains("<td>blurred encoder</td>", html);
        Assert.Contains("<th>alignment@3 clean</th>", html);
        TestData.AssertEmbeddedPlots(html, 2);
        Assert.Throws<ArgumentException>(() => SpectrumSection.AddTo(new HtmlReport("none")));
    }
}
