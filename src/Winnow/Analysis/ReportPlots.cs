using System.Globalization;
using ScottPlot;
using Winnow.Training;

namespace Winnow.Analysis;

/// <summary>The plots of Winnow's HTML reports, each rendered to PNG bytes with ScottPlot.</summary>
public static class ReportPlots
{
    private static readonly Color RightColor = Color.FromHex("#4C78A8");
    private static readonly Color WrongColor = Color.FromHex("#E45756");

    /// <summary>
    /// A transition matrix as a heatmap: rows are true classes (top to bottom), columns given labels (left to right),
    /// each cell shaded by its value in [0, 1] (white to dark blue) and labelled with it in percent.
    /// </summary>
    /// <param name="transition">P(given | true), rows true classes.</param>
    /// <param name="classNames">The class names, in index order.</param>
    /// <param name="title">The plot's title.</param>
    public static byte[] TransitionHeatmap(double[,] transition, IReadOnlyList<string> classNames, string title)
    {
        int k = classNames.Count;
        if (transition.GetLength(0) != k || transition.GetLength(1) != k)
            throw new ArgumentException($"a {transition.GetLength(0)}x{transition.GetLength(1)} matrix for {k} classes", nameof(transition));
        var plot = NewPlot();
        // Each cell is a rectangle centred on x = g, y = k − 1 − t (the first true class on top, as a matrix is
        // read), shaded by √value so that off-diagonal rates of a few percent still differ, and labelled in percent.
        var colormap = new ScottPlot.Colormaps.Blues();
        float fontSize = k <= 10 ? 12 : 9;
        for (int t = 0; t < k; t++)
            for (int g = 0; g < k; g++)
            {
                double v = Math.Clamp(transition[t, g], 0, 1), shade = Math.Sqrt(v);
                double y = k - 1 - t;
                var cell = plot.Add.Rectangle(g - 0.5, g + 0.5, y - 0.5, y + 0.5);
                cell.FillColor = colormap.GetColor(1 - shade);
                cell.LineColor = Colors.White;
                cell.LineWidth = 1;
                if (k > 20) continue; // too small to read: the shading alone tells
                var text = plot.Add.Text((100 * v).ToString(v >= 0.995 || v == 0 ? "F0" : "F1", CultureInfo.InvariantCulture), g, y);
                text.LabelFontSize = fontSize;
                text.LabelAlignment = Alignment.MiddleCenter;
                text.LabelFontColor = shade > 0.6 ? Colors.White : Colors.Black;
            }
        // At most about 25 class names per axis: every step-th class is named when there are more.
        int step = (k + 24) / 25;
        var named = Enumerable.Range(0, k).Where(i => i % step == 0).ToArray();
        var positions = named.Select(i => (double)i).ToArray();
        var names = named.Select(i => Shorten(classNames[i])).ToArray();
        plot.Axes.Bottom.SetTicks(positions, names);
        plot.Axes.Bottom.TickLabelStyle.Rotation = 40;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.UpperLeft;
        plot.Axes.Bottom.MinimumSize = 90;
        plot.Axes.Right.MinimumSize = 50;
        plot.Axes.Left.SetTicks(named.Select(i => (double)(k - 1 - i)).ToArray(), names);
        plot.Axes.SetLimits(-0.5, k - 0.5, -0.5, k - 0.5);
        plot.Title(title);
        plot.XLabel("given label");
        plot.YLabel("true class");
        plot.Grid.IsVisible = false;
        return plot.GetImageBytes(560, 560, ImageFormat.Png);
    }

