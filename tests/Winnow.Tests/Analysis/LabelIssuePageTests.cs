using Winnow.Models;
using Winnow.Analysis;
using Winnow.Runs;
using System.Text.RegularExpressions;
using SkiaSharp;
using Winnow.Data;
using Winnow.Detection;
using Winnow.Tests.Data;
using Winnow.Training;

namespace Winnow.Tests.Analysis;

public partial class LabelIssuePageTests
{
    [GeneratedRegex("src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"")]
    private static partial Regex EmbeddedPng();

    [GeneratedRegex("<div class=\"thumb[^\"]*\"><img src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"")]
    private static partial Regex ThumbnailPng();

    /// <summary>Probabilities of a model that puts 0.85 on each sample's true class.</summary>
    private static float[] ConfidentProbabilities(int[] truth, int classes)
    {
        var probs = new float[truth.Length * classes];
        for (int i = 0; i < truth.Length; i++)
            for (int c = 0; c < classes; c++) probs[i * classes + c] = c == truth[i] ? 0.85f : 0.15f / (classes - 1);
        return probs;
    }

    private static List<SKBitmap> Decode(Regex pattern, string html) =>
        pattern.Matches(html).Select(m => SKBitmap.Decode(Convert.FromBase64String(m.Groups[1].Value))
            ?? throw new InvalidDataException("an embedded image is not a PNG")).ToList();

    [Fact]
    public void AGreyDatasetWithKnownTruthGivesEverySectionTheDetectorTableAndGreyThumbnails()
    {
        var images = TestData.Bars(160, classes: 4, size: 12);
        var truth = images.Labels;
        var noisy = truth.Select((t, i) => i % 5 == 0 ? (t + 1) % 4 : t).ToArray();
        var labels = new NoisyLabelSet(noisy, truth, 4, "every fifth label shifted");
        var findings = LabelIssueReport.Find(labels, ConfidentProbabilities(truth, 4));
        string dir = TestData.TempDir();
        var run = new RunFolder(Path.Combine(dir, "run"));
        EpochMetrics.WriteCsv(run.MetricsFile,
        [
            new EpochMetrics { Epoch = 1, TrainLoss = 1.2, TestAccuracy = 0.5, TrainAccuracyNoisy = 0.45, TrainAccuracyTrue = 0.5, Memorization = 0.1, CleanAuc = 0.8 },
            new EpochMetrics { Epoch = 2, TrainLoss = 0.8, TestAccuracy = 0.7, TrainAccuracyNoisy = 0.6, TrainAccuracyTrue = 0.7, Memorization = 0.2 },
        ]);

        LabelIssuePage.Write(dir, findings, labels, images, context: new LabelIssueReportContext([new("CPU", "test CPU")], run));

        string html = File.ReadAllText(Path.Combine(dir, LabelIssuePage.ReportFile));
        foreach (string id in new[] { "summary", "detectors", "transition", "quality", "suspects", "training" })
            Assert.Contains($"<section id=\"{id}\">", html);
        Assert.Contains("<dd>test CPU</dd>", html);
        Assert.Contains("<th>ROC-AUC</th>", html);
        Assert.Contains("<th>average precision</th>", html);
        Assert.Contains("<td>loss-mixture (decides)</td>", html);
        Assert.Contains("<td>confident-learning</td>", html);
        Assert.Contains("true: class", html);

        // Two heatmaps (estimated, actual), the histogram, two training plots and 100 thumbnails, all PNGs.
        var all = Decode(EmbeddedPng(), html);
        Assert.Equal(2 + 1 + 2 + 100, all.Count);
        var thumbnails = Decode(ThumbnailPng(), html);
        Assert.Equal(100, thumbnails.Count);
        Assert.All(thumbnails, t => Assert.Equal((48, 48), (t.Width, t.Height)));
        Assert.All(thumbnails, t => Assert.All(t.Pixels, p => Assert.True(p.Red == p.Green && p.Green == p.Blue, $"{p} is not grey")));
        Assert.Empty(Directory.GetFiles(dir, "*.tmp*"));
        foreach (var b in all) b.Dispose();
        foreach (var b in thumbnails) b.Dispose();
    }

    [Fact]
    public void AColourImageFolderGivesColourThumbnailsAndEscapedClassNamesWithoutTruth()
    {
        string root = TestData.TempDir();
        for (int i = 0; i < 12; i++)
        {
            ImageFolderReaderTests.WriteImage(Path.Combine(root, "cats <&> \"kittens\"", $"{i}.png"), 8, 8, new SKColor(220, 20, 20));
            ImageFolderReaderTests.WriteImage(Path.Combine(root, "dogs", $"{i}.png"), 8, 8, new SKColor(20, 20, 220));
        }
        var images = ImageFolderReader.Load(root);
        Assert.Equal(3, images.Channels);
        // The model sees the colour; two labels of each class are swapped, and the true labels are unknown.
        var noisy = images.Labels.Select((l, i) => i % 12 < 2 ? 1 - l : l).ToArray();
        var labels = new NoisyLabelSet(noisy, null, 2, "folder labels");
        var findings = LabelIssueReport.Find(labels, ConfidentProbabilities(images.Labels, 2));
        string dir = TestData.TempDir();

        LabelIssuePage.Write(dir, findings, labels, images);

        string html = File.ReadAllText(Path.Combine(dir, LabelIssuePage.ReportFile));
        Assert.Contains("cats &lt;&amp;&gt; &quot;kittens&quot;", html);
        Assert.DoesNotContain("cats <&>", html);
        Assert.DoesNotContain("<section id=\"training\">", html);
        Assert.DoesNotContain("true:", html);
        Assert.Contains("<th>estimated noise</th>", html);
        Assert.DoesNotContain("<th>ROC-AUC</th>", html);
        var thumbnails = Decode(ThumbnailPng(), html);
        Assert.Equal(24, thumbnails.Count);
        Assert.All(thumbnails, t => Assert.Contains(t.Pixels, p => p.Red != p.Green || p.Blue != p.Green));
        // One heatmap (estimated only), the histogram and the thumbnails.
        Assert.Equal(1 + 1 + 24, EmbeddedPng().Matches(html).Count);
        Assert.Equal([LabelIssueReport.IssuesFile, LabelIssueReport.NoiseFile, LabelIssuePage.ReportFile],
            Directory.GetFiles(dir).Select(Path.GetFileName).Order());
        foreach (var b in thumbnails) b.Dispose();
    }
}
