using Winnow.Data;

namespace Winnow.Tests.Data;

public class LabelNoiseTests
{
    private static readonly ImageDataset Ten = TestData.Uniform(10_000, 10, "fashion-mnist/train");

    private static int Wrong(int[] noisy, int[] truth) => noisy.Where((l, i) => l != truth[i]).Count();

    [Theory]
    [InlineData(0.2)]
    [InlineData(0.5)]
    [InlineData(0.8)]
    [InlineData(0.9)]
    public void SymmetricExcludingTrueClassFlipsExactlyTheRate(double rate)
    {
        var noisy = new SymmetricNoise(rate, IncludeTrueClass: false).Apply(Ten, seed: 1);
        Assert.Equal((int)Math.Floor(rate * Ten.Count + 1e-9), Wrong(noisy, Ten.Labels));
    }

    [Theory]
    [InlineData(0.2)]
    [InlineData(0.5)]
    [InlineData(0.8)]
    [InlineData(0.9)]
    public void SymmetricIncludingTrueClassMakesRateTimesNineTenthsWrong(double rate)
    {
        var noisy = new SymmetricNoise(rate).Apply(Ten, seed: 1);
        int candidates = (int)(rate * Ten.Count);
        // Each of the candidates keeps its label with probability 1/10: binomial, 5 standard deviations.
        double expected = candidates * 0.9, sd = Math.Sqrt(candidates * 0.9 * 0.1);
        Assert.InRange(Wrong(noisy, Ten.Labels), expected - 5 * sd, expected + 5 * sd);
        Assert.True(Wrong(noisy, Ten.Labels) <= candidates);
    }

    [Fact]
    public void SymmetricRedrawnLabelsAreUniform()
    {
        var noisy = new SymmetricNoise(1.0).Apply(Ten, seed: 3);
        var counts = noisy.GroupBy(l => l).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(10, counts.Count);
        Assert.All(counts.Values, c => Assert.InRange(c, 1000 - 5 * 30, 1000 + 5 * 30));
    }

    [Fact]
    public void NoiseIsDeterministicInTheSeed()
    {
        foreach (ILabelNoise noise in new ILabelNoise[] { new SymmetricNoise(0.5), new SymmetricNoise(0.5, false), AsymmetricNoise.For("fashion-mnist", 0.4), new InstanceDependentNoise(0.4) })
        {
            var small = TestData.Bars(600, classes: 10);
            var small2 = new ImageDataset("fashion-mnist/x", small.Pixels, small.Labels, 1, 16, 16, small.ClassNames, small.Normalization);
            Assert.Equal(noise.Apply(small2, 7), noise.Apply(small2, 7));
            Assert.NotEqual(noise.Apply(small2, 7), noise.Apply(small2, 8));
        }
    }

    [Fact]
    public void AsymmetricFashionMnistFollowsTheMapAndTheRate()
    {
        var noisy = AsymmetricNoise.For(Ten.Name, 0.4).Apply(Ten, seed: 2);
        int[] map = AsymmetricNoise.FashionMnistMap;
        for (int i = 0; i < noisy.Length; i++)
            Assert.True(noisy[i] == Ten.Labels[i] || noisy[i] == map[Ten.Labels[i]]);
        // 4000 samples are picked; the 5 classes that flip (2, 3, 4, 7, 9) make up half of them.
        int wrong = Wrong(noisy, Ten.Labels);
        Assert.InRange(wrong, 2000 - 5 * 32, 2000 + 5 * 32);
        // The classes that map to themselves never change.
        foreach (int c in new[] { 0, 1, 5, 6, 8 })
            Assert.All(Enumerable.Range(0, noisy.Length).Where(i => Ten.Labels[i] == c), i => Assert.Equal(c, noisy[i]));
    }

    [Fact]
    public void AsymmetricMapsAreThoseOfTheSpec()
    {
        Assert.Equal([0, 1, 0, 5, 7, 3, 6, 7, 8, 1], AsymmetricNoise.Cifar10Map);
        // ankle boot 9 → sneaker 7, sneaker 7 → sandal 5, pullover 2 → shirt 6, coat 4 ↔ dress 3
        Assert.Equal([0, 1, 6, 4, 3, 5, 6, 5, 8, 7], AsymmetricNoise.FashionMnistMap);
        Assert.Throws<WinnowException>(() => AsymmetricNoise.For("mnist/train", 0.4));
    }

