using System.Globalization;

namespace Winnow.Analysis;

/// <summary>
/// The Jacobian section of an <see cref="HtmlReport"/> (Xue et al., ICML 2022, §4.2, Fig. 2a–b and Table 4): for
/// several initialisations side by side, a table of <see cref="JacobianSpectrumResult"/>'s figures, the singular values
/// of each network's Jacobian, and the label vector's share on each leading singular vector.
/// </summary>
public static class JacobianSection
{
    /// <summary>The section's HTML id.</summary>
    public const string Id = "jacobian";

    /// <summary>Adds the section to <paramref name="report"/> and returns it.</summary>
    /// <param name="report">The page.</param>
    /// <param name="networks">Each initialisation's name and Jacobian spectrum (at least one).</param>
    /// <exception cref="ArgumentException">No networks.</exception>
    public static HtmlReportSection AddTo(HtmlReport report, params (string Name, JacobianSpectrumResult Result)[] networks)
    {
        if (networks.Length == 0) throw new ArgumentException("no networks to show", nameof(networks));
        var ci = CultureInfo.InvariantCulture;
        var first = networks[0].Result;
        var section = report.AddSection(Id, "Jacobian at initialisation");
        section.Paragraph(string.Create(ci,
            $"The Jacobian J of each network (its encoder with a new, seeded linear head) at the start of training: one row per image and output (∂z_k(x_i)/∂W over all parameters W), {first.Samples} seeded training images × {first.Outputs} outputs. Xue et al. find that contrastive pre-training shrinks J's small singular values, so that gradient descent fits the directions of the large ones (where the clean labels lie) long before the rest (where the noise must be fitted). y is the one-hot vector of the given labels; Π_I(y) its projection on the top {first.TopVectors} left singular vectors, Π_N(y) on the rest (their squares sum to n). σ₁ is the largest singular value; the median relative to it compares networks whose Jacobians differ in scale."))
            .Table(["network", "parameters", "σ₁", $"σ{Subscript(first.TopVectors)}", "median σ", "median σ / σ₁", $"‖Π_I(y)‖ (top {first.TopVectors})", "‖Π_N(y)‖", "‖JJᵀy‖ / ‖JJᵀ‖_F", "seconds"],
                networks.Select(e =>
                {
                    var (name, result) = e;
                    double median = Median(result.SingularValues);
                    return (IReadOnlyList<string>)[
                        name,
                        result.Parameters.ToString("N0", ci),
                        result.SingularValues[0].ToString("G4", ci),
                        result.SingularValues[Math.Min(result.TopVectors, result.SingularValues.Length) - 1].ToString("G4", ci),
                        median.ToString("G4", ci),
                        (median / result.SingularValues[0]).ToString("G3", ci),
                        result.ProjectionTop.ToString("0.000", ci),
                        result.ProjectionRest.ToString("0.000", ci),
                        result.GramRatio.ToString("0.000", ci),
                        result.Seconds.ToString("0", ci)];
                }))
            .Figures([
                new ReportFigure(ReportPlots.JacobianSingularValues(networks),
                    "All singular values of each network's Jacobian, largest first (logarithmic): pre-training is expected to lower the tail."),
                new ReportFigure(ReportPlots.JacobianLabelShares(networks),
                    "The share (u_iᵀy)² / ‖y‖² of the label vector on each of the leading singular vectors u_i."),
            ]);
        return section;
    }

    /// <summary>The median of <paramref name="values"/>.</summary>
    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static string Subscript(int number) =>
        string.Concat(number.ToString(CultureInfo.InvariantCulture).Select(c => (char)('₀' + (c - '0'))));
}
