namespace SharpClip.Runtime;

/// <summary>
/// What the CPU can do fast, read from <c>/proc/cpuinfo</c> on Linux. bf16 matrix products run at full speed only
/// with AVX512_BF16 or AMX-BF16; without them libtorch emulates bf16 and is ~240× slower than fp32 (measured on
/// this project's machines), so bf16 is never chosen without these flags.
/// </summary>
public sealed record CpuFeatures(string ModelName, IReadOnlySet<string> Flags, int LogicalCores)
{
    static readonly Lazy<CpuFeatures> _current = new(Detect);

    /// <summary>The machine this process runs on (read once).</summary>
    public static CpuFeatures Current => _current.Value;

    public bool HasAvx512Bf16 => Flags.Contains("avx512_bf16");

    public bool HasAmxBf16 => Flags.Contains("amx_bf16");

    /// <summary>True when bf16 matrix products have hardware support.</summary>
    public bool HasFastBf16 => HasAvx512Bf16 || HasAmxBf16;

    /// <summary>True when the CPU multiplies uint8 by int8 into int32 in one instruction (AVX512-VNNI, AVX-VNNI): int8
    /// matrix products then cannot saturate, so weights may use the full int8 range.</summary>
    public bool HasInt8DotProduct => Flags.Contains("avx512_vnni") || Flags.Contains("avx_vnni") || Flags.Contains("amx_int8");

    /// <summary>The flags benchmarks print beside their figures (the ones that decide fp32/bf16 speed).</summary>
    public IEnumerable<string> RelevantFlags =>
        new[] { "avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16", "amx_tile" }.Where(Flags.Contains);

    /// <summary>Parses the text of <c>/proc/cpuinfo</c> (first processor's model name and flags).</summary>
    public static CpuFeatures Parse(string cpuinfo, int logicalCores)
    {
        string model = "unknown CPU";
        HashSet<string> flags = [];
        foreach (var line in cpuinfo.Split('\n'))
        {
            int colon = line.IndexOf(':');
            if (colon < 0) continue;
            var key = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            if (key == "model name" && model == "unknown CPU") model = value;
            else if (key == "flags" && flags.Count == 0) flags = [.. value.Split(' ', StringSplitOptions.RemoveEmptyEntries)];
        }
        return new CpuFeatures(model, flags, logicalCores);
    }

    static CpuFeatures Detect()
    {
        const string path = "/proc/cpuinfo";
        try
        {
            if (OperatingSystem.IsLinux() && File.Exists(path)) return Parse(File.ReadAllText(path), Environment.ProcessorCount);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return new CpuFeatures(System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString(),
            new HashSet<string>(), Environment.ProcessorCount);
    }
}
