using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using SharpClip.Managed;

namespace SharpClip.Tests.Managed;

/// <summary>The engine's elementwise functions where CPUs differ: the power-of-two scale AVX2 uses in place of AVX-512's
/// <c>vscalefps</c>, and ReLU's NaN.</summary>
public class VectorMathTests
{
    /// <summary>x·2^n over every n exp can produce and past it (overflow to ∞, gradual underflow to subnormals and 0),
    /// against float64's exact product rounded once — what <c>vscalefps</c> computes.</summary>
    [Fact]
    public void ScaleByPowerOfTwoRoundsOnceLikeVscalef()
    {
        float[] mantissas = [1f, 0.70710677f, 1.4142135f, 1.2345678f, -0.987654f, 0f];
        for (int n = -200; n <= 200; n++)
            foreach (var m in mantissas)
            {
                float got = VectorMath.ScaleByPowerOfTwo(Vector512.Create(m), Vector512.Create((float)n))[7];
                float want = (float)(m * Math.Pow(2, n));
                Assert.True(got.Equals(want), $"{m}·2^{n}: {got} vs {want}");
                if (Avx512F.IsSupported)
                    Assert.Equal(Avx512F.Scale(Vector512.Create(m), Vector512.Create((float)n))[3], got);
            }
        Assert.True(float.IsNaN(VectorMath.ScaleByPowerOfTwo(Vector512.Create(float.NaN), Vector512.Create(float.NaN))[0]));
    }

    /// <summary>exp over its range, subnormal and overflow ends included, to 2 ulp of float64's.</summary>
    [Fact]
    public void ExpIsWithinTwoUlps()
    {
        for (double x = -110; x <= 90; x += 0.0137)
        {
            float got = VectorMath.Exp(Vector512.Create((float)x))[5];
            double want = Math.Exp((float)x);
            if (want > float.MaxValue) { Assert.Equal(float.PositiveInfinity, got); continue; }
            if ((float)want < 1.2e-38f) { Assert.True(Math.Abs(got - want) <= 2 * float.Epsilon + 1e-6 * want, $"exp({x}) = {got} vs {want}"); continue; }
            Assert.True(Math.Abs(got - want) <= 2.0 * (MathF.BitIncrement((float)want) - (float)want), $"exp({x}) = {got} vs {want}");
        }
        Assert.Equal(0f, VectorMath.Exp(Vector512.Create(float.NegativeInfinity))[0]);
    }

    [Fact]
    public void ReluKeepsNaN()
    {
        var y = VectorMath.Relu(Vector512.Create(float.NaN, -1f, 2f, -0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f));
        Assert.True(float.IsNaN(y[0]));
        Assert.Equal(0f, y[1]);
        Assert.Equal(2f, y[2]);
    }
}
