using System.Globalization;
using Winnow.Models;

namespace Winnow.Analysis;

/// <summary>
/// How a run's compute precision was settled, as options.json records it and the run's header line prints it.
/// </summary>
public sealed record PrecisionChoice
{
    /// <summary>What was asked: <see cref="Precision.Auto"/>, or an explicit precision.</summary>
    public Precision Requested { get; init; }

    /// <summary>The precision the run computes in.</summary>
    public Precision Chosen { get; init; }

    /// <summary>Which step was timed (training, pretraining or inference); null when nothing was measured.</summary>
    public BenchmarkStep? Measured { get; init; }

    /// <summary>Images per second of the timed step in float32, if measured.</summary>
    public double? Float32ImagesPerSecond { get; init; }

    /// <summary>Images per second of the timed step in bfloat16, if measured.</summary>
    public double? BFloat16ImagesPerSecond { get; init; }

    /// <summary>Why bfloat16 was not measured, if it was not.</summary>
    public string? BFloat16Skipped { get; init; }

    /// <summary>The processor the choice was made on (<see cref="CpuInfo.Description"/>).</summary>
    public string Cpu { get; init; } = "";

    /// <summary>
    /// One line for a run's header: "fp32 (auto: fp32 703 img/s, bf16 958 img/s)", "fp32 (auto: fp32 468 img/s; bf16
    /// not tried: ...)" or "bf16 (given)".
    /// </summary>
    public string Summary
    {
        get
        {
            string chosen = PrecisionSelector.Name(Chosen);
            if (Requested != Precision.Auto) return $"{chosen} (given)";
            var ci = CultureInfo.InvariantCulture;
            string fp32 = Float32ImagesPerSecond is { } f ? string.Create(ci, $"fp32 {f:F0} img/s") : "fp32 not measured";
            string bf16 = BFloat16ImagesPerSecond is { } b ? string.Create(ci, $", bf16 {b:F0} img/s") : $"; bf16 not tried: {BFloat16Skipped}";
            return $"{chosen} (auto: {fp32}{bf16})";
        }
    }
}

/// <summary>
/// Chooses between float32 and bfloat16 by measuring: a few steps of the run's own model in each precision, the faster
/// wins. bfloat16 is not tried on a CPU that reports no native bfloat16 arithmetic, where it is hopeless (14× slower
/// than float32 for a training step on an AVX2-only AMD Zen 3); it must also beat float32 by
/// <see cref="BFloat16Margin"/>, since it costs accuracy digits and a near tie is not worth them.
/// </summary>
public static class PrecisionSelector
{
    /// <summary>bfloat16 is chosen only when it is at least this many times faster than float32 (5%).</summary>
    public const double BFloat16Margin = 1.05;

    /// <summary>Timed steps per precision and round (after two warm-up steps).</summary>
    public const int MeasuredSteps = 4;

    /// <summary>
    /// Rounds of measurement, fp32 and bf16 alternating; each precision keeps its best round, so that one slow round
    /// (a first bf16 primitive, another process) does not decide.
    /// </summary>
    public const int MeasuredRounds = 2;

    /// <summary>"fp32", "bf16" or "auto", as the CLI spells them.</summary>
    public static string Name(Precision p) => p switch { Precision.BFloat16 => "bf16", Precision.Auto => "auto", _ => "fp32" };

    /// <summary>The decision from measured figures (a plain function, so it can be checked without the hardware).</summary>
    /// <param name="float32">Images per second in float32.</param>
    /// <param name="bfloat16">Images per second in bfloat16, or null when it was not measured.</param>
    /// <param name="bfloat16Skipped">Why bfloat16 was not measured (with a null <paramref name="bfloat16"/>).</param>
    /// <param name="step">The step that was timed.</param>
    /// <param name="cpu">The processor's description.</param>
    public static PrecisionChoice Decide(double float32, double? bfloat16, string? bfloat16Skipped, BenchmarkStep step, string cpu)
    {
        if (!(float32 > 0)) throw new ArgumentOutOfRangeException(nameof(float32), float32, "a measured rate must be positive");
        bool bf16Wins = bfloat16 is { } b && b >= BFloat16Margin * float32;
        return new PrecisionChoice
        {
            Requested = Precision.Auto,
            Chosen = bf16Wins ? Precision.BFloat16 : Precision.Float32,
            Measured = step,
            Float32ImagesPerSecond = float32,
            BFloat16ImagesPerSecond = bfloat16,
            BFloat16Skipped = bfloat16 is null ? bfloat16Skipped ?? "not measured" : null,
            Cpu = cpu,
        };
    }

