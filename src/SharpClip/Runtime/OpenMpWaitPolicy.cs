using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SharpClip.Runtime;

/// <summary>
/// Makes libtorch's OpenMP threads sleep instead of spin when they wait, unless the user chose otherwise.
/// libtorch's bundled libgomp spins by default; with one other busy process on a 2-core machine that spinning took
/// ViT-B/32 (batch 8, fp32) from ~0.5 s to 1.34–1.42 s per batch, against 0.84–0.86 s with <c>OMP_WAIT_POLICY=PASSIVE</c>
/// (texts: 240–256 ms against 103–117 ms); on a quiet machine the two were within noise (bench <c>model</c>, alternated).
/// libgomp reads the variable once, when libtorch is loaded, from the native environment — which
/// <see cref="Environment.SetEnvironmentVariable(string, string)"/> does not change on Linux — so this sets it with
/// libc's <c>setenv</c> as the library loads, before any of its code can touch libtorch.
/// </summary>
public static class OpenMpWaitPolicy
{
    /// <summary>The variable libgomp (and Intel's OpenMP) read.</summary>
    public const string Variable = "OMP_WAIT_POLICY";

    [DllImport("libc", EntryPoint = "setenv", CharSet = CharSet.Ansi)]
    static extern int SetNative(string name, string value, int overwrite);

    [DllImport("libc", EntryPoint = "getenv", CharSet = CharSet.Ansi)]
    static extern IntPtr GetNative(string name);

    /// <summary>The value native code sees now (null when unset or not on Linux).</summary>
    public static string? Current =>
        OperatingSystem.IsLinux() && GetNative(Variable) is var p && p != IntPtr.Zero ? Marshal.PtrToStringAnsi(p) : null;

#pragma warning disable CA2255 // A library module initializer on purpose: it must run before any code of ours loads libtorch.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void PreferPassive()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable(Variable) is { Length: > 0 }) return;
        try { SetNative(Variable, "PASSIVE", overwrite: 0); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { } // not glibc: leave the default
    }
}
