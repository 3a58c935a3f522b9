namespace SharpClip.Search;

/// <summary>
/// The definition of a search score: the plain float32 dot product, <c>s = 0; for j in 0..D-1: s += q[j] * x[j]</c>,
/// every product and every sum rounded to float32 in that order (no fused multiply-add, no reordering). Both the
/// exact rescoring of candidates and the full-scan fallback use this function, so a result never depends on which
/// path produced it, and anyone can reproduce a score with a three-line loop. .NET's JIT neither reorders float
/// additions nor contracts them into FMA, which is what keeps this bit-exact across CPUs.
/// Its rounding error is what <see cref="QueryCode"/> allows for with γ_D.
/// </summary>
internal static unsafe class ExactDot
{
    public static float Score(float* x, float* q, int dimension)
    {
        float s = 0;
        for (int j = 0; j < dimension; j++) s += q[j] * x[j];
        return s;
    }

    /// <summary>Four rows at once: four independent chains keep the FPU busy; each chain is exactly <see cref="Score"/>.</summary>
    public static void Score4(float* x0, float* x1, float* x2, float* x3, float* q, int dimension, Span<float> scores)
    {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (int j = 0; j < dimension; j++)
        {
            float qj = q[j];
            s0 += qj * x0[j];
            s1 += qj * x1[j];
            s2 += qj * x2[j];
            s3 += qj * x3[j];
        }
        scores[0] = s0;
        scores[1] = s1;
        scores[2] = s2;
        scores[3] = s3;
    }
}
