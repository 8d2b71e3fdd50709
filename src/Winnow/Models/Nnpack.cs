using System.Runtime.InteropServices;

namespace Winnow.Models;

/// <summary>
/// libtorch's switch for NNPACK convolutions (at::Context::setUserEnabledNNPACK, which TorchSharp does not wrap). On a
/// CPU that NNPACK does not support, every convolution that libtorch considers for NNPACK (a batch of one image among
/// them) tries to initialise it and logs "Could not initialize NNPACK! Reason: Unsupported hardware." to stderr: tens
/// of thousands of lines a minute for per-image passes. Turning it off skips the attempt; oneDNN or the native kernels
/// compute the convolution as they would after the failed attempt.
/// </summary>
public static partial class Nnpack
{
    /// <summary>
    /// Sets whether libtorch may use NNPACK and returns the previous setting, or null where the switch cannot be reached
    /// (not Linux, or a libtorch without these symbols).
    /// </summary>
    public static bool? SetEnabled(bool enabled)
    {
        if (!OperatingSystem.IsLinux()) return null;
        try
        {
            TorchSharp.torch.InitializeDeviceType(TorchSharp.DeviceType.CPU); // loads libtorch_cpu before the first call
            var context = GlobalContext();
            bool previous = UserEnabledNnpack(context);
            SetUserEnabledNnpack(context, enabled);
            return previous;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    // at::globalContext(), at::Context::userEnabledNNPACK() const and at::Context::setUserEnabledNNPACK(bool): Itanium
    // C++ names; a member function takes the object as its first argument.
    [LibraryImport("libtorch_cpu", EntryPoint = "_ZN2at13globalContextEv")]
    private static partial IntPtr GlobalContext();

    [LibraryImport("libtorch_cpu", EntryPoint = "_ZNK2at7Context17userEnabledNNPACKEv")]
    [return: MarshalAs(UnmanagedType.U1)]
    private static partial bool UserEnabledNnpack(IntPtr context);

    [LibraryImport("libtorch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledNNPACKEb")]
    private static partial void SetUserEnabledNnpack(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);
}
