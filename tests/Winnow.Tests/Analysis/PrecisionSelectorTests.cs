using Winnow.Analysis;
using Winnow.Models;
using Winnow.Training;

namespace Winnow.Tests.Analysis;

public class PrecisionSelectorTests
{
    private const string ZenCpuInfo = """
        processor	: 0
        vendor_id	: AuthenticAMD
        model name	: AMD EPYC 7B13
        flags		: fpu vme sse sse2 avx avx2 fma bmi2
        processor	: 1
        model name	: AMD EPYC 7B13
        """;

    private const string SapphireRapidsCpuInfo = """
        processor	: 0
        model name	: Intel(R) Xeon(R) Platinum 8481C
        flags		: fpu sse avx avx2 avx512f avx512bw avx512_bf16 amx_bf16 amx_tile
        """;

    [Fact]
    public void Bf16IsChosenOnlyWhenItBeatsFp32ByTheMargin()
    {
        // The AVX2-only Zen 3 figures of the issue: bf16 14 times slower.
        Assert.Equal(Precision.Float32, PrecisionSelector.Decide(467.8, 33.3, null, BenchmarkStep.Training, "cpu").Chosen);
        // AVX-512 BF16: bf16 1.36 times faster.
        var fast = PrecisionSelector.Decide(703.6, 958.0, null, BenchmarkStep.Training, "cpu");
        Assert.Equal(Precision.BFloat16, fast.Chosen);
        Assert.Equal("bf16 (auto: fp32 704 img/s, bf16 958 img/s)", fast.Summary);
        // A near tie (4% faster) keeps fp32's accuracy; 5% or more is worth it.
        Assert.Equal(Precision.Float32, PrecisionSelector.Decide(100, 104, null, BenchmarkStep.Inference, "cpu").Chosen);
        Assert.Equal(Precision.BFloat16, PrecisionSelector.Decide(100, 105, null, BenchmarkStep.Inference, "cpu").Chosen);
    }

    [Fact]
    public void Bf16IsNotTriedOnACpuWithoutNativeBf16()
    {
        var zen = CpuInfo.Parse(ZenCpuInfo, 2);
        Assert.Equal("AMD EPYC 7B13", zen.ModelName);
        Assert.False(zen.HasNativeBFloat16);
        Assert.Equal("AMD EPYC 7B13, 2 cores, AVX2, no native bf16", zen.Description);
        string? why = PrecisionSelector.HopelessBFloat16(zen);
        Assert.NotNull(why);
        var choice = PrecisionSelector.Decide(467.8, null, why, BenchmarkStep.Training, zen.Description);
        Assert.Equal(Precision.Float32, choice.Chosen);
        Assert.StartsWith("fp32 (auto: fp32 468 img/s; bf16 not tried: the CPU reports none of avx512_bf16", choice.Summary);

        var spr = CpuInfo.Parse(SapphireRapidsCpuInfo, 2);
        Assert.True(spr.HasNativeBFloat16);
        Assert.Null(PrecisionSelector.HopelessBFloat16(spr));
        // Flags that cannot be read are no reason to skip: measure both.
        var unknown = CpuInfo.Parse("", 4);
        Assert.Null(unknown.HasNativeBFloat16);
        Assert.Null(PrecisionSelector.HopelessBFloat16(unknown));
    }

    [Fact]
    public void AGivenPrecisionIsKeptWithoutMeasuring()
    {
        var choice = PrecisionSelector.Resolve(Precision.BFloat16, new ThroughputOptions(Model: "no-such-model"), CpuInfo.Parse(ZenCpuInfo, 2),
            TestContext.Current.CancellationToken);
        Assert.Equal(Precision.BFloat16, choice.Chosen);
        Assert.Null(choice.Float32ImagesPerSecond);
        Assert.Equal("bf16 (given)", choice.Summary);
    }

    [Fact]
    public void AutoOnAnAvx2OnlyCpuMeasuresFp32AndRecordsTheChoice()
    {
        // Measures the real model in fp32 only: bf16 is skipped because these flags name no native bf16.
        var choice = PrecisionSelector.Resolve(Precision.Auto, new ThroughputOptions(Batch: 16, Threads: 2), CpuInfo.Parse(ZenCpuInfo, 2),
            TestContext.Current.CancellationToken);
        Assert.Equal(Precision.Float32, choice.Chosen);
        Assert.Null(choice.BFloat16ImagesPerSecond);
        // The header line names the fp32 figure it measured and why bf16 was skipped.
        Assert.Matches(@"^fp32 \(auto: fp32 [1-9]\d* img/s; bf16 not tried: the CPU reports none of avx512_bf16", choice.Summary);
        Assert.Equal(BenchmarkStep.Training, choice.Measured);
    }

    [Fact]
    public void Bf16WhoseResultsAreWrongIsRefused()
    {
        Assert.Null(PrecisionSelector.WrongBFloat16(0.07));
        Assert.Equal("its forward pass differs from fp32 by 67% on this CPU", PrecisionSelector.WrongBFloat16(0.67));
        Assert.Equal("its forward pass gives non-finite values on this CPU", PrecisionSelector.WrongBFloat16(double.PositiveInfinity));
        // The default encoder on one grey channel (the stem that libtorch's bf16 convolution got wrong) is within bounds.
        double deviation = ThroughputBenchmark.BFloat16Deviation(new ThroughputOptions(Batch: 16));
        Assert.InRange(deviation, 0, 0.05);
    }

    [Fact]
    public void TheLoopRefusesAnUnsettledPrecision()
    {
        var e = Assert.Throws<WinnowException>(() => new TrainingLoop(new TrainingOptions { Precision = Precision.Auto }));
        Assert.Contains("auto must be settled", e.Message);
    }
}
