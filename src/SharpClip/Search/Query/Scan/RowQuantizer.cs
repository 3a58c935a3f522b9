using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SharpClip.Search;

/// <summary>What a row's int8 copy needs besides its codes: x̂ = Scale·codes, ‖x − x̂‖ ≤ Error, ‖x‖ ≤ Norm.</summary>
internal readonly record struct RowCode(float Scale, float Error, float Norm);

/// <summary>
/// Symmetric int8 quantisation with one scale per row (Scale = max|x_j| / 127), plus the two norms the search bound
/// needs. The norms are computed in double from the codes actually stored and rounded UP to float, so they are true
/// upper bounds however the codes were rounded. Rows are padded with zero codes to <see cref="Width"/> so every
/// SIMD kernel runs whole vectors.
/// </summary>
internal static class RowQuantizer
{
    public const int WidthMultiple = 64;

    /// <summary>Embeddings with a larger L2 norm are refused: a float32 dot product of two of them could overflow.</summary>
    public const double MaxNorm = 1e18;

    public static int Width(int dimension) => (dimension + WidthMultiple - 1) / WidthMultiple * WidthMultiple;

    /// <summary>
    /// Why <paramref name="x"/> cannot be searched ("has a non-finite value ...", "has L2 norm ..."), or null when it
    /// can: every value finite and the L2 norm at most <see cref="MaxNorm"/>. Also returns max |x_j|.
    /// </summary>
    public static string? Problem(ReadOnlySpan<float> x, out float maxAbs)
    {
        maxAbs = 0;
        bool finite = true;
        int j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> m = default, ok = Vector256<float>.AllBitsSet;
            for (; j + 8 <= x.Length; j += 8)
            {
                var v = Vector256.Create(x.Slice(j, 8));
                ok &= Vector256.Equals(v - v, Vector256<float>.Zero);          // NaN and ±∞ give NaN
                m = Vector256.Max(m, Vector256.Abs(v));
            }
            finite = ok == Vector256<float>.AllBitsSet;
            for (int i = 0; i < 8; i++) maxAbs = MathF.Max(maxAbs, m[i]);
        }
        for (; j < x.Length; j++)
        {
            finite &= float.IsFinite(x[j]);
            maxAbs = MathF.Max(maxAbs, MathF.Abs(x[j]));
        }
        if (!finite)
            for (int i = 0; i < x.Length; i++)
                if (!float.IsFinite(x[i])) return $"has a non-finite value ({x[i]}) at position {i}";
        if (maxAbs * Math.Sqrt(x.Length) > MaxNorm)
        {
            double n2 = 0;
            foreach (float v in x) n2 += (double)v * v;
            if (Math.Sqrt(n2) > MaxNorm) return $"has L2 norm {Math.Sqrt(n2):G3}, above the supported {MaxNorm:G1}";
        }
        return null;
    }

    /// <summary>
    /// Quantises a valid row (see <see cref="Problem"/>; <paramref name="maxAbs"/> is what it returned) into
    /// <paramref name="codes"/> (length ≥ x.Length; the tail is zeroed) and returns its scale and norms.
    /// <paramref name="vectorised"/> = false forces the scalar loop (tests compare the two).
    /// </summary>
    public static RowCode Quantize(ReadOnlySpan<float> x, float maxAbs, Span<sbyte> codes, bool vectorised = true)
    {
        codes.Clear();
        if (maxAbs == 0) return new RowCode(0, 0, 0);
        float scale = Math.Max(maxAbs / 127f, float.Epsilon);
        float inverse = 1f / scale;
        double err2 = 0, norm2 = 0;
        int j = 0;
        if (vectorised && Vector256.IsHardwareAccelerated && float.IsFinite(inverse))
        {
            Vector256<double> e = default, n = default;
            for (; j + 32 <= x.Length; j += 32)
            {
                var c0 = Eight(x.Slice(j, 8), scale, inverse, ref e, ref n);
                var c1 = Eight(x.Slice(j + 8, 8), scale, inverse, ref e, ref n);
                var c2 = Eight(x.Slice(j + 16, 8), scale, inverse, ref e, ref n);
                var c3 = Eight(x.Slice(j + 24, 8), scale, inverse, ref e, ref n);
                var packed = Vector256.Narrow(Vector256.Narrow(c0, c1), Vector256.Narrow(c2, c3));   // 32 x int8, in order
                packed.AsSByte().CopyTo(codes.Slice(j, 32));
            }
            err2 = Vector256.Sum(e);
            norm2 = Vector256.Sum(n);
        }
        for (; j < x.Length; j++)
        {
            float scaled = float.IsFinite(inverse) ? x[j] * inverse : x[j] / scale;
            int c = Math.Clamp((int)MathF.Round(scaled), -127, 127);
            codes[j] = (sbyte)c;
            // scale·c is exact in double (24 + 8 bits), and so is x − scale·c: only the squares and sums round
            double d = x[j] - (double)scale * c;
            err2 += d * d;
            norm2 += (double)x[j] * x[j];
        }
        return new RowCode(scale, RoundUp(err2, x.Length), RoundUp(norm2, x.Length));
    }

    /// <summary>Eight values: their codes (as int32), with (x − scale·code)² and x² added to the double accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<int> Eight(ReadOnlySpan<float> x, float scale, float inverse, ref Vector256<double> err2, ref Vector256<double> norm2)
    {
        var v = Vector256.Create(x);
        var r = Vector256.Min(Vector256.Max(Vector256.Round(v * Vector256.Create(inverse)), Vector256.Create(-127f)), Vector256.Create(127f));
        var (v0, v1) = Vector256.Widen(v);
        var (r0, r1) = Vector256.Widen(r);                                // integer-valued, so exact codes
        var s = Vector256.Create((double)scale);
        var d0 = v0 - s * r0;                                             // exact, as in the scalar loop
        var d1 = v1 - s * r1;
        err2 += d0 * d0 + d1 * d1;
        norm2 += v0 * v0 + v1 * v1;
        return Vector256.ConvertToInt32(r);
    }

    /// <summary>
    /// An upper bound on √(exact Σ), given the double-precision sum of <paramref name="terms"/> squares: each square and
    /// each addition round by at most 2^-53 relatively, √ once more; (terms + 4)·2^-52 covers all of it.
    /// </summary>
    public static float RoundUp(double sumOfSquares, int terms)
    {
        double bound = Math.Sqrt(sumOfSquares) * (1 + (terms + 4) * Math.ScaleB(1, -52));
        float f = (float)bound;
        return f < bound ? MathF.BitIncrement(f) : f;
    }
}
