using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SharpClip.Search;

/// <summary>
/// Which kernel scans the int8 copy. All paths compute the same exact integer dot products, so they return
/// identical results; the choice only changes speed. Internal so tests can force each path the CPU supports.
/// </summary>
internal enum ScanPath
{
    /// <summary>Plain loops: any CPU.</summary>
    Scalar,
    /// <summary>Portable 128-bit vectors (SSE4 on x64, NEON on Arm).</summary>
    Vector128,
    /// <summary>AVX2: sign-extend 16 codes to int16, <c>vpmaddwd</c> with the int16 query.</summary>
    Avx2,
    /// <summary>AVX-512BW: the same with 32 codes per instruction.</summary>
    Avx512,
}

internal static class ScanPaths
{
    /// <summary>The fastest path this CPU runs.</summary>
    public static ScanPath Best { get; } = Avx512BW.IsSupported ? ScanPath.Avx512
        : Avx2.IsSupported ? ScanPath.Avx2
        : Vector128.IsHardwareAccelerated ? ScanPath.Vector128
        : ScanPath.Scalar;

    public static bool IsSupported(ScanPath path) => path switch
    {
        ScanPath.Scalar => true,
        ScanPath.Vector128 => Vector128.IsHardwareAccelerated,
        ScanPath.Avx2 => Avx2.IsSupported,
        ScanPath.Avx512 => Avx512BW.IsSupported,
        _ => false,
    };

    /// <summary>Every path this CPU runs, slowest first.</summary>
    public static IReadOnlyList<ScanPath> Supported { get; } = Enum.GetValues<ScanPath>().Where(IsSupported).ToArray();
}
