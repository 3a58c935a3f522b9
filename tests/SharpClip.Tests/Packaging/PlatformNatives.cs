using System.Reflection.PortableExecutable;

namespace SharpClip.Tests.Packaging;

/// <summary>
/// The native libraries an app needs on each platform SharpClip supports, under the names their .NET bindings load:
/// libtorch and TorchSharp's glue, libvips (NetVips), Skia and HarfBuzz (the plots), ONNX Runtime, SQLite (the index).
/// A package or an app output that lacks one of them fails on that platform at the first call that needs it.
/// </summary>
public static class PlatformNatives
{
    public static IReadOnlyList<string> For(string rid) => rid switch
    {
        "linux-x64" => ["libtorch_cpu.so", "libLibTorchSharp.so", "libvips.so.42", "libSkiaSharp.so", "libHarfBuzzSharp.so", "libonnxruntime.so", "libe_sqlite3.so"],
        "win-x64" => ["torch_cpu.dll", "LibTorchSharp.dll", "libvips-42.dll", "libSkiaSharp.dll", "libHarfBuzzSharp.dll", "onnxruntime.dll", "e_sqlite3.dll"],
        "osx-arm64" => ["libtorch_cpu.dylib", "libLibTorchSharp.dylib", "libvips.42.dylib", "libSkiaSharp.dylib", "libHarfBuzzSharp.dylib", "libonnxruntime.dylib", "libe_sqlite3.dylib"],
        _ => throw new ArgumentOutOfRangeException(nameof(rid), rid, "not a platform SharpClip ships natives for"),
    };

    /// <summary>libtorch's own library on <paramref name="rid"/>: the one native no other platform's package may carry.</summary>
    public static string Torch(string rid) => For(rid)[0];

    /// <summary>
    /// Why the managed assembly in <paramref name="image"/> could not load on every platform, or null when it is AnyCPU:
    /// IL only, machine I386, not marked 32-bit. A DLL built with a RuntimeIdentifier is marked for that processor
    /// (x64), and an arm64 process refuses it.
    /// </summary>
    public static string? NotAnyCpu(Stream image)
    {
        using var pe = new PEReader(image, PEStreamOptions.LeaveOpen);
        var cor = pe.PEHeaders.CorHeader ?? throw new InvalidOperationException("not a managed assembly");
        var machine = pe.PEHeaders.CoffHeader.Machine;
        if (machine != Machine.I386 || (cor.Flags & CorFlags.ILOnly) == 0 || (cor.Flags & CorFlags.Requires32Bit) != 0)
            return $"machine {machine}, flags {cor.Flags}";
        return null;
    }
}
