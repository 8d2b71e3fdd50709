using Winnow.Analysis;
using Winnow.Data;
using Winnow.Training;

namespace Winnow.Tests.Analysis;

public class SeparabilityTests
{
    [Fact]
    public void WrongLabelsWithTheLargestLossesSeparatePerfectlyAndTheSectionRenders()
    {
        // Eight samples, two classes; samples 6 and 7 are mislabeled (given 1, truly 0), and the model puts little
        // probability on their given label, so their losses are the largest.
        int[] truth = [0, 0, 0, 1, 1, 1, 0, 0];
        int[] given = [0, 0, 0, 1, 1, 1, 1, 1];
        float[] pGiven = [0.9f, 0.8f, 0.85f, 0.9f, 0.7f, 0.95f, 0.1f, 0.2f];
        var probabilities = new float[16];
        for (int i = 0; i < 8; i++)
        {
            probabilities[2 * i + given[i]] = pGiven[i];
            probabilities[2 * i + 1 - given[i]] = 1 - pGiven[i];
        }
        var predictions = new DatasetPredictions(probabilities, Enumerable.Range(0, 8).Select(i => probabilities[2 * i] >= probabilities[2 * i + 1] ? 0 : 1).ToArray(), 2);
        var labels = new NoisyLabelSet(given, truth, 2, "hand-made");
        var stage = Separability.Measure("end of warm-up", 5, predictions, labels, probeAccuracy: 0.8);

        Assert.Equal(1.0, stage.MixtureAuc, 12);
        // Losses −log p normalised by the smallest (−log 0.95) and largest (−log 0.1): sample 7's is hand-computed.
        double low = -Math.Log(0.95), high = -Math.Log(0.1);
        Assert.Equal((-Math.Log(0.2) - low) / (high - low), stage.NormalisedLosses[7], 5);
        Assert.Equal(1.0, stage.NormalisedLosses[6], 6);
        Assert.Equal(new[] { false, false, false, false, false, false, true, true }, stage.Wrong);
        Assert.True(stage.MeanWrongLoss > stage.MeanRightLoss);

        var report = new HtmlReport("test");
        SeparabilitySection.AddTo(report, [("run-a", [stage])]);
        string html = report.ToHtml();
        Assert.Contains("id=\"separability\"", html);
        Assert.Contains("1.0000", html);
        Assert.Contains("80.00%", html);
        Assert.Single(html.Split("data:image/png;base64,").Skip(1));
        string csv = Path.Combine(TestData.TempDir(), SeparabilitySection.CsvFile);
        SeparabilitySection.WriteCsv(csv, [("run-a", [stage])]);
        var lines = File.ReadAllLines(csv);
        Assert.Equal("run,stage,epochs,mixture_auc,mean_loss_right,mean_loss_wrong,probe_accuracy", lines[0]);
        Assert.StartsWith("run-a,end of warm-up,5,1,", lines[1]);
        Assert.EndsWith(",0.8", lines[1]);
    }

    [Fact]
    public void UnknownTrueLabelsAreRefused()
    {
        var predictions = new DatasetPredictions([0.5f, 0.5f], [0], 2);
        Assert.Throws<ArgumentException>(() => Separability.Measure("end", 1, predictions, new NoisyLabelSet([0], null, 2, "given")));
    }
}
