using System.Runtime.InteropServices;

namespace Winnow.Models;

/// <summary>
/// Settings of the C allocator that libtorch allocates its tensors with. glibc hands every block above its mmap
/// threshold (128 KiB, raised on the fly to at most 32 MiB) straight to the kernel and unmaps it on free, and trims the
/// heap's top past 128 KiB: a network's activations (10 MB and more a tensor for a batch of 128 28×28 images) are then
/// mapped, zero-filled page by page and unmapped at every step. Keeping freed memory in the heap instead made a
/// compact-resnet training step 1.7× faster and inference up to 7× faster on a 2-core AMD EPYC; the cost is that the
/// process keeps its peak native memory until it ends.
/// </summary>
public static partial class NativeAllocator
{
    private const int TrimThreshold = -1, TopPad = -2, MmapThreshold = -3, MmapMax = -4;
    private static readonly Lazy<bool> applied = new(Apply);

    /// <summary>
    /// Applies the settings once per process (Linux with glibc; elsewhere, or when the user set them through
    /// MALLOC_* environment variables, nothing changes). Returns whether they are in force.
    /// </summary>
    public static bool KeepFreedMemory() => applied.Value;

    private static bool Apply()
    {
        if (!OperatingSystem.IsLinux()) return false;
        if (Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is not null || Environment.GetEnvironmentVariable("MALLOC_TRIM_THRESHOLD_") is not null)
            return false;
        try
        {
            // 1 GiB: above any activation of the models Winnow trains on a CPU. A glibc that caps the threshold (at 32 MiB
            // on 64-bit in some versions) refuses it; then mmap is turned off altogether, so that the fixed threshold of
            // 128 KiB that the next two settings would otherwise leave behind never applies.
            bool threshold = mallopt(MmapThreshold, 1 << 30) == 1 || mallopt(MmapMax, 0) == 1;
            return threshold & mallopt(TrimThreshold, 1 << 30) == 1 & mallopt(TopPad, 64 << 20) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false; // not glibc (musl has no mallopt)
        }
    }

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int mallopt(int parameter, int value);
}
