using Winnow.Data;

namespace Winnow.Tests.Data;

public class DatasetSpecTests
{
    [Fact]
    public void AnEmptySplitIsRefusedNamingWhereItWasRead()
    {
        var empty = TestData.Uniform(0, 2);
        var e = Assert.Throws<DataFormatException>(() => DatasetSpec.RequireImages(empty, "/data/test", "test"));
        Assert.Equal("/data/test: the test set holds 0 images; expected at least one", e.Message);
        var one = TestData.Uniform(1, 2);
        Assert.Same(one, DatasetSpec.RequireImages(one, "/data/train", "training"));
    }

    [Fact]
    public void ANoisyLabelFileMadeForOtherImagesIsRefused()
    {
        var train = TestData.Uniform(4, 2); // labels 0, 1, 0, 1
        string csv = Path.Combine(TestData.TempDir(), "noisy.csv");
        File.WriteAllText(csv, "index,noisy_label,true_label\n0,1,0\n1,1,1\n2,0,1\n3,1,1\n");
        var spec = new NoiseSpec { File = csv };
        var e = Assert.Throws<DataFormatException>(() => spec.Create(train, trueLabelsKnown: true));
        Assert.Equal($"{csv}: row 4: true_label 1, but image 2 is labeled 0 in the dataset; the file was made for other images", e.Message);
        // With the user's own labels (truth unknown) the file's true labels are not compared.
        Assert.Equal([1, 1, 0, 1], spec.Create(train, trueLabelsKnown: false).Noisy);
        // A blank line counts: the row named is the file's line.
        File.WriteAllText(csv, "index,noisy_label,true_label\n0,1,0\n\n1,1,1\n2,0,1\n3,1,1\n");
        Assert.StartsWith($"{csv}: row 5: true_label 1,", Assert.Throws<DataFormatException>(() => spec.Create(train, trueLabelsKnown: true)).Message);
        File.WriteAllText(csv, "index,noisy_label,true_label\n0,1,0\n1,1,1\n2,0,0\n3,1,1\n");
        Assert.Equal(0.25, spec.Create(train, trueLabelsKnown: true).Summarize().NoiseRate, 6);
    }
}
