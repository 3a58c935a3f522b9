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

    /// <summary>Throws if a value is not finite or the norm is beyond <see cref="MaxNorm"/>; <paramref name="what"/> names the vector.</summary>
    public static void Validate(ReadOnlySpan<float> x, string what)
    {
        double n2 = 0;
        for (int j = 0; j < x.Length; j++)
        {
            if (!float.IsFinite(x[j])) throw new ArgumentException($"{what} has a non-finite value ({x[j]}) at position {j}");
            n2 += (double)x[j] * x[j];
        }
        if (Math.Sqrt(n2) > MaxNorm) throw new ArgumentException($"{what} has L2 norm {Math.Sqrt(n2):G3}, above the supported {MaxNorm:G1}");
    }

    /// <summary>Writes <paramref name="codes"/> (length ≥ x.Length; the tail is zeroed) and returns the row's scale and norms.</summary>
    public static RowCode Quantize(ReadOnlySpan<float> x, Span<sbyte> codes)
    {
        codes.Clear();
        float maxAbs = 0;
        foreach (float v in x) maxAbs = Math.Max(maxAbs, Math.Abs(v));
        if (maxAbs == 0) return new RowCode(0, 0, 0);
        float scale = Math.Max(maxAbs / 127f, float.Epsilon);
        float inverse = 1f / scale;
        bool useInverse = float.IsFinite(inverse);
        double err2 = 0, norm2 = 0;
        for (int j = 0; j < x.Length; j++)
        {
            float scaled = useInverse ? x[j] * inverse : x[j] / scale;
            int c = Math.Clamp((int)MathF.Round(scaled), -127, 127);
            codes[j] = (sbyte)c;
            // scale·c is exact in double (24 + 8 bits), and so is x − scale·c: only the squares and sums round
            double d = x[j] - (double)scale * c;
            err2 += d * d;
            norm2 += (double)x[j] * x[j];
        }
        return new RowCode(scale, RoundUp(err2, x.Length), RoundUp(norm2, x.Length));
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
