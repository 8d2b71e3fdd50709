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
}
