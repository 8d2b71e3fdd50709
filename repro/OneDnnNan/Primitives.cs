using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace OneDnnNan;

/// <summary>
/// Probes each convolution of the failing workload for reads outside its buffers: every input, weight and output
/// gradient is placed in a buffer whose surroundings hold NaN, and the freed heap is filled with NaN before each call,
/// so a kernel that reads (or accumulates into) memory it does not own returns NaN every time, not now and then.
/// </summary>
internal static class Primitives
{
#pragma warning disable RS0030 // kept alive for the whole process
    private static readonly Scalar nan = (Scalar)double.NaN;
#pragma warning restore RS0030

    private static Tensor Poisoned(long[] shape, bool nhwc)
    {
        long n = shape.Aggregate(1L, (a, b) => a * b);
        var big = full(n + 8192, nan);
        var flat = big.narrow(0, 4096, n);
        var t = nhwc && shape.Length == 4 ? flat.view(shape[0], shape[2], shape[3], shape[1]).permute(0, 3, 1, 2) : flat.view(shape);
        using (no_grad()) t.copy_(randn(shape));
        return t.detach();
    }

    private static void PoisonHeap()
    {
        var list = new List<Tensor>();
        foreach (long size in new long[] { 1 << 10, 1 << 12, 1 << 14, 1 << 16, 1 << 18, 1 << 20, 1 << 22 })
            for (int i = 0; i < 4; i++) list.Add(full(size, nan));
        foreach (var t in list) t.Dispose();
    }

    /// <summary>Runs every shape <paramref name="reps"/> times; returns the number of calls that gave NaN.</summary>
    public static int Run(int reps, bool channelsLast)
    {
        manual_seed(0);
        int failures = 0;
        var cases = new List<(string Name, long N, long Cin, long Cout, long Hw, long K, long Stride, long Pad)>();
        foreach (long n in new long[] { 16, 64, 128 })
        {
            foreach (long hw in new long[] { 16, 28 })
            {
                cases.Add(("stem1", n, 1, 24, hw, 3, 1, 1));
                cases.Add(("stem3", n, 3, 24, hw, 3, 1, 1));
                cases.Add(("stem4", n, 4, 24, hw, 3, 1, 1));
            }
            cases.Add(("b1c1", n, 24, 48, 28, 3, 2, 1));
            cases.Add(("b1c2", n, 48, 48, 14, 3, 1, 1));
            cases.Add(("b1sc", n, 24, 48, 28, 1, 2, 0));
            cases.Add(("b2c1", n, 48, 96, 14, 3, 2, 1));
            cases.Add(("b2c2", n, 96, 96, 7, 3, 1, 1));
            cases.Add(("b2sc", n, 48, 96, 14, 1, 2, 0));
            cases.Add(("b3c1", n, 96, 192, 7, 3, 2, 1));
            cases.Add(("b3c2", n, 192, 192, 4, 3, 1, 1));
            cases.Add(("b3sc", n, 96, 192, 7, 1, 2, 0));
        }
                foreach (var c in cases)
        {
            for (int rep = 0; rep < reps; rep++)
            {
                using var scope = NewDisposeScope();
                var x = Poisoned([c.N, c.Cin, c.Hw, c.Hw], channelsLast).requires_grad_();
                var w = Poisoned([c.Cout, c.Cin, c.K, c.K], channelsLast).requires_grad_();
                PoisonHeap();
                var y = F.conv2d(x, w, null, strides: [c.Stride, c.Stride], padding: [c.Pad, c.Pad]);
                bool fwd = y.isnan().any().item<bool>();
                var g = Poisoned(y.shape, channelsLast);
                PoisonHeap();
                y.backward([g]);
                bool gx = x.grad!.isnan().any().item<bool>();
                bool gw = w.grad!.isnan().any().item<bool>();
                if (fwd || gx || gw)
                {
                    failures++;
                    Console.WriteLine($"{c.Name} N={c.N} {c.Cin}->{c.Cout} {c.Hw}x{c.Hw} k{c.K} s{c.Stride} p{c.Pad} rep {rep}: forward {(fwd ? "NaN" : "ok")}, grad input {(gx ? "NaN" : "ok")}, grad weight {(gw ? "NaN" : "ok")}");
                }
            }
        }
        // SANM's decoder: transposed convolutions 8x4x4 -> 4x10x10 -> 2x13x13 -> 1x28x28 (forward only in the failing test).
        var deconvs = new (long Cin, long Cout, long Hw, long K, long S)[] { (8, 4, 4, 4, 2), (4, 2, 10, 4, 1), (2, 1, 13, 4, 2), (192, 96, 4, 4, 2), (96, 48, 10, 4, 1), (48, 1, 13, 4, 2) };
        int dcalls = 0;
        foreach (long n in new long[] { 2, 4, 32, 64 })
            foreach (var d in deconvs)
                for (int rep = 0; rep < reps * 5; rep++)
                {
                    dcalls++;
                    using var scope = NewDisposeScope();
                    var x = Poisoned([n, d.Cin, d.Hw, d.Hw], channelsLast);
                    var w = Poisoned([d.Cin, d.Cout, d.K, d.K], false);
                    var b = Poisoned([d.Cout], false);
                    PoisonHeap();
                    var y = F.conv_transpose2d(x, w, b, [d.S, d.S], [0, 0], [0, 0]);
                    if (y.isnan().any().item<bool>())
                    {
                        failures++;
                        Console.WriteLine($"deconv N={n} {d.Cin}->{d.Cout} {d.Hw}x{d.Hw} k{d.K} s{d.S} rep {rep}: forward NaN in {y.isnan().sum().item<long>()} of {y.numel()}");
                    }
                }
        Console.WriteLine($"{failures} failing calls of {cases.Count * reps + dcalls}");
        return failures;
    }
}
