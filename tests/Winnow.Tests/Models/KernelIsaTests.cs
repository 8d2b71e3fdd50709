using System.Diagnostics;
using Winnow.Models;

namespace Winnow.Tests.Models;

public class KernelIsaTests
{
    private static CpuInfo Cpu(string vendor, int? family, string flags) => CpuInfo.Parse(
        $"processor\t: 0\nvendor_id\t: {vendor}\n" + (family is { } f ? $"cpu family\t: {f}\nmodel\t\t: 17\n" : "") + $"model name\t: some CPU\nflags\t\t: {flags}\n", 2);

    private const string Avx512Bf16 = "fpu sse avx avx2 avx512f avx512bw avx512vl avx512_bf16";

    [Fact]
    public void TheCapIsChosenOnlyForTheCpuWithTheKnownFault()
    {
        // CPU A of docs/: an AMD EPYC of the Zen 5 family (26), AVX-512 with BF16 and VP2INTERSECT.
        var zen5 = KernelIsa.Decide(Cpu("AuthenticAMD", 26, Avx512Bf16 + " avx512_vp2intersect"), null, null);
        Assert.Equal(("AVX2", true), (zen5.Isa, zen5.Capped));
        Assert.StartsWith("auto: capped at AVX2 on an AMD Zen 5 CPU", zen5.Reason);
        Assert.EndsWith("(AuthenticAMD family 26 model 17)", zen5.Cpu);
        // VP2INTERSECT marks an AMD Zen 5, with or without a reported family.
        Assert.True(KernelIsa.Decide(Cpu("AuthenticAMD", null, Avx512Bf16 + " avx512_vp2intersect"), null, null).Capped);
        Assert.True(KernelIsa.Decide(Cpu("AuthenticAMD", 25, Avx512Bf16 + " avx512_vp2intersect"), null, null).Capped);
        // A Zen 4 EPYC (family 25, AVX-512 BF16, no VP2INTERSECT: no NaN in 48 runs), an Intel Xeon with VP2INTERSECT
        // (Tiger Lake has it) and an AVX2-only Zen 3 keep their native kernels.
        Assert.Equal("native", KernelIsa.Decide(Cpu("AuthenticAMD", 25, Avx512Bf16), null, null).Isa);
        Assert.Equal("native", KernelIsa.Decide(Cpu("GenuineIntel", 6, Avx512Bf16 + " avx512_vp2intersect"), null, null).Isa);
        Assert.False(KernelIsa.Decide(Cpu("AuthenticAMD", 26, "fpu sse avx avx2"), null, null).Capped);
    }

    [Fact]
    public void TheUsersSettingsWinAndABadOneIsNamed()
    {
        var zen5 = Cpu("AuthenticAMD", 26, Avx512Bf16);
        var given = KernelIsa.Decide(zen5, "AVX512_CORE", "native");
        Assert.Equal(("AVX512_CORE", "ONEDNN_MAX_CPU_ISA given in the environment"), (given.Isa, given.Reason));
        Assert.False(KernelIsa.Decide(zen5, null, "NATIVE").Capped);
        Assert.Equal("AVX512_CORE_BF16", KernelIsa.Decide(Cpu("GenuineIntel", 6, Avx512Bf16), null, "avx512_core_bf16").Isa);
        var bad = KernelIsa.Decide(zen5, null, "avx9");
        Assert.StartsWith("WINNOW_KERNEL_ISA=avx9: expected auto, native or one of SSE41, AVX, AVX2,", bad.Error);
        Assert.Null(KernelIsa.Decide(zen5, null, "auto").Error);
    }

    [Fact]
    public void Bf16IsNotTimedUnderACapWithoutBf16Arithmetic()
    {
        var zen5 = Cpu("AuthenticAMD", 26, Avx512Bf16);
        var capped = KernelIsa.Decide(zen5, null, null);
        Assert.False(capped.AllowsBFloat16);
        Assert.Equal("oneDNN's kernels are capped at AVX2, which has no bf16 arithmetic", Winnow.Analysis.PrecisionSelector.HopelessBFloat16(zen5, capped));
        Assert.True(KernelIsa.Decide(zen5, null, "AVX512_CORE_BF16").AllowsBFloat16);
        Assert.True(KernelIsa.Decide(zen5, "ALL", null).AllowsBFloat16);
        Assert.Null(Winnow.Analysis.PrecisionSelector.HopelessBFloat16(zen5, KernelIsa.Decide(zen5, null, "native")));
    }

    /// <summary>Runs 'winnow bench' for one small step with oneDNN's verbose log on and returns what it printed.</summary>
    private static (int Code, string Out, string Err) Bench(params (string Name, string Value)[] environment)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Winnow.Cli.dll"));
        foreach (var a in new[] { "bench", "--precision", "fp32", "--steps", "1", "--batch", "4", "--size", "8", "--threads", "1" }) psi.ArgumentList.Add(a);
        foreach (var name in new[] { KernelIsa.OneDnnVariable, "DNNL_MAX_CPU_ISA", KernelIsa.SettingVariable }) psi.Environment.Remove(name);
        psi.Environment["ONEDNN_VERBOSE"] = "1";
        foreach (var (name, value) in environment) psi.Environment[name] = value;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, err);
    }

    [Fact]
    public void TheCapSetFromInsideTheProcessReachesOneDnn()
    {
        // oneDNN prints the instruction set it runs with when its first kernel is made: the cap, set with libc's setenv
        // after .NET has started, must be what it read.
        var capped = Bench((KernelIsa.SettingVariable, "avx2"));
        Assert.Equal(0, capped.Code);
        Assert.Contains("oneDNN kernels AVX2 (WINNOW_KERNEL_ISA=avx2)", capped.Out);
        Assert.Contains(",info,cpu,isa:Intel AVX2\n", capped.Out);
        if (System.Runtime.Intrinsics.X86.Avx512F.IsSupported)
            Assert.Contains(",info,cpu,isa:Intel AVX-512", Bench((KernelIsa.SettingVariable, "native")).Out);
        var bad = Bench((KernelIsa.SettingVariable, "avx9"));
        Assert.Equal(2, bad.Code);
        Assert.StartsWith("winnow: error: WINNOW_KERNEL_ISA=avx9: expected auto, native or one of", bad.Err);
        Assert.Single(bad.Err.TrimEnd().Split('\n'));
    }
}
