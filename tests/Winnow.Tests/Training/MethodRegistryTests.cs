using Winnow.Models;
using Winnow.Analysis;
using Winnow.Runs;
using System.Text.Json;
using Winnow.Data;
using Winnow.Methods;
using Winnow.SelfSupervised;
using Winnow.Training;

namespace Winnow.Tests.Training;

public class MethodRegistryTests
{
    [Fact]
    public void TheRegistryFindsEveryMethodAndRefusesAnUnknownOneWithTheList()
    {
        Assert.Equal(["ce", "ce-reg", "dividemix", "sanm", "elr", "elr-plus"], MethodRegistry.OfKind(MethodKind.Classifier).Select(d => d.Name));
        Assert.Equal("simclr", Assert.Single(MethodRegistry.OfKind(MethodKind.Pretraining)).Name);
        var e = Assert.Throws<WinnowException>(() => MethodRegistry.Get("mixup"));
        Assert.StartsWith("unknown method 'mixup'; expected one of ce, ce-reg, dividemix", e.Message);
    }

    [Fact]
    public void EveryMethodsOptionsHaveOneNameEachAndSetTheirRecord()
    {
        foreach (var definition in MethodRegistry.All)
        {
            var names = definition.Options.SelectMany(o => o.Aliases.Prepend(o.Name)).ToArray();
            Assert.Equal(names.Length, names.Distinct().Count());
            Assert.All(names, n => Assert.StartsWith("--", n));
            foreach (var option in definition.Options)
            {
                object value = option.Kind switch
                {
                    MethodOptionKind.Flag => true, MethodOptionKind.Integer => 3, MethodOptionKind.Number => 0.25, _ => option.Choices[^1],
                };
                var changed = option.Apply(definition.DefaultOptions(), value);
                Assert.NotEqual(JsonSerializer.Serialize(definition.WriteOptions(definition.DefaultOptions())), JsonSerializer.Serialize(definition.WriteOptions(changed)));
            }
        }
        var dividemix = MethodRegistry.Get("dividemix");
        var set = dividemix.Options.Single(o => o.Aliases.Contains("--mix-alpha")).Apply(dividemix.DefaultOptions(), 0.5);
        Assert.Equal(0.5, ((DivideMixOptions)set).Alpha);
    }

    [Fact]
    public void AManifestKeepsItsMethodsOptionsAndReadsThoseOfRunsMadeBeforeTheRegistry()
    {
        var manifest = new RunManifest { Method = "dividemix" }.WithMethodOptions(new DivideMixOptions { LambdaU = 7, CoDivide = CoDivideOrder.Sequential });
        string json = JsonSerializer.Serialize(manifest, RunFolder.Json);
        Assert.Contains("\"methodOptions\"", json);
        Assert.Contains("\"coDivide\": \"sequential\"", json);
        var read = JsonSerializer.Deserialize<RunManifest>(json, RunFolder.Json)!;
        Assert.Equal((7.0, CoDivideOrder.Sequential), (read.MethodOptionsAs<DivideMixOptions>().LambdaU, read.MethodOptionsAs<DivideMixOptions>().CoDivide));

        // options.json of earlier versions: one field per method, and cross-entropy's head-only epochs at the top.
        var legacy = JsonSerializer.Deserialize<RunManifest>("""{ "method": "dividemix", "divideMix": { "lambdaU": 25, "warmupEpochs": 5 }, "elr": null }""", RunFolder.Json)!;
        Assert.Equal((25.0, 5), (legacy.MethodOptionsAs<DivideMixOptions>().LambdaU!.Value, legacy.MethodOptionsAs<DivideMixOptions>().WarmupEpochs!.Value));
        var legacyCe = JsonSerializer.Deserialize<RunManifest>("""{ "method": "ce", "headOnlyEpochs": 2 }""", RunFolder.Json)!;
        Assert.Equal(2, legacyCe.MethodOptionsAs<CrossEntropyOptions>().HeadOnlyEpochs);
        var legacySimClr = JsonSerializer.Deserialize<RunManifest>("""{ "method": "simclr", "simClr": { "temperature": 0.2 } }""", RunFolder.Json)!;
        Assert.Equal(0.2, legacySimClr.MethodOptionsAs<SimClrOptions>().Temperature);
        // Written again, the run keeps its options in the new field only.
        string rewritten = JsonSerializer.Serialize(legacy.WithMethodOptions(legacy.ReadMethodOptions()), RunFolder.Json);
        Assert.DoesNotContain("\"divideMix\"", rewritten);
        Assert.Contains("\"lambdaU\": 25", rewritten);
    }

    [Fact]
    public void ResolvingChecksTheContextAndFillsPerSettingValues()
    {
        var context = new MethodContext
        {
            Model = Winnow.Models.ModelFactory.DefaultEncoder, Training = new TrainingOptions(), ClassCount = 4,
            Noise = new NoiseSpec { Kind = NoiseKind.Symmetric, Rate = 0.8 }, KnownNoise = new NoiseSpec { Kind = NoiseKind.Symmetric, Rate = 0.8 },
        };
        var resolved = (DivideMixOptions)MethodRegistry.Get("dividemix").Resolve(new DivideMixOptions(), context);
        Assert.Equal((25.0, 10), (resolved.LambdaU!.Value, resolved.WarmupEpochs!.Value));
        var e = Assert.Throws<WinnowException>(() => MethodRegistry.Get("elr").Resolve(new ElrOptions(), context with { Encoder = "x.ckpt", EncoderMode = EncoderMode.Fixed }));
        Assert.Contains("--encoder-mode fixed", e.Message);
    }
}
