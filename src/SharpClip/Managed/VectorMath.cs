using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SharpClip.Managed;

/// <summary>The elementwise functions of CLIP's towers on 16 floats at a time, computed as the reference writes them.</summary>
internal static class VectorMath
{
    /// <summary>max(0, x), NaN kept (vmaxps returns its second operand when either is NaN), as PyTorch's ReLU does.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Relu(Vector512<float> x) => Vector512.MaxNative(Vector512<float>.Zero, x);

    /// <summary>QuickGELU, <c>x·sigmoid(1.702x)</c> (openai/CLIP's activation), sigmoid as <c>1/(1+e^(−z))</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> QuickGelu(Vector512<float> x) =>
        x / (Vector512<float>.One + Exp(x * Vector512.Create(-1.702f)));

    /// <summary>GELU in its erf form, <c>0.5·x·(1+erf(x/√2))</c> (PyTorch's <c>nn.GELU()</c>).</summary>
    public static Vector512<float> Gelu(Vector512<float> x) =>
        Vector512.Create(0.5f) * x * (Vector512<float>.One + Erf(x * Vector512.Create(0.70710678118654752f)));

    /// <summary>
    /// erf from Numerical Recipes' Chebyshev fit of erfc (fractional error below 1.2e-7): <c>erfc(z) = t·e^(−z²+P(t))</c>,
    /// <c>t = 1/(1+z/2)</c>, <c>z = |x|</c>. The absolute error of erf is then below 1.2e-7, at most 0.6e-7·|x| in GELU's
    /// <c>0.5·x·(1+erf)</c>: far inside the engine's 1e-4 bar (tested against libtorch's GELU).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static Vector512<float> Erf(Vector512<float> x)
    {
        var z = Vector512.Abs(x);
        var t = Vector512<float>.One / (Vector512<float>.One + Vector512.Create(0.5f) * z);
        var p = Vector512.Create(0.17087277f);
        p = p * t + Vector512.Create(-0.82215223f);
        p = p * t + Vector512.Create(1.48851587f);
        p = p * t + Vector512.Create(-1.13520398f);
        p = p * t + Vector512.Create(0.27886807f);
        p = p * t + Vector512.Create(-0.18628806f);
        p = p * t + Vector512.Create(0.09678418f);
        p = p * t + Vector512.Create(0.37409196f);
        p = p * t + Vector512.Create(1.00002368f);
        p = p * t + Vector512.Create(-1.26551223f);
        var erfc = t * Exp(-z * z + p);
        var magnitude = Vector512<float>.One - erfc;
        return Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<float>.Zero), -magnitude, magnitude);
    }

    /// <summary>
    /// e^x to about 1 ulp, 16 at a time: <c>2^n·e^r</c> with <c>n = round(x·log₂e)</c>, <c>r = x − n·ln 2</c> (ln 2 split
    /// in two so r is exact), e^r from Cephes' degree-6 polynomial for expf, and 2^n applied by <c>vscalefps</c> (or,
    /// without AVX-512, by <see cref="ScaleByPowerOfTwo"/>), which over- and underflows to ∞ and 0 as exp does. Inputs
    /// below −104 (−∞ from a mask included) give 0. Why not
    /// <see cref="Vector512.Exp(Vector512{float})"/>: it measured 8 ns per vector here, and the MLP's product with
    /// QuickGELU ran 298 GFLOP/s against 351 without; with this one 348-356 against 365-373.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        x = Vector512.Max(x, Vector512.Create(-104f));
        var n = Vector512.Round(x * Vector512.Create(1.44269504088896341f));
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-0.693359375f), x);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(2.12194440e-4f), r);
        var p = Vector512.Create(1.9875691500e-4f);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.3981999507e-3f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(8.3334519073e-3f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(4.1665795894e-2f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.6666665459e-1f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(5.0000001201e-1f));
        var er = Vector512.FusedMultiplyAdd(p, r * r, r) + Vector512<float>.One;
        return Avx512F.IsSupported ? Avx512F.Scale(er, n) : ScaleByPowerOfTwo(er, n);
    }

    /// <summary>
    /// <c>x·2^n</c> for whole <paramref name="n"/> without AVX-512's <c>vscalefps</c>: two factors <c>2^⌊n/2⌋</c> and
    /// <c>2^(n−⌊n/2⌋)</c>, each a normal float built from its exponent bits for |n| ≤ 252, so the product rounds once,
    /// into a subnormal or to 0 below 2^−126 and to ∞ above the float range, as <c>vscalefps</c> does. n is clamped to
    /// ±250 first (<see cref="Exp"/>'s n is −150 or more, and above 128 e^x is ∞ anyway; a NaN stays NaN through
    /// <paramref name="x"/>).
    /// </summary>
    public static Vector512<float> ScaleByPowerOfTwo(Vector512<float> x, Vector512<float> n)
    {
        var whole = Vector512.ConvertToInt32(Vector512.Min(Vector512.Max(n, Vector512.Create(-250f)), Vector512.Create(250f)));
        var low = whole >> 1;                                                   // arithmetic shift: ⌊n/2⌋
        var first = ((low + Vector512.Create(127)) << 23).AsSingle();
        var second = ((whole - low + Vector512.Create(127)) << 23).AsSingle();
        return x * first * second;
    }
}
