using Winnow.Models;

namespace Winnow.Tests.Models;

public class NativeAllocatorTests
{
    [Fact]
    public void GlibcKeepsFreedMemoryOnLinux()
    {
        // Every setting must take: a half-applied one (trim threshold without the mmap change) would pin glibc's mmap
        // threshold at 128 KiB, slower than not touching the allocator at all.
        bool applied = NativeAllocator.KeepFreedMemory();
        // The user's own MALLOC_* settings (either of the two) win: then nothing is changed.
        bool userSettings = Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is not null || Environment.GetEnvironmentVariable("MALLOC_TRIM_THRESHOLD_") is not null;
        Assert.Equal(OperatingSystem.IsLinux() && !userSettings, applied);
    }
}
