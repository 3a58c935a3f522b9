namespace SharpClip.Text.Unicode;

/// <summary>
/// A set of Unicode code points built from inclusive ranges. The cleanup and pre-tokeniser test every character
/// against several such sets, so the Basic Multilingual Plane is a bitmap (8 KB) and only astral code points
/// need a binary search.
/// </summary>
internal sealed class CodePointSet
{
    readonly ulong[] _bmp = new ulong[1024];
    readonly int[] _astral; // inclusive [start, end] pairs above U+FFFF, sorted and merged

    /// <summary>Union of range lists (each a flat array of inclusive [start, end] pairs) and single characters.</summary>
    public CodePointSet(IEnumerable<int[]> rangeLists, string? extraChars = null)
    {
        var ranges = new List<(int Start, int End)>();
        foreach (var list in rangeLists)
            for (int i = 0; i < list.Length; i += 2) ranges.Add((list[i], list[i + 1]));
        if (extraChars != null)
            foreach (var r in extraChars.EnumerateRunes()) ranges.Add((r.Value, r.Value));
        var astral = new List<(int Start, int End)>();
        foreach (var (s, e) in ranges)
        {
            for (int c = s; c <= Math.Min(e, 0xFFFF); c++) _bmp[c >> 6] |= 1UL << (c & 63);
            if (e > 0xFFFF) astral.Add((Math.Max(s, 0x10000), e));
        }
        astral.Sort();
        var merged = new List<int>();
        foreach (var (s, e) in astral)
        {
            if (merged.Count > 0 && s <= merged[^1] + 1) merged[^1] = Math.Max(merged[^1], e);
            else { merged.Add(s); merged.Add(e); }
        }
        _astral = merged.ToArray();
    }

    public CodePointSet(params int[][] rangeLists) : this((IEnumerable<int[]>)rangeLists) { }

    /// <summary>A set of the given characters only.</summary>
    public static CodePointSet Of(string chars) => new(Array.Empty<int[]>(), chars);

    public bool Contains(int cp)
    {
        if ((uint)cp <= 0xFFFF) return (_bmp[cp >> 6] & (1UL << (cp & 63))) != 0;
        int lo = 0, hi = _astral.Length / 2 - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >> 1;
            if (cp < _astral[2 * mid]) hi = mid - 1;
            else if (cp > _astral[2 * mid + 1]) lo = mid + 1;
            else return true;
        }
        return false;
    }
}
