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
        if (OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is null) Assert.True(applied);
        else Assert.False(applied);
    }
}