    [Fact]
    public void AnImageFolderGetsTheMapOfItsClassNamesInItsOwnOrder()
    {
        // Fashion-MNIST exported as folders: sorted by name, "ankle boot" first, "T-shirt_top" for "t-shirt/top".
        string[] names = ["Ankle boot", "Bag", "Coat", "Dress", "Pullover", "Sandal", "Shirt", "Sneaker", "T-shirt_top", "Trouser"];
        ImageDataset Folder(string[] classes) => new("fashion-mnist", new byte[10 * 4], Enumerable.Range(0, 10).ToArray(), 1, 2, 2, classes,
            new Normalization([0.5f], [0.5f]), classes.Select(c => $"{c}/0.png").ToArray());
        var noise = AsymmetricNoise.For(Folder(names), 0.4);
        // ankle boot → sneaker, coat ↔ dress, pullover → shirt, sneaker → sandal; the rest keep their class.
        Assert.Equal([7, 1, 3, 2, 6, 5, 6, 5, 8, 9], noise.Map);
        Assert.Equal("Fashion-MNIST", noise.MapName);
        // A folder named fashion-mnist whose classes are not Fashion-MNIST's gets no map by its name.
        var e = Assert.Throws<WinnowException>(() => AsymmetricNoise.For(Folder(Enumerable.Range(0, 10).Select(i => $"c{i}").ToArray()), 0.4));
        Assert.StartsWith("no asymmetric noise map fits the classes of 'fashion-mnist' (c0, c1,", e.Message);
        // The built-in readers' names give the maps as the spec writes them.
        Assert.Equal(AsymmetricNoise.Cifar10Map, AsymmetricNoise.For(new ImageDataset("cifar10/train", new byte[10 * 4], Enumerable.Range(0, 10).ToArray(), 1, 2, 2,
            Cifar10Reader.Classes.ToArray(), new Normalization([0.5f], [0.5f])), 0.4).Map);
    }

    [Fact]
    public void InstanceDependentNoiseHasTheRequestedMeanRate()
    {
        var bars = TestData.Bars(4000, classes: 10);
        var noisy = new InstanceDependentNoise(0.4).Apply(bars, seed: 5);
        Assert.InRange(Wrong(noisy, bars.Labels) / 4000.0, 0.36, 0.44);
    }

    [Fact]
    public void SummaryCountsTheTransitions()
    {
        var set = new NoisyLabelSet([0, 1, 1, 2, 2, 2], [0, 0, 1, 1, 2, 2], 3, "hand-made");
        var s = set.Summarize();
        Assert.Equal(2.0 / 6, s.NoiseRate, 12);
        Assert.Equal(0.5, s.Transition[0, 1], 12);
        Assert.Equal(0.5, s.Transition[1, 2], 12);
        Assert.Equal(1.0, s.Transition[2, 2], 12);
        Assert.Equal([0.5, 0.5, 0.0], s.PerClassNoiseRate);
    }

    [Fact]
    public void NoisyLabelsRoundTripThroughCsv()
    {
        var set = NoisyLabelSet.Create(Ten, new SymmetricNoise(0.5), 4);
        string path = Path.Combine(TestData.TempDir(), "noisy.csv");
        set.Save(path);
        var back = NoisyLabelSet.Load(path, Ten.Count, 10);
        Assert.Equal(set.Noisy, back.Noisy);
        Assert.Equal(set.True, back.True);
        Assert.False(File.Exists(path + $".tmp{Environment.ProcessId}"));
    }

    [Theory]
    [InlineData("index,noisy,true\n0,1,1\n", "row 1: expected the header")]
    [InlineData("index,noisy_label,true_label\n0,1,1\n2,1,1\n", "row 3: index '2', expected 1")]
    [InlineData("index,noisy_label,true_label\n0,11,1\n", "row 2: noisy_label '11'")]
    [InlineData("index,noisy_label,true_label\n0,1,1\n", "1 rows, expected 3")]
    [InlineData("index,noisy_label,true_label\n", "no rows after the header, expected 3 (one per sample of the dataset)")]
    public void CorruptNoisyLabelFilesAreRejected(string content, string expected)
    {
        string path = Path.Combine(TestData.TempDir(), "noisy.csv");
        File.WriteAllText(path, content);
        Assert.Contains(expected, Assert.Throws<DataFormatException>(() => NoisyLabelSet.Load(path, 3, 10)).Message);
    }
}
