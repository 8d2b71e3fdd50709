using Winnow.Data;

namespace Winnow.Tests.Data;

public class SampleExclusionTests
{
    private static string Csv(string text)
    {
        string path = Path.Combine(TestData.TempDir(), "drop.csv");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void ReadsIndicesFromTheFirstColumnOfAFilteredLabelFile()
    {
        var ds = TestData.Bars(10);
        var excluded = SampleExclusion.Read(Csv("index,noisy_label,true_label\n7,1,2\n2,0,3\n7,1,2\n\n"), ds);
        Assert.Equal([2, 7], excluded);
        Assert.Equal([0, 1, 3, 4, 5, 6, 8, 9], SampleExclusion.Kept(ds.Count, excluded));
    }

    [Fact]
    public void KeptLabelsAreTheWholeSetsLabelsAtTheKeptIndices()
    {
        var labels = new NoisyLabelSet([3, 1, 4, 1, 5], [3, 2, 4, 0, 5], 6, "test");
        var kept = labels.Subset(SampleExclusion.Kept(5, [1, 3]));
        Assert.Equal([3, 4, 5], kept.Noisy);
        Assert.Equal([3, 4, 5], kept.True!);
        Assert.Equal(0, kept.Summarize().NoiseRate);
        Assert.Contains("2 of 5 samples left out", kept.Description);
    }

    [Fact]
    public void AnIndexAndAPathThatNameDifferentImagesAreRefused()
    {
        // label_issues.csv of an image folder names each sample by index and by path; an image added since shifts the indices.
        var ds = ImageFolderReader.Load(ImageFolderReaderTests.MakeFolder()); // cat/a.png, cat/b.png, dog/c.jpg
        Assert.Equal([0, 2], SampleExclusion.Read(Csv("index,path,given_label\n2,dog/c.jpg,1\n0,cat/a.png,0\n"), ds));
        var e = Assert.Throws<DataFormatException>(() => SampleExclusion.Read(Csv("index,path,given_label\n0,cat/a.png,0\n1,dog/c.jpg,1\n"), ds));
        Assert.EndsWith("row 3: index 1 is the image cat/b.png, but the row's path is dog/c.jpg; the folder changed since the file was written", e.Message);
    }

    [Fact]
    public void BadRowsAreNamed()
    {
        var ds = TestData.Bars(10);
        Assert.EndsWith("row 3: index 10 is outside 0..9", Assert.Throws<DataFormatException>(() => SampleExclusion.Read(Csv("index\n1\n10\n"), ds)).Message);
        Assert.EndsWith("row 4: index 10 is outside 0..9", Assert.Throws<DataFormatException>(() => SampleExclusion.Read(Csv("index\n1\n\n10\n"), ds)).Message);
        Assert.EndsWith("row 2: 'x.png' is not an image index (0..9)", Assert.Throws<DataFormatException>(() => SampleExclusion.Read(Csv("index\nx.png\n"), ds)).Message);
        Assert.EndsWith("row 1: '-1' is not an image index (0..9)", Assert.Throws<DataFormatException>(() => SampleExclusion.Read(Csv("-1\n"), ds)).Message);
        Assert.EndsWith("lists all 10 training samples; nothing would be left to train on",
            Assert.Throws<DataFormatException>(() => SampleExclusion.Read(Csv(string.Join('\n', Enumerable.Range(0, 10))), ds)).Message);
        Assert.EndsWith("exclusion file not found", Assert.Throws<DataFormatException>(() => SampleExclusion.Read("/nonexistent/drop.csv", ds)).Message);
    }

    [Fact]
    public void ALabelIssueFileLeavesOutOnlyTheSamplesItFlags()
    {
        var ds = TestData.Uniform(10, 2);
        var csv = Csv("index,given_label,predicted_label,label_quality,clean_probability,is_label_issue\n4,0,1,0.1,0.1,True\n2,1,0,0.2,0.2,True\n7,0,0,0.9,0.9,False\n1,1,1,0.95,0.95,False\n");
        Assert.Equal([2, 4], SampleExclusion.Read(csv, ds));
        var bad = Csv("index,is_label_issue\n4,True\n2,maybe\n");
        Assert.EndsWith("row 3: is_label_issue is 'maybe'; expected True or False", Assert.Throws<DataFormatException>(() => SampleExclusion.Read(bad, ds)).Message);
    }
}
