using SharpClip.Data;

namespace SharpClip.Tests.Data;

/// <summary>
/// <see cref="LabeledDataset.StratifiedSample"/> (<c>eval linear-probe --train-samples</c>): per-class counts worked
/// out by hand, a class too small for its share still present, the same items for the same seed, the set's order.
/// </summary>
public class StratifiedSampleTests
{
    /// <summary>Classes of the given sizes, items interleaved so that order matters.</summary>
    static LabeledDataset Set(params int[] sizes)
    {
        var items = new List<LabeledImage>();
        var left = sizes.ToArray();
        for (int i = 0; left.Any(n => n > 0); i++)
        {
            int c = i % sizes.Length;
            if (left[c]-- > 0) items.Add(new LabeledImage($"c{c}/{items.Count}", new ImageFile($"/x/{items.Count}.png"), c));
        }
        return new LabeledDataset("set", sizes.Select((_, c) => $"class {c}").ToList(), items);
    }

    static int[] PerClass(LabeledDataset set, int classes) => Enumerable.Range(0, classes).Select(c => set.Items.Count(i => i.Label == c)).ToArray();

    // 50/30/20 → 10: one each, then 7 over the remaining 49/29/19 (3.54, 2.09, 1.37 → 3, 2, 1 and the odd one to the
    // largest remainder, class 0): 5, 3, 2 — the proportional split.
    [Theory]
    [InlineData(new[] { 50, 30, 20 }, 10, new[] { 5, 3, 2 })]
    // 97/2/1 → 5: a plain proportional split would give the two small classes nothing; each keeps one: 3, 1, 1.
    [InlineData(new[] { 97, 2, 1 }, 5, new[] { 3, 1, 1 })]
    // 4/4/4 → 6: two each.
    [InlineData(new[] { 4, 4, 4 }, 6, new[] { 2, 2, 2 })]
    // Fewer images than classes: no floor of one; proportional 6/3/1 of 2 → 1.2, 0.6, 0.2 → 1, 0, 0 + the largest remainder (class 1).
    [InlineData(new[] { 6, 3, 1 }, 2, new[] { 1, 1, 0 })]
    public void EachClassKeepsItsShare(int[] sizes, int count, int[] expected)
    {
        var sample = Set(sizes).StratifiedSample(count, seed: 0);
        Assert.Equal(count, sample.Items.Count);
        Assert.Equal(expected, PerClass(sample, sizes.Length));
    }

    [Fact]
    public void TheSameSeedGivesTheSameItemsInTheSetsOrder()
    {
        var set = Set(40, 25, 15);
        var a = set.StratifiedSample(20, seed: 3);
        var b = set.StratifiedSample(20, seed: 3);
        var c = set.StratifiedSample(20, seed: 4);
        Assert.Equal(a.Items.Select(i => i.Key), b.Items.Select(i => i.Key));
        Assert.Equal(a.Identity, b.Identity);                        // so the feature cache is reused
        Assert.NotEqual(a.Items.Select(i => i.Key), c.Items.Select(i => i.Key));
        var position = set.Items.Select((item, i) => (item.Key, i)).ToDictionary(t => t.Key, t => t.i);
        Assert.Equal(a.Items.Select(i => position[i.Key]).Order(), a.Items.Select(i => position[i.Key]));
        Assert.Equal(a.Items.Count, a.Items.Select(i => i.Key).Distinct().Count());
        Assert.Equal(set.ClassNames, a.ClassNames);
    }

    [Fact]
    public void AskingForAllOrMoreGivesTheSetAndLessThanOneIsRefused()
    {
        var set = Set(3, 3);
        Assert.Same(set, set.StratifiedSample(6, 0));
        Assert.Same(set, set.StratifiedSample(100, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => set.StratifiedSample(0, 0));
    }
}
