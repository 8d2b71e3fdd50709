using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Winnow.Models;

/// <summary>
/// Which instruction set libtorch's oneDNN kernels (the convolutions) may use in this process, and why: what
/// options.json records, the run's header line and <c>winnow bench</c> print.
/// </summary>
/// <param name="Isa">"native" (the CPU's best, no cap) or the oneDNN cap in force (e.g. "AVX2").</param>
/// <param name="Reason">How it was settled: given in the environment, or chosen for this CPU.</param>
/// <param name="Cpu">The processor (<see cref="CpuInfo.Description"/>, with its family and model when known).</param>
public sealed record KernelIsaChoice(string Isa, string Reason, string Cpu)
{
    /// <summary>A setting that could not be understood (the whole line for the user); null when there is none.</summary>
    public string? Error { get; init; }

    /// <summary>Whether a cap below the CPU's best is in force.</summary>
    public bool Capped => !string.Equals(Isa, KernelIsa.Native, StringComparison.OrdinalIgnoreCase) && !string.Equals(Isa, "ALL", StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether the kernels may use bfloat16 arithmetic (no cap, or a cap at AVX512_CORE_BF16 or above).</summary>
    public bool AllowsBFloat16 => !Capped || KernelIsa.OneDnnNames.ToList().FindIndex(n => n.Equals(Isa, StringComparison.OrdinalIgnoreCase))
        >= KernelIsa.OneDnnNames.ToList().IndexOf("AVX512_CORE_BF16");

    /// <summary>One line: "oneDNN kernels AVX2 (auto: ...)" or "oneDNN kernels native (auto: ...)".</summary>
    public string Summary => $"oneDNN kernels {Isa} ({Reason})";
}

/// <summary>
/// Caps oneDNN's instruction set from inside the process on CPUs where its AVX-512 kernels are known to compute wrong
/// values, before libtorch runs its first convolution. On CPU A of docs/ (an AMD EPYC of the Zen 5 family, AVX-512
/// with BF16 and VP2INTERSECT), libtorch 2.10's oneDNN kernels now and then turn a step's values into NaN (in 4 of 5
/// cross-entropy runs with channels-last off, in 8 of 18 runs of SANM's cheaper step; docs/methods.md); capping
/// them at AVX2 cured every case, while a Zen 4 EPYC (AVX-512 with BF16, no VP2INTERSECT) and an Intel Xeon showed no
/// NaN uncapped. oneDNN reads its cap, the environment variable ONEDNN_MAX_CPU_ISA, once, at its first kernel: .NET's
/// Environment.SetEnvironmentVariable does not reach the native environment on Linux, so the cap is set with libc's
/// setenv. The module initializer applies it as soon as any Winnow type is used; code that runs a convolution
/// through TorchSharp before touching Winnow gets the CPU's native kernels.
/// </summary>
public static partial class KernelIsa
{
    /// <summary>oneDNN's own variable; when the user sets it (or its older name DNNL_MAX_CPU_ISA), it is left as given.</summary>
    public const string OneDnnVariable = "ONEDNN_MAX_CPU_ISA";

    /// <summary>
    /// Winnow's setting: <c>auto</c> (default: cap at AVX2 only on CPUs with a known fault), <c>native</c> (never cap),
    /// or a oneDNN instruction-set name to cap at (<see cref="OneDnnNames"/>).
    /// </summary>
    public const string SettingVariable = "WINNOW_KERNEL_ISA";

    /// <summary>The choice's <see cref="KernelIsaChoice.Isa"/> when no cap is set.</summary>
    public const string Native = "native";

    /// <summary>The cap applied on a CPU with a known fault.</summary>
    public const string SafeIsa = "AVX2";

    /// <summary>The values oneDNN accepts for <see cref="OneDnnVariable"/> (libtorch 2.10's oneDNN 3.x), from the narrowest to ALL.</summary>
    public static readonly IReadOnlyList<string> OneDnnNames =
    [
        "SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX2_VNNI_2", "AVX512_CORE", "AVX512_CORE_VNNI", "AVX512_CORE_BF16",
        "AVX10_1_512", "AVX512_CORE_FP16", "AVX10_1_512_AMX", "AVX512_CORE_AMX", "AVX10_1_512_AMX_FP16", "AVX512_CORE_AMX_FP16", "ALL",
    ];

