using Winnow.Analysis;
using Winnow.Runs;
using System.Text.Json;
using TorchSharp;
using Winnow.Data;
using Winnow.Methods;
using Winnow.Models;
using Winnow.Training;
using static TorchSharp.torch;

namespace Winnow.Tests.Models;

public class EncoderCheckpointTests
{
    private static RunManifest Manifest(string method) => new()
    {
        Method = method,
        Training = new TrainingOptions { Epochs = 1, BatchSize = 32, Precision = Precision.Float32, Seed = 1, Threads = 2 },
    };

    /// <summary>Every tensor of a module's state dictionary (parameters and batch-norm statistics) as floats, by name.</summary>
    internal static Dictionary<string, float[]> StateOf(nn.Module module) =>
        module.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.to(ScalarType.Float32).data<float>().ToArray());

    /// <summary>A one-epoch run of <paramref name="method"/> on bars in a run folder with its options.json, as 'winnow train' writes one.</summary>
    private static (ITrainingMethod Method, RunFolder Folder) TrainTinyRun(string method)
    {
        var folder = new RunFolder(TestData.TempDir());
        var manifest = Manifest(method);
        folder.WriteJson(folder.OptionsFile, manifest);
        var train = TestData.Bars(64, seed: 1);
        TrainingLoop.SeedForInitialisation(1);
        var trained = TrainingJob.CreateMethod(manifest, 1, 4, train.Count);
        new TrainingLoop(manifest.Training).Run(trained, train, NoisyLabelSet.Create(train, null, 0), TestData.Bars(16, seed: 2), folder,
            cancellation: TestContext.Current.CancellationToken);
        return (trained, folder);
    }

    private static Encoder FreshEncoder()
    {
        TrainingLoop.SeedForInitialisation(99);
        return ModelFactory.CreateEncoder(ModelFactory.DefaultEncoder, 1);
    }

    [Theory]
    [InlineData("ce", "net")]
    [InlineData("dividemix", "net1")]
    [InlineData("elr-plus", "net1")]
    public void TheEncoderOfATrainingRunIsTheOneWhoseFeaturesTheMethodReports(string method, string network)
    {
        var (trained, folder) = TrainTinyRun(method);
        using var _ = trained;
        var classifiers = trained.Networks.Where(n => n.Network is Classifier).ToDictionary(n => n.Name, n => ((Classifier)n.Network).Encoder);
        var expected = StateOf(classifiers[network]);
        using var encoder = FreshEncoder();
        Assert.NotEqual(expected["stem.weight"], StateOf(encoder)["stem.weight"]);

        EncoderCheckpoint.LoadInto(encoder, folder.LastCheckpoint);

        var loaded = StateOf(encoder);
        Assert.Equal(expected.Keys.Order(), loaded.Keys.Order());
        foreach (var (key, value) in expected) Assert.Equal(value, loaded[key]);
        Assert.Contains(expected.Keys, k => k.Contains("running_mean"));
        foreach (var (other, otherEncoder) in classifiers.Where(c => c.Key != network))
            Assert.NotEqual(StateOf(otherEncoder)["stem.weight"], loaded["stem.weight"]);
        // Features of the loaded encoder are the method's features.
        using var scope = NewDisposeScope();
        var images = randn(8, 1, 16, 16);
        encoder.eval();
        using (no_grad())
            Assert.True(trained.Features(images).allclose(encoder.forward(Classifier.PrepareInput(images, Precision.Float32)), rtol: 1e-5, atol: 1e-6));
        Assert.Equal(ModelFactory.DefaultEncoder, EncoderCheckpoint.ArchitectureOf(folder.LastCheckpoint));
    }

    [Fact]
    public void TrainingStartsFromTheEncoderOfATwoNetworkRun()
    {
        var (dividemix, folder) = TrainTinyRun("dividemix");
        using var _ = dividemix;
        var net1 = StateOf(((Classifier)dividemix.Networks.Single(n => n.Name == "net1").Network).Encoder);
        TrainingLoop.SeedForInitialisation(99);
        using var started = TrainingJob.CreateMethod(Manifest("ce") with { Encoder = folder.LastCheckpoint }, 1, 4);
        var encoder = StateOf(((Classifier)started.Networks[0].Network).Encoder);
        foreach (var (key, value) in net1) Assert.Equal(value, encoder[key]);
    }

    [Fact]
    public void ACheckpointWithoutAnEncoderIsRefusedNamingItsNetworks()
    {
        string path = Path.Combine(TestData.TempDir(), "head.ckpt");
        using (var scope = NewDisposeScope())
            Checkpoint.Save(path, JsonSerializer.Serialize(new CheckpointState("ce-reg", 1, ["projection", "head"]), RunFolder.Json),
                [("net.projection.hidden.weight", ones(2, 2)), ("net.head.weight", ones(2, 2))]);
        using var encoder = FreshEncoder();
        var e = Assert.Throws<DataFormatException>(() => EncoderCheckpoint.LoadInto(encoder, path));
        Assert.Equal($"{path}: holds no encoder (it holds networks 'projection', 'head', none an encoder or a classifier with one); " +
            "expected a checkpoint of 'winnow pretrain' or 'winnow train'", e.Message);

        using (var scope = NewDisposeScope()) Checkpoint.Save(path, "{\"a\":1}", [("net.encoder.stem.weight", ones(2, 2))]);
        Assert.Equal($"{path}: its metadata does not list its networks; expected a checkpoint of 'winnow pretrain' or 'winnow train'",
            Assert.Throws<DataFormatException>(() => EncoderCheckpoint.LoadInto(encoder, path)).Message);
    }
}
