using System.Security.Cryptography;
using System.Text;

namespace SharpClip.Files;

/// <summary>
/// The name of a cached result: SHA-256 over the things it depends on (a model fingerprint, a dataset identity, the
/// prompts), so a cache file written for other inputs is never mistaken for this one.
/// </summary>
public static class CacheKey
{
    /// <summary>SHA-256 (lower-case hex) over the parts, each followed by a NUL so ("ab", "c") and ("a", "bc") differ.</summary>
    public static string Of(params string[] parts)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var p in parts) { sha.AppendData(Encoding.UTF8.GetBytes(p)); sha.AppendData([0]); }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}