    private static readonly Lazy<KernelIsaChoice> applied = new(Apply);

    /// <summary>The choice in force in this process (applied on first use).</summary>
    public static KernelIsaChoice Current => applied.Value;

    /// <summary>Applies the choice once, as early as possible: when the Winnow assembly is first used.</summary>
    [ModuleInitializer]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2255", Justification = "The cap must be in the native environment before libtorch's first convolution, which any Winnow call may run.")]
    internal static void ApplyEarly() => _ = applied.Value;

    /// <summary>
    /// Why oneDNN's AVX-512 kernels are unsafe on <paramref name="cpu"/>, or null when no fault is known: AMD processors
    /// of the Zen 5 family (cpu family 26 and later, or AVX-512 with VP2INTERSECT, which among AMD's processors only
    /// Zen 5 has: CPU A's flags name it, its family was not recorded).
    /// </summary>
    public static string? KnownFault(CpuInfo cpu)
    {
        if (cpu.Vendor != "AuthenticAMD" || !cpu.Flags.Contains("avx512f")) return null;
        bool zen5 = cpu.Family >= 26 || cpu.Flags.Contains("avx512_vp2intersect");
        return zen5 ? "an AMD Zen 5 CPU, on which oneDNN's AVX-512 kernels in libtorch 2.10 give intermittent NaN (docs/methods.md)" : null;
    }

    /// <summary>
    /// The choice for <paramref name="cpu"/> (a plain function, checked without the hardware): <paramref name="oneDnnGiven"/>
    /// (the user's ONEDNN_MAX_CPU_ISA) wins; else <paramref name="setting"/> (WINNOW_KERNEL_ISA) decides, auto when null.
    /// </summary>
    public static KernelIsaChoice Decide(CpuInfo cpu, string? oneDnnGiven, string? setting)
    {
        string described = cpu.Signature is { } signature ? $"{cpu.Description} ({signature})" : cpu.Description;
        if (!string.IsNullOrWhiteSpace(oneDnnGiven)) return new(oneDnnGiven.Trim(), $"{OneDnnVariable} given in the environment", described);
        string value = setting?.Trim() ?? "";
        if (value.Length == 0 || value.Equals("auto", StringComparison.OrdinalIgnoreCase))
            return KnownFault(cpu) is { } fault
                ? new(SafeIsa, $"auto: capped at {SafeIsa} on {fault}; {SettingVariable}=native lifts it", described)
                : new(Native, "auto: no known kernel fault on this CPU", described);
        if (value.Equals(Native, StringComparison.OrdinalIgnoreCase)) return new(Native, $"{SettingVariable}=native", described);
        var name = OneDnnNames.FirstOrDefault(n => n.Equals(value, StringComparison.OrdinalIgnoreCase));
        if (name is not null) return new(name, $"{SettingVariable}={value}", described);
        var fallback = Decide(cpu, null, null);
        return fallback with
        {
            Error = $"{SettingVariable}={value}: expected auto, native or one of {string.Join(", ", OneDnnNames)}",
        };
    }

    private static KernelIsaChoice Apply()
    {
        string? given = Environment.GetEnvironmentVariable(OneDnnVariable) ?? Environment.GetEnvironmentVariable("DNNL_MAX_CPU_ISA");
        var choice = Decide(CpuInfo.Current, given, Environment.GetEnvironmentVariable(SettingVariable));
        if (given is null && choice.Capped && OperatingSystem.IsLinux())
        {
            try
            {
                if (setenv(OneDnnVariable, choice.Isa, 1) != 0) return choice with { Isa = Native, Reason = $"{choice.Reason}; setenv failed, so not applied" };
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                return choice with { Isa = Native, Reason = $"{choice.Reason}; libc's setenv not found, so not applied" };
            }
        }
        return choice;
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int setenv(string name, string value, int overwrite);
}
