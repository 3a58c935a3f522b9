using System.Text;

namespace SharpClip.Data;

/// <summary>
/// Process-independent hashing for seeding (string.GetHashCode is randomised per process, so it cannot make a run
/// reproducible). FNV-1a over UTF-8 for strings, SplitMix64 finalisation to mix numbers. Public so data sets that
/// plug into the loader seed their samples the same way.
/// </summary>
public static class StableHash
{
    public static ulong Of(string text)
    {
        ulong h = 14695981039346656037UL;
        Span<byte> buf = stackalloc byte[4];
        foreach (var rune in text.EnumerateRunes())
        {
            int n = rune.EncodeToUtf8(buf);
            for (int i = 0; i < n; i++) { h ^= buf[i]; h *= 1099511628211UL; }
        }
        return Mix(h);
    }

    public static ulong Of(params ReadOnlySpan<long> parts)
    {
        ulong h = 0x9E3779B97F4A7C15UL;
        foreach (var p in parts) h = Mix(h ^ (ulong)p) + 0x9E3779B97F4A7C15UL;
        return Mix(h);
    }

    public static ulong Of(long a, long b, ulong c, long d) => Of([a, b, (long)c, d]);

    /// <summary>A <see cref="Random"/> whose sequence depends only on the given numbers.</summary>
    public static Random Rng(params ReadOnlySpan<long> parts) => new((int)(Of(parts) & 0x7FFF_FFFF));

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
