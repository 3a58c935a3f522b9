using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Tests.Generation.Dalle;

/// <summary>Float comparisons against reference tensors, reporting the measured differences.</summary>
internal static class DvaeComparison
{
    /// <summary>max |actual − expected| and max |expected|, in float64.</summary>
    public static (double MaxDiff, double MaxRef) Diff(Tensor actual, Tensor expected)
    {
        Assert.True(actual.shape.SequenceEqual(expected.shape),
            $"shape [{string.Join(",", actual.shape)}], expected [{string.Join(",", expected.shape)}]");
        using var scope = NewDisposeScope();
        var a = actual.to(ScalarType.Float64);
        var e = expected.to(ScalarType.Float64);
        return (a.sub(e).abs().max().item<double>(), e.abs().max().item<double>());
    }

    /// <summary>|diff| ≤ rtol·max|ref| + atol, as the fixture README suggests; returns the max diff for the report.</summary>
    public static double AssertClose(Tensor actual, Tensor expected, double rtol, double atol, string what)
    {
        var (diff, max) = Diff(actual, expected);
        Assert.True(diff <= rtol * max + atol, $"{what}: max |diff| {diff:g3} > {rtol:g1}·{max:g3} + {atol:g1}");
        return diff;
    }

    public static void AssertEqualInts(Tensor actual, Tensor expected, string what)
    {
        Assert.True(actual.shape.SequenceEqual(expected.shape),
            $"{what}: shape [{string.Join(",", actual.shape)}], expected [{string.Join(",", expected.shape)}]");
        using var ne = actual.ne(expected);
        using var count = ne.sum();
        long wrong = count.item<long>();
        Assert.True(wrong == 0, $"{what}: {wrong} of {expected.numel()} differ");
    }
}
