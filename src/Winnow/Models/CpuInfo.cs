using System.Globalization;

namespace Winnow.Models;

/// <summary>
/// What the processor says about itself (Linux's /proc/cpuinfo): its model name, core count and the instruction-set
/// flags that decide which precisions can be fast. Every figure Winnow reports names the CPU it comes from.
/// </summary>
/// <param name="ModelName">The processor's model name ("AMD EPYC", "Intel(R) Xeon(R) ..."), or "unknown CPU".</param>
/// <param name="Cores">Logical processors available to this process.</param>
/// <param name="Flags">The instruction-set flags (x86 "flags", ARM "Features"); empty when unknown.</param>
/// <param name="FlagsKnown">Whether the flags could be read (false off Linux).</param>
public sealed record CpuInfo(string ModelName, int Cores, IReadOnlySet<string> Flags, bool FlagsKnown)
{
    /// <summary>The vendor string ("AuthenticAMD", "GenuineIntel"); null when unknown.</summary>
    public string? Vendor { get; init; }

    /// <summary>The x86 "cpu family" (25 = AMD Zen 3 and Zen 4, 26 = Zen 5; 6 = most Intel cores); null when unknown.</summary>
    public int? Family { get; init; }

    /// <summary>The x86 "model" number within <see cref="Family"/>; null when unknown.</summary>
    public int? Model { get; init; }

    /// <summary>Vendor, family and model as one phrase ("AuthenticAMD family 25 model 17"), for records; null when unknown.</summary>
    public string? Signature => Vendor is null || Family is null ? null
        : string.Create(CultureInfo.InvariantCulture, $"{Vendor} family {Family} model {Model}");

    /// <summary>The flags that mean bfloat16 arithmetic in hardware: AVX-512 BF16 or AMX (x86), BF16 (ARMv8.6).</summary>
    public static readonly IReadOnlyList<string> NativeBFloat16Flags = ["avx512_bf16", "amx_bf16", "bf16"];

    /// <summary>
    /// Whether the CPU computes bfloat16 natively; null when its flags are unknown. Without it, libtorch emulates
    /// bfloat16 through float32 conversions, and a training step is many times slower than in float32 (14× measured on
    /// an AVX2-only AMD Zen 3).
    /// </summary>
    public bool? HasNativeBFloat16 => FlagsKnown ? NativeBFloat16Flags.Any(Flags.Contains) : null;

    /// <summary>The widest vector extension among AVX-512, AVX2 and AVX (x86), or null.</summary>
    public string? VectorExtension => Flags.Contains("avx512f") ? "AVX-512" : Flags.Contains("avx2") ? "AVX2" : Flags.Contains("avx") ? "AVX" : null;

    /// <summary>One line for reports: model name, cores, vector extension and native bfloat16, e.g. "AMD EPYC, 2 cores, AVX-512, native bf16".</summary>
    public string Description
    {
        get
        {
            var parts = new List<string> { ModelName, Cores.ToString(CultureInfo.InvariantCulture) + (Cores == 1 ? " core" : " cores") };
            if (VectorExtension is { } v) parts.Add(v);
            if (HasNativeBFloat16 is { } bf16) parts.Add(bf16 ? "native bf16" : "no native bf16");
            return string.Join(", ", parts);
        }
    }

    /// <summary>This machine's processor (read once).</summary>
    public static CpuInfo Current => current.Value;

    private static readonly Lazy<CpuInfo> current = new(() =>
    {
        const string path = "/proc/cpuinfo";
        try
        {
            if (File.Exists(path)) return Parse(File.ReadAllText(path), Environment.ProcessorCount);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return new CpuInfo("unknown CPU", Environment.ProcessorCount, new HashSet<string>(), false);
    });

    /// <summary>Reads the text of /proc/cpuinfo (its first processor's entry).</summary>
    public static CpuInfo Parse(string cpuinfo, int cores)
    {
        string? model = null, flags = null, vendor = null;
        int? family = null, modelNumber = null;
        foreach (var line in cpuinfo.Split('\n'))
        {
            int colon = line.IndexOf(':');
            if (colon < 0) continue;
            string key = line[..colon].Trim(), value = line[(colon + 1)..].Trim();
            if (model is null && key is "model name" or "Model" or "Hardware" or "cpu model" && value.Length > 0) model = value;
            if (flags is null && key is "flags" or "Features") flags = value;
            if (vendor is null && key == "vendor_id" && value.Length > 0) vendor = value;
            if (family is null && key == "cpu family" && int.TryParse(value, CultureInfo.InvariantCulture, out int f)) family = f;
            if (modelNumber is null && key == "model" && int.TryParse(value, CultureInfo.InvariantCulture, out int m)) modelNumber = m;
        }
        var set = new HashSet<string>(flags?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [], StringComparer.Ordinal);
        return new CpuInfo(model ?? "unknown CPU", cores, set, flags is not null) { Vendor = vendor, Family = family, Model = modelNumber };
    }
}