    /// <summary>
    /// Why bfloat16 is not worth timing on <paramref name="cpu"/>, or null when it is: a CPU whose flags are known and
    /// name no native bfloat16 arithmetic, or oneDNN's kernels capped below it (<paramref name="kernels"/>; at AVX2 a
    /// bf16 training step ran 18 times slower than fp32 on CPU D).
    /// </summary>
    public static string? HopelessBFloat16(CpuInfo cpu, KernelIsaChoice? kernels = null) =>
        cpu.HasNativeBFloat16 == false
            ? $"the CPU reports none of {string.Join(", ", CpuInfo.NativeBFloat16Flags)}, so bf16 would be emulated (many times slower)"
            : kernels is { AllowsBFloat16: false } ? $"oneDNN's kernels are capped at {kernels.Isa}, which has no bf16 arithmetic"
            : null;

    /// <summary>bfloat16 is refused when the model's bfloat16 forward pass lands further than this from float32's (25%).</summary>
    public const double BFloat16Tolerance = 0.25;

    /// <summary>
    /// Why bfloat16 must not be used, given how far the model's bfloat16 forward pass lands from float32's
    /// (<see cref="ThroughputBenchmark.BFloat16Deviation"/>), or null when it is within <see cref="BFloat16Tolerance"/>:
    /// libtorch's bfloat16 kernels are not right for every shape on every CPU.
    /// </summary>
    public static string? WrongBFloat16(double deviation) => deviation <= BFloat16Tolerance ? null
        : double.IsPositiveInfinity(deviation) ? "its forward pass gives non-finite values on this CPU"
        : string.Create(CultureInfo.InvariantCulture, $"its forward pass differs from fp32 by {100 * deviation:F0}% on this CPU");

    /// <summary>
    /// Settles the precision of a run: an explicit <paramref name="requested"/> precision is kept as given;
    /// <see cref="Precision.Auto"/> times <see cref="MeasuredRounds"/> × <see cref="MeasuredSteps"/> steps of <paramref name="model"/> (its
    /// <see cref="ThroughputOptions.Step"/>, batch and input shape) in float32 and, unless it is hopeless on this CPU or
    /// its results are wrong there (<see cref="WrongBFloat16"/>), in bfloat16, and keeps the faster.
    /// </summary>
    /// <param name="requested">Auto, or an explicit precision.</param>
    /// <param name="model">The model, batch, input shape, threads and step to time.</param>
    /// <param name="cpu">The processor (default: this machine's).</param>
    /// <param name="cancellation">Cancels the measurement.</param>
    /// <param name="steps">Timed steps per precision and round.</param>
    public static PrecisionChoice Resolve(Precision requested, ThroughputOptions model, CpuInfo? cpu = null, CancellationToken cancellation = default,
        int steps = MeasuredSteps)
    {
        cpu ??= CpuInfo.Current;
        if (requested != Precision.Auto)
            return new PrecisionChoice { Requested = requested, Chosen = requested, Cpu = cpu.Description };
        var timed = model with { Steps = steps };
        string? skipped = HopelessBFloat16(cpu, KernelIsa.Current) ?? WrongBFloat16(ThroughputBenchmark.BFloat16Deviation(model));
        double fp32 = 0;
        double? bf16 = null;
        for (int round = 0; round < MeasuredRounds; round++)
        {
            fp32 = Math.Max(fp32, ThroughputBenchmark.ImagesPerSecond(timed with { Precision = Precision.Float32 }, cancellation));
            if (skipped is null) bf16 = Math.Max(bf16 ?? 0, ThroughputBenchmark.ImagesPerSecond(timed with { Precision = Precision.BFloat16 }, cancellation));
        }
        return Decide(fp32, bf16, skipped, model.Step, cpu.Description);
    }
}
