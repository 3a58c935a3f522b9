using SharpClip.Data;

namespace SharpClip.Generation.Studies;

/// <summary>
/// The captions an image's own caption is ranked against in R-precision: for each held-out caption, K − 1 others
/// drawn without replacement. Caption i's draw is seeded by (seed, i) alone, so it is the same in every study and for
/// every candidate count or guidance value — a change in R-precision is the images', not the distractors'.
/// </summary>
public static class Distractors
{
    /// <summary>For each of <paramref name="captions"/> captions, the indices of its K − 1 distractors (ascending).</summary>
    /// <exception cref="ArgumentException">K is below 2 or above the number of captions.</exception>
    public static IReadOnlyList<int[]> Draw(int captions, int k, long seed)
    {
        if (k < 2) throw new ArgumentException($"--distractors {k}: R-precision ranks a caption among K ≥ 2 captions");
        if (k > captions) throw new ArgumentException($"--distractors {k}: needs at least {k} held-out captions, there are {captions} (lower K or raise --captions)");
        var draws = new int[captions][];
        for (int i = 0; i < captions; i++)
        {
            var others = Enumerable.Range(0, captions).Where(j => j != i).ToArray();
            StableHash.Rng(seed, i, 0x6469_7374).Shuffle(others);
            draws[i] = [.. others.Take(k - 1).Order()];
        }
        return draws;
    }
}
