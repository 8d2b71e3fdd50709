using System.Runtime.CompilerServices;

namespace Winnow.Tests;

/// <summary>Applies Winnow's oneDNN cap (Models/KernelIsa.cs) before any test can run a convolution through TorchSharp alone.</summary>
internal static class KernelIsaSetup
{
    [ModuleInitializer]
    internal static void Apply() => _ = global::Winnow.Models.KernelIsa.Current;
}
