using static TorchSharp.torch;

// A reproduction of the intermittent NaN of libtorch 2.10's oneDNN kernels on an AMD Zen 5 EPYC (docs/methods.md),
// TorchSharp only. Usage: OneDnnNan train|probe [runs] [threads]; CL=1 for channels-last, KEEP=1 for Winnow's
// allocator settings (freed memory kept in the heap). ONEDNN_VERBOSE=1 names every kernel; ONEDNN_MAX_CPU_ISA=AVX2
// is the cure to compare with. Exit code 1 when any run or call met a NaN.
string mode = args.Length > 0 ? args[0] : "train";
int runs = args.Length > 1 ? int.Parse(args[1]) : 5;
set_num_threads(args.Length > 2 ? int.Parse(args[2]) : 2);
bool channelsLast = Environment.GetEnvironmentVariable("CL") == "1";
if (Environment.GetEnvironmentVariable("KEEP") == "1") { Mallopt(-3, 1 << 30); Mallopt(-1, 1 << 30); Mallopt(-2, 64 << 20); }
Console.WriteLine($"mode {mode}, channels-last {channelsLast}, threads {get_num_threads()}, ONEDNN_MAX_CPU_ISA={Environment.GetEnvironmentVariable("ONEDNN_MAX_CPU_ISA") ?? "(not set)"}");
int failures = mode switch
{
    "train" => OneDnnNan.TinyTraining.Run(runs, channelsLast),
    "probe" => OneDnnNan.Primitives.Run(runs, channelsLast),
    _ => throw new ArgumentException($"unknown mode '{mode}': expected train or probe"),
};
if (mode == "train") Console.WriteLine($"{failures} of {runs} runs met a NaN");
return failures == 0 ? 0 : 1;

[System.Runtime.InteropServices.DllImport("libc", EntryPoint = "mallopt")]
static extern int Mallopt(int parameter, int value);