    /// <summary>
    /// A histogram of label quality in [0, 1]: when <paramref name="wrong"/> is given, stacked bars of the samples
    /// whose label is right and of those whose label is wrong; otherwise one colour. The count axis is logarithmic when
    /// a bin holds more than 1,000 samples. A dashed line marks
    /// <paramref name="threshold"/>, the quality below which samples are flagged, where there is one.
    /// </summary>
    /// <param name="quality">Each sample's label quality.</param>
    /// <param name="wrong">Whether each sample's label is wrong, where the true labels are known.</param>
    /// <param name="threshold">The flag threshold, if the detector has one.</param>
    /// <param name="title">The plot's title.</param>
    /// <param name="bins">The number of bins over [0, 1].</param>
    /// <param name="xLabel">The horizontal axis's label (default: label quality).</param>
    public static byte[] QualityHistogram(IReadOnlyList<double> quality, IReadOnlyList<bool>? wrong, double? threshold, string title, int bins = 50, string? xLabel = null)
    {
        if (wrong is not null && wrong.Count != quality.Count) throw new ArgumentException($"{wrong.Count} truths for {quality.Count} samples", nameof(wrong));
        var right = new double[bins];
        var bad = new double[bins];
        for (int i = 0; i < quality.Count; i++)
        {
            if (double.IsNaN(quality[i])) continue;
            int b = Math.Clamp((int)(quality[i] * bins), 0, bins - 1);
            if (wrong is not null && wrong[i]) bad[b]++;
            else right[b]++;
        }
        var plot = NewPlot();
        double width = 1.0 / bins;
        double top = Enumerable.Range(0, bins).Max(b => right[b] + bad[b]);
        // Detectors pile most samples into the end bins, which would flatten the rest: above 1,000 in a bin the
        // count axis is logarithmic (stacked bars keep their counts' edges, so a bar's top is the bin's total).
        bool logarithmic = top > 1000;
        double Height(double count) => logarithmic ? (count <= 0 ? 0 : Math.Log10(count) + 1) : count;
        var bars = new List<Bar>();
        for (int b = 0; b < bins; b++)
        {
            double centre = (b + 0.5) * width;
            if (right[b] > 0) bars.Add(new Bar { Position = centre, Value = Height(right[b]), FillColor = RightColor, Size = width * 0.92, LineWidth = 0 });
            if (bad[b] > 0)
                bars.Add(new Bar { Position = centre, ValueBase = Height(right[b]), Value = Height(right[b] + bad[b]), FillColor = WrongColor, Size = width * 0.92, LineWidth = 0 });
        }
        plot.Add.Bars(bars);
        if (logarithmic)
        {
            var decades = Enumerable.Range(0, (int)Math.Floor(Math.Log10(top)) + 1).ToArray();
            plot.Axes.Left.SetTicks(decades.Select(d => d + 1.0).ToArray(), decades.Select(d => Math.Pow(10, d).ToString("#,0", CultureInfo.InvariantCulture)).ToArray());
        }
        if (wrong is not null)
        {
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = "given label right", FillColor = RightColor });
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = "given label wrong", FillColor = WrongColor });
        }
        if (threshold is { } t)
        {
            var line = plot.Add.VerticalLine(t);
            line.Color = Colors.Black;
            line.LinePattern = LinePattern.Dashed;
            line.LineWidth = 2;
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = string.Create(CultureInfo.InvariantCulture, $"flagged below {t:0.###}"), LineColor = Colors.Black, LinePattern = LinePattern.Dashed, LineWidth = 2 });
        }
        if (plot.Legend.ManualItems.Count > 0)
        {
            plot.Legend.IsVisible = true;
            plot.Legend.Alignment = Alignment.UpperCenter;
        }
        plot.Axes.SetLimits(0, 1, 0, Math.Max(1, Height(top)) * 1.12);
        return Png(plot, title, xLabel ?? "label quality (low: the given label is probably wrong)", logarithmic ? "samples (logarithmic)" : "samples", 760, 420, legend: false);
    }

    /// <summary>
    /// The run's per-epoch measures in [0, 1] against the epoch: test accuracy, training-set accuracy against the
    /// noisy and the true labels, memorisation and clean AUC, each where it was measured. Null when no measure has a value.
    /// </summary>
    public static byte[]? EpochCurves(IReadOnlyList<EpochMetrics> rows)
    {
        var series = new (string Name, Func<EpochMetrics, double> Value)[]
        {
            ("test accuracy", r => r.TestAccuracy),
            ("train accuracy (noisy labels)", r => r.TrainAccuracyNoisy),
            ("train accuracy (true labels)", r => r.TrainAccuracyTrue),
            ("memorisation", r => r.Memorization),
            ("clean AUC", r => r.CleanAuc),
        };
        var plot = NewPlot();
        var palette = new ScottPlot.Palettes.Category10();
        int drawn = 0;
        foreach (var (name, value) in series)
        {
            var points = rows.Where(r => !double.IsNaN(value(r))).ToArray();
            if (points.Length == 0) continue;
            var scatter = plot.Add.Scatter(points.Select(r => (double)r.Epoch).ToArray(), points.Select(value).ToArray());
            scatter.LegendText = name;
            scatter.Color = palette.GetColor(drawn++);
            scatter.LineWidth = 2;
            scatter.MarkerSize = rows.Count <= 40 ? 6 : 0;
        }
        if (drawn == 0) return null;
        int last = rows.Max(r => r.Epoch), first = rows.Min(r => r.Epoch);
        plot.Axes.SetLimits(first - 0.5, Math.Max(last, first + 1) + 0.5, 0, 1.02);
        EpochTicks(plot, first, last);
        return Png(plot, "Per-epoch measures", "epoch", "fraction", 780, 400, legend: true);
    }

    /// <summary>
    /// One per-epoch measure of several runs overlaid against the epoch, one line per run, in [0, 1]; null when no run
    /// measured it.
    /// </summary>
    /// <param name="runs">Each run's name and rows.</param>
    /// <param name="value">The measure (NaN where a row has none).</param>
    /// <param name="title">The plot's title, which names the measure.</param>
    public static byte[]? RunComparison(IReadOnlyList<(string Name, IReadOnlyList<EpochMetrics> Rows)> runs, Func<EpochMetrics, double> value, string title)
    {
        var plot = NewPlot();
        var palette = new ScottPlot.Palettes.Category10();
        int drawn = 0, first = int.MaxValue, last = int.MinValue;
        for (int i = 0; i < runs.Count; i++)
        {
            var points = runs[i].Rows.Where(r => !double.IsNaN(value(r))).ToArray();
            if (points.Length == 0) continue;
            var scatter = plot.Add.Scatter(points.Select(r => (double)r.Epoch).ToArray(), points.Select(value).ToArray());
            scatter.LegendText = runs[i].Name;
            scatter.Color = palette.GetColor(i);
            scatter.LineWidth = 2;
            scatter.MarkerSize = points.Length <= 40 ? 5 : 0;
            first = Math.Min(first, points[0].Epoch);
            last = Math.Max(last, points[^1].Epoch);
            drawn++;
        }
        if (drawn == 0) return null;
        plot.Axes.SetLimits(first - 0.5, Math.Max(last, first + 1) + 0.5, 0, 1.02);
        EpochTicks(plot, first, last);
        return Png(plot, title, "epoch", "fraction", 720, 380, legend: true);
    }

    /// <summary>
    /// A 2-D map of samples (<see cref="FeatureProjection"/>): one colour per class (<paramref name="classes"/>: the
    /// true class where known), filled circles for samples whose given label is right and crosses for those whose
    /// given label is wrong (<paramref name="wrong"/>, null when the truth is unknown).
    /// </summary>
    /// <param name="points">Row-major n × 2 coordinates.</param>
    /// <param name="classes">Each sample's class (its colour).</param>
    /// <param name="wrong">Whether each sample's given label is wrong; null: all drawn as circles.</param>
    /// <param name="classNames">The class names, for the legend.</param>
    /// <param name="title">The plot's title.</param>
    public static byte[] FeatureMap(double[] points, int[] classes, bool[]? wrong, IReadOnlyList<string> classNames, string title)
    {
        if (points.Length != 2 * classes.Length) throw new ArgumentException($"{points.Length / 2} points for {classes.Length} classes", nameof(points));
        if (wrong is not null && wrong.Length != classes.Length) throw new ArgumentException($"{wrong.Length} truths for {classes.Length} points", nameof(wrong));
        var plot = NewPlot();
        var palette = new ScottPlot.Palettes.Category10();
        for (int c = 0; c < classNames.Count; c++)
        {
            foreach (bool isWrong in new[] { false, true })
            {
                var members = Enumerable.Range(0, classes.Length).Where(i => classes[i] == c && (wrong is not null && wrong[i]) == isWrong).ToArray();
                if (members.Length == 0) continue;
                var markers = plot.Add.Markers(members.Select(i => points[2 * i]).ToArray(), members.Select(i => points[2 * i + 1]).ToArray());
                markers.Color = palette.GetColor(c).WithAlpha(isWrong ? 0.9 : 0.6);
                markers.MarkerShape = isWrong ? MarkerShape.Cross : MarkerShape.FilledCircle;
                markers.MarkerSize = isWrong ? 5 : 4;
                if (!isWrong) markers.LegendText = classNames[c];
            }
        }
        if (wrong is not null)
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = "× given label wrong", LineWidth = 0 });
        plot.ShowLegend(Edge.Right);
        plot.Title(title);
        plot.Axes.Frameless(false);
        plot.HideGrid();
        return plot.GetImageBytes(560, 440, ImageFormat.Png);
    }

    /// <summary>The mean training loss against the epoch; null without rows.</summary>
    public static byte[]? TrainingLossCurve(IReadOnlyList<EpochMetrics> rows)
    {
        var points = rows.Where(r => double.IsFinite(r.TrainLoss)).ToArray();
        if (points.Length == 0) return null;
        var plot = NewPlot();
        var scatter = plot.Add.Scatter(points.Select(r => (double)r.Epoch).ToArray(), points.Select(r => r.TrainLoss).ToArray());
        scatter.LineWidth = 2;
        scatter.MarkerSize = points.Length <= 40 ? 6 : 0;
        plot.Axes.AutoScale();
        if (points.Length == 1) plot.Axes.SetLimitsX(points[0].Epoch - 1, points[0].Epoch + 1);
        EpochTicks(plot, points.Min(r => r.Epoch), points.Max(r => r.Epoch));
        return Png(plot, "Training loss", "epoch", "mean loss", 480, 400, legend: false);
    }

    /// <summary>
    /// The leading singular values of each encoder's features (<see cref="RepresentationSpectrum"/>), each divided by
    /// its largest so that encoders of different scales compare, on a logarithmic axis: the first 4K values (K the
    /// class count), zeros left out. A larger marker shows each encoder's prominent count, a dashed line K.
    /// </summary>
    /// <param name="encoders">Each encoder's name and spectrum, all of the same class count.</param>
    public static byte[] SingularValueSpectrum(IReadOnlyList<(string Name, SpectrumResult Result)> encoders)
    {
        int classCount = SpectrumClassCount(encoders);
        var plot = NewPlot();
        var palette = new ScottPlot.Palettes.Category10();
        int shown = 0;
        double lowest = 0;
        for (int e = 0; e < encoders.Count; e++)
        {
            var (name, result) = encoders[e];
            var normalised = result.NormalisedSingularValues();
            int count = Math.Min(normalised.Length, 4 * classCount);
            var index = Enumerable.Range(0, count).Where(i => normalised[i] > 0).ToArray();
            if (index.Length == 0) continue;
            var color = palette.GetColor(e);
            var scatter = plot.Add.Scatter(index.Select(i => i + 1.0).ToArray(), index.Select(i => Math.Log10(normalised[i])).ToArray());
            scatter.LegendText = string.Create(CultureInfo.InvariantCulture, $"{name} ({result.ProminentCount} prominent)");
            scatter.Color = color;
            scatter.LineWidth = 2;
            scatter.MarkerSize = 5;
            if (result.ProminentCount > 0 && normalised[result.ProminentCount - 1] > 0)
            {
                var mark = plot.Add.Marker(result.ProminentCount, Math.Log10(normalised[result.ProminentCount - 1]));
                mark.Color = color;
                mark.Size = 13;
                mark.Shape = MarkerShape.OpenCircle;
                mark.LineWidth = 2;
            }
            shown = Math.Max(shown, count);
            lowest = Math.Min(lowest, index.Min(i => Math.Log10(normalised[i])));
        }
        AddClassCountLine(plot, classCount);
        int bottom = (int)Math.Floor(lowest);
        DecadeTicks(plot, bottom, 0);
        plot.Axes.SetLimits(0.5, Math.Max(shown, 2) + 0.5, bottom - 0.1, 0.15);
        return Png(plot, "Singular values of the features", "index i", "s_i / s_1 (logarithmic)", 820, 420, legend: true);
    }

    /// <summary>
    /// Each encoder's cumulative alignment ‖U_k U_kᵀ Y‖²_F / n against k (<see cref="SpectrumAlignment.Cumulative"/>)
    /// for k up to 4K: solid with the clean labels, where known, dashed with the noisy ones; a dashed line marks K and a
    /// dotted one the mean-centred bound 1 − Σπ² (<see cref="SpectrumAlignment.UpperBound"/>) when the encoders share it.
    /// </summary>
    /// <param name="encoders">Each encoder's name and spectrum, all of the same class count.</param>
    public static byte[] CumulativeAlignment(IReadOnlyList<(string Name, SpectrumResult Result)> encoders)
    {
        int classCount = SpectrumClassCount(encoders);
        var plot = NewPlot();
        var palette = new ScottPlot.Palettes.Category10();
        int shown = 1;
        for (int e = 0; e < encoders.Count; e++)
        {
            var (name, result) = encoders[e];
            int count = Math.Min(result.FeatureCount, 4 * classCount);
            shown = Math.Max(shown, count);
            var ks = Enumerable.Range(0, count + 1).Select(k => (double)k).ToArray();
            foreach (var (alignment, which, pattern) in new[] { (result.Clean, "clean", LinePattern.Solid), (result.Noisy, result.Clean is null ? "given" : "noisy", LinePattern.Dashed) })
            {
                if (alignment is null) continue;
                var scatter = plot.Add.Scatter(ks, ks.Select(k => alignment.Cumulative((int)k)).ToArray());
                scatter.LegendText = $"{name}, {which} labels";
                scatter.Color = palette.GetColor(e);
                scatter.LinePattern = pattern;
                scatter.LineWidth = 2;
                scatter.MarkerSize = 0;
            }
        }
        AddClassCountLine(plot, classCount);
        // The mean-centred bound 1 − Σπ², when every encoder's curves share it (same labels, same preprocessing).
        var bounds = encoders.Select(e => (e.Result.Clean ?? e.Result.Noisy).UpperBound).ToArray();
        if (bounds.Max() < 1 && bounds.Max() - bounds.Min() < 1e-12)
        {
            var bound = plot.Add.HorizontalLine(bounds[0]);
            bound.Color = Colors.Gray;
            bound.LinePattern = LinePattern.Dotted;
            bound.LineWidth = 1.5f;
            bound.Text = "bound";
            bound.LabelOppositeAxis = true;
        }
        plot.Axes.SetLimits(0, shown, 0, 1.02);
        return Png(plot, "Alignment of the top k singular vectors with the labels", "k", "||U_k U_k^T Y||^2 / n", 820, 420, legend: true);
    }

    /// <summary>
    /// Each network's Jacobian singular values against their rank, largest first, on a logarithmic axis (Xue et al.'s
    /// Fig. 2a shows them as a histogram; the ranked curve shows the same tail and reads across networks).
    /// </summary>
    /// <param name="networks">Each network's name and Jacobian spectrum.</param>
    public static byte[] JacobianSingularValues(IReadOnlyList<(string Name, JacobianSpectrumResult Result)> networks)
    {
        var plot = NewPlot();
        var palette = new ScottPlot.Palettes.Category10();
        double lowest = double.PositiveInfinity, highest = double.NegativeInfinity;
        int longest = 1;
        for (int e = 0; e < networks.Count; e++)
        {
            var values = networks[e].Result.SingularValues;
            var index = Enumerable.Range(0, values.Length).Where(i => values[i] > 0).ToArray();
            if (index.Length == 0) continue;
            var logs = index.Select(i => Math.Log10(values[i])).ToArray();
            var scatter = plot.Add.Scatter(index.Select(i => i + 1.0).ToArray(), logs);
            scatter.LegendText = networks[e].Name;
            scatter.Color = palette.GetColor(e);
            scatter.LineWidth = 2;
            scatter.MarkerSize = 0;
            lowest = Math.Min(lowest, logs.Min());
            highest = Math.Max(highest, logs.Max());
            longest = Math.Max(longest, values.Length);
        }
        if (double.IsFinite(lowest))
        {
            int bottom = (int)Math.Floor(lowest), top = (int)Math.Ceiling(highest);
            DecadeTicks(plot, bottom, top);
            plot.Axes.SetLimits(0, longest + 1, bottom, top);
        }
        return Png(plot, "Singular values of the Jacobian", "rank i", "σ_i (logarithmic)", 820, 420, legend: true);
    }

    /// <summary>
    /// Each network's label shares (u_iᵀy)² / ‖y‖² on its leading Jacobian singular vectors, against i (Xue et al.'s
    /// Fig. 2b plots them against σ_i).
    /// </summary>
    /// <param name="networks">Each network's name and Jacobian spectrum.</param>
    public static byte[] JacobianLabelShares(IReadOnlyList<(string Name, JacobianSpectrumResult Result)> networks)
    {
        var plot = NewPlot();
        var palette = new ScottPlot.Palettes.Category10();
        int shown = 1;
        for (int e = 0; e < networks.Count; e++)
        {
            var shares = networks[e].Result.LabelShares;
            if (shares.Length == 0) continue;
            var scatter = plot.Add.Scatter(Enumerable.Range(1, shares.Length).Select(i => (double)i).ToArray(), shares);
            scatter.LegendText = networks[e].Name;
            scatter.Color = palette.GetColor(e);
            scatter.LineWidth = 1;
            scatter.MarkerSize = 4;
            shown = Math.Max(shown, shares.Length);
        }
        var line = plot.Add.VerticalLine(networks.Max(n => n.Result.TopVectors) + 0.5);
        line.Color = Colors.Gray;
        line.LinePattern = LinePattern.Dashed;
        line.Text = "top k";
        plot.Axes.SetLimits(0, shown + 1, 0, Math.Max(1e-6, networks.SelectMany(n => n.Result.LabelShares).DefaultIfEmpty(0).Max()) * 1.05);
        return Png(plot, "Share of the label vector on each singular vector", "singular vector i (largest first)", "(u_i^T y)^2 / ||y||^2", 820, 420, legend: true);
    }

    private static int SpectrumClassCount(IReadOnlyList<(string Name, SpectrumResult Result)> encoders)
    {
        if (encoders.Count == 0) throw new ArgumentException("no encoders to plot", nameof(encoders));
        int classCount = encoders[0].Result.ClassCount;
        if (encoders.Any(e => e.Result.ClassCount != classCount))
            throw new ArgumentException($"the encoders' spectra have different class counts ({string.Join(", ", encoders.Select(e => e.Result.ClassCount))})", nameof(encoders));
        return classCount;
    }

    private static void AddClassCountLine(Plot plot, int classCount)
    {
        var line = plot.Add.VerticalLine(classCount);
        line.Color = Colors.Gray;
        line.LinePattern = LinePattern.Dashed;
        line.LineWidth = 1.5f;
        line.Text = string.Create(CultureInfo.InvariantCulture, $"K = {classCount}");
        line.LabelOppositeAxis = true;
    }

    /// <summary>
    /// Ticks on a left axis that shows log10 of its values: one per decade from 10^bottom to 10^top (every few decades
    /// when there are more than about 8, always including 1), labelled 0.01 … 10000 or 1e-5.
    /// </summary>
    private static void DecadeTicks(Plot plot, int bottom, int top)
    {
        int step = Math.Max(1, (top - bottom + 8) / 8);
        var decades = Enumerable.Range(bottom, top - bottom + 1).Where(d => (d - bottom) % step == 0 || d == 0).ToArray();
        plot.Axes.Left.SetTicks(decades.Select(d => (double)d).ToArray(),
            decades.Select(d => d is >= -2 and <= 4 ? Math.Pow(10, d).ToString("0.##", CultureInfo.InvariantCulture) : $"1e{d}").ToArray());
    }

    /// <summary>The plot, titled and labelled (its legend on the right edge when <paramref name="legend"/>), as PNG bytes.</summary>
    private static byte[] Png(Plot plot, string title, string xLabel, string yLabel, int width, int height, bool legend)
    {
        if (legend) plot.ShowLegend(Edge.Right);
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        return plot.GetImageBytes(width, height, ImageFormat.Png);
    }

    /// <summary>Whole-epoch ticks on the bottom axis, at most about 15 of them.</summary>
    private static void EpochTicks(Plot plot, int first, int last)
    {
        int step = Math.Max(1, (int)Math.Ceiling((last - first + 1) / 15.0));
        var epochs = Enumerable.Range(first, last - first + 1).Where(e => (e - first) % step == 0).ToArray();
        plot.Axes.Bottom.SetTicks(epochs.Select(e => (double)e).ToArray(), epochs.Select(e => e.ToString(CultureInfo.InvariantCulture)).ToArray());
    }

    /// <summary>A plot whose text uses a sans-serif font installed here.</summary>
    private static Plot NewPlot()
    {
        var plot = new Plot();
        plot.Font.Set(SansFont.Value);
        return plot;
    }

    /// <summary>The first of a few common sans-serif families that is installed, else ScottPlot's own choice.</summary>
    private static readonly Lazy<string> SansFont = new(() =>
    {
        var installed = SkiaSharp.SKFontManager.Default.GetFontFamilies().ToHashSet(StringComparer.OrdinalIgnoreCase);
        return new[] { "DejaVu Sans", "Liberation Sans", "Open Sans", "Noto Sans", "Lato", "Arial", "Helvetica" }.FirstOrDefault(installed.Contains) ?? Fonts.Sans;
    });

    private static string Shorten(string name) => name.Length <= 16 ? name : name[..15] + "…";
}
