using System.Globalization;

namespace Winnow.Analysis;

/// <summary>One encoder's 2-D maps of a seeded subset of training samples.</summary>
/// <param name="Encoder">The encoder's name.</param>
/// <param name="Indices">The training samples mapped.</param>
/// <param name="Pca">Their first two principal-component scores (n × 2, row-major).</param>
/// <param name="TSne">Their t-SNE coordinates (n × 2), null when not computed.</param>
/// <param name="Classes">Each sample's class (true where known, else given).</param>
/// <param name="Wrong">Whether each sample's given label is wrong; null when the truth is unknown.</param>
public sealed record FeatureMapResult(string Encoder, int[] Indices, double[] Pca, double[]? TSne, int[] Classes, bool[]? Wrong);

/// <summary>The feature-map section of an <see cref="HtmlReport"/>: per encoder, its PCA and t-SNE maps side by side.</summary>
public static class FeatureMapSection
{
    /// <summary>The section's HTML id.</summary>
    public const string Id = "feature-map";

    /// <summary>Adds the section to <paramref name="report"/> and returns it.</summary>
    public static HtmlReportSection AddTo(HtmlReport report, IReadOnlyList<FeatureMapResult> maps, IReadOnlyList<string> classNames)
    {
        if (maps.Count == 0) throw new ArgumentException("no map to show", nameof(maps));
        var ci = CultureInfo.InvariantCulture;
        var section = report.AddSection(Id, "2-D maps of the features");
        section.Paragraph(string.Create(ci,
            $"A seeded subset of {maps[0].Indices.Length} training images per encoder, by its features: the first two principal components, and t-SNE (perplexity 30, exact gradient, started from those components). Colour: the class (the true one where known); crosses: samples whose given label is wrong. Features that resist label noise keep each class together, wrong labels included."));
        section.Figures(maps.SelectMany(m =>
        {
            var figures = new List<ReportFigure> { new(ReportPlots.FeatureMap(m.Pca, m.Classes, m.Wrong, classNames, $"{m.Encoder}: PCA"), $"{m.Encoder}: the first two principal components of the features.") };
            if (m.TSne is { } t) figures.Add(new(ReportPlots.FeatureMap(t, m.Classes, m.Wrong, classNames, $"{m.Encoder}: t-SNE"), $"{m.Encoder}: t-SNE of the features."));
            return figures;
        }));
        return section;
    }

    /// <summary>Writes the maps' coordinates: encoder, index, class, wrong, pca1, pca2, tsne1, tsne2.</summary>
    public static void WriteCsv(string path, IReadOnlyList<FeatureMapResult> maps)
    {
        var ci = CultureInfo.InvariantCulture;
        var lines = new List<string> { "encoder,index,class,wrong,pca1,pca2,tsne1,tsne2" };
        foreach (var m in maps)
            for (int i = 0; i < m.Indices.Length; i++)
                lines.Add(string.Join(",", Data.CsvField.Escape(m.Encoder), m.Indices[i].ToString(ci), m.Classes[i].ToString(ci),
                    m.Wrong is null ? "" : m.Wrong[i] ? "true" : "false",
                    m.Pca[2 * i].ToString("R", ci), m.Pca[2 * i + 1].ToString("R", ci),
                    m.TSne is null ? "" : m.TSne[2 * i].ToString("R", ci), m.TSne is null ? "" : m.TSne[2 * i + 1].ToString("R", ci)));
        AtomicFile.WriteAllText(path, string.Join("\n", lines) + "\n");
    }
}
