using System.Runtime.CompilerServices;

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

    /// <summary>The value native code sees now (null when unset or not on Linux).</summary>
    public static string? Current => NativeEnvironment.Get(Variable);

#pragma warning disable CA2255 // A library module initializer on purpose: it must run before any code of ours loads libtorch.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void PreferPassive() => NativeEnvironment.SetDefault(Variable, "PASSIVE");   // a user's value stays; not Linux or not glibc: the default stays
}
