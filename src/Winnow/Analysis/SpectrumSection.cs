using System.Globalization;

namespace Winnow.Analysis;

/// <summary>
/// The representation-spectrum section of an <see cref="HtmlReport"/>: for several encoders side by side, a table of
/// each one's figures (<see cref="SpectrumResult"/>) and two plots, the leading singular values and the cumulative
/// alignment of the singular vectors with the clean and the noisy labels.
/// </summary>
public static class SpectrumSection
{
    /// <summary>The section's HTML id.</summary>
    public const string Id = "spectrum";

    /// <summary>Adds the section to <paramref name="report"/> and returns it.</summary>
    /// <param name="report">The page.</param>
    /// <param name="encoders">Each encoder's name and spectrum (at least one, all of the same class count).</param>
    /// <exception cref="ArgumentException">No encoders, or spectra of different class counts.</exception>
    public static HtmlReportSection AddTo(HtmlReport report, params (string Name, SpectrumResult Result)[] encoders)
    {
        if (encoders.Length == 0) throw new ArgumentException("no encoders to show", nameof(encoders));
        var ci = CultureInfo.InvariantCulture;
        int k = encoders[0].Result.ClassCount;
        bool anyClean = encoders.Any(e => e.Result.Clean is not null);
        var section = report.AddSection(Id, "Representation spectrum");
        section.Paragraph(string.Create(ci,
            $"The singular values s₁ ≥ s₂ ≥ … of each encoder's feature matrix F (samples × features), and how much of the one-hot label matrix Y the leading left singular vectors span: alignment@k = ‖U_k U_kᵀ Y‖²_F / n (Xue et al., ICML 2022). Contrastive features are expected to show about one prominent singular value per (sub-)class followed by a gap, and vectors that align with the clean labels far more than with noisy ones. The prominent count is the index i of the largest ratio sᵢ / sᵢ₊₁ among the first min(p, 4K) values (K = {k}). Mean-centred features can reach an alignment of at most 1 − Σ_j π_j² (π_j the class shares), shown as the bound (for the clean labels where known)."))
            .Table(["encoder", "samples", "features", "preprocessing", "prominent count", "gap ratio", $"alignment@{k} clean", $"alignment@{k} noisy", "alignment bound"],
                encoders.Select(e => (IReadOnlyList<string>)[
                    e.Name,
                    e.Result.SubsetSeed is { } seed ? string.Create(ci, $"{e.Result.SampleCount} of {e.Result.TotalSampleCount} (seed {seed})") : e.Result.SampleCount.ToString(ci),
                    e.Result.FeatureCount.ToString(ci),
                    SpectrumResult.PreprocessingName(e.Result.Preprocessing),
                    e.Result.ProminentCount.ToString(ci),
                    SpectrumResult.FormatRatio(e.Result.GapRatio),
                    e.Result.Clean is { } clean ? clean.AtClassCount.ToString("0.000", ci) : "–",
                    e.Result.Noisy.AtClassCount.ToString("0.000", ci),
                    (e.Result.Clean ?? e.Result.Noisy).UpperBound.ToString("0.000", ci)]))
            .Figures([
                new ReportFigure(ReportPlots.SingularValueSpectrum(encoders),
                    string.Create(ci, $"The first {4 * k} singular values of each encoder's features, divided by the largest (logarithmic); circles mark each prominent count, the dashed line K.")),
                new ReportFigure(ReportPlots.CumulativeAlignment(encoders),
                    anyClean ? "Alignment of the top k singular vectors with the clean labels (solid) and with the noisy labels (dashed)." : "Alignment of the top k singular vectors with the given labels."),
            ]);
        return section;
    }
}
