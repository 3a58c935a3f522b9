using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SharpClip.Runtime;

/// <summary>
/// Keeps libtorch's own log at errors unless the user chose a level. libtorch 2.10 on a CPU NNPACK does not support
/// (AVX-512 AMD EPYC here) logs "Could not initialize NNPACK! Reason: Unsupported hardware." on every eligible
/// convolution call — 304 lines for one 16-image <c>generate</c>, 9,728 for the guidance study — which buries the
/// progress a user reads. libtorch reads <c>TORCH_CPP_LOG_LEVEL</c> only when <c>c10::initLogging</c> runs, which
/// PyTorch's Python module calls and plain libtorch never does; so this sets the variable natively (unless already
/// set: a user's <c>TORCH_CPP_LOG_LEVEL=WARNING</c> brings the messages back) and calls <c>initLogging</c> as the
/// library loads. libtorch's <c>TORCH_WARN</c> warnings take another path and are not affected.
/// </summary>
public static class TorchLogLevel
{
    /// <summary>The variable libtorch's c10 reads: INFO, WARNING, ERROR, FATAL (or 0–3).</summary>
    public const string Variable = "TORCH_CPP_LOG_LEVEL";

    /// <summary>What SharpClip sets when the user has not chosen.</summary>
    public const string Default = "ERROR";

    [DllImport("c10", EntryPoint = "_ZN3c1011initLoggingEv")]
    static extern void InitLogging();

    /// <summary>The minimum severity libtorch logs now (0 = INFO … 3 = FATAL); null when it cannot be read.</summary>
    public static int? Current
    {
        get
        {
            if (!OperatingSystem.IsLinux()) return null;
            try
            {
                var library = NativeLibrary.Load("c10", typeof(TorchLogLevel).Assembly, null);
                return NativeLibrary.TryGetExport(library, "FLAGS_caffe2_log_level", out var address) ? Marshal.ReadInt32(address) : null;
            }
            catch (DllNotFoundException) { return null; }
        }
    }

#pragma warning disable CA2255 // A library module initializer on purpose: the level must be set before libtorch logs.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void PreferErrors()
    {
        if (!NativeEnvironment.SetDefault(Variable, Default)) return;
        try
        {
            InitLogging();
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { } // another libtorch build: leave its default
    }
}
