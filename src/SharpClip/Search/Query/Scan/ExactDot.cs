using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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

    /// <summary>
    /// Eight rows at once with AVX: each 8x8 tile of (rows x dimensions) is transposed in registers so one vector
    /// holds dimension j of all eight rows, and lane i then runs exactly <see cref="Score"/>'s sequence for row i
    /// (multiply, then add, j ascending). About three times fewer instructions than four scalar chains. The rows of
    /// the next call (<paramref name="next"/>) are prefetched as this one proceeds.
    /// </summary>
    public static void Score8Avx(float** rows, float** next, float* q, int dimension, Span<float> scores)
    {
        var acc = Vector256<float>.Zero;
        int j = 0;
        for (; j + 8 <= dimension; j += 8)
        {
            if ((j & 15) == 0)
                for (int r = 0; r < 8; r++) Sse.Prefetch0(next[r] + j);     // eight interleaved rows defeat the hardware prefetcher
            var t0 = Avx.UnpackLow(Avx.LoadVector256(rows[0] + j), Avx.LoadVector256(rows[1] + j));
            var t1 = Avx.UnpackHigh(Avx.LoadVector256(rows[0] + j), Avx.LoadVector256(rows[1] + j));
            var t2 = Avx.UnpackLow(Avx.LoadVector256(rows[2] + j), Avx.LoadVector256(rows[3] + j));
            var t3 = Avx.UnpackHigh(Avx.LoadVector256(rows[2] + j), Avx.LoadVector256(rows[3] + j));
            var t4 = Avx.UnpackLow(Avx.LoadVector256(rows[4] + j), Avx.LoadVector256(rows[5] + j));
            var t5 = Avx.UnpackHigh(Avx.LoadVector256(rows[4] + j), Avx.LoadVector256(rows[5] + j));
            var t6 = Avx.UnpackLow(Avx.LoadVector256(rows[6] + j), Avx.LoadVector256(rows[7] + j));
            var t7 = Avx.UnpackHigh(Avx.LoadVector256(rows[6] + j), Avx.LoadVector256(rows[7] + j));
            var u0 = Avx.Shuffle(t0, t2, 0x44);
            var u1 = Avx.Shuffle(t0, t2, 0xEE);
            var u2 = Avx.Shuffle(t1, t3, 0x44);
            var u3 = Avx.Shuffle(t1, t3, 0xEE);
            var u4 = Avx.Shuffle(t4, t6, 0x44);
            var u5 = Avx.Shuffle(t4, t6, 0xEE);
            var u6 = Avx.Shuffle(t5, t7, 0x44);
            var u7 = Avx.Shuffle(t5, t7, 0xEE);
            // column k = dimension j + k of rows 0..7
            acc = Avx.Add(acc, Avx.Multiply(Vector256.Create(q[j]), Avx.Permute2x128(u0, u4, 0x20)));
            acc = Avx.Add(acc, Avx.Multiply(Vector256.Create(q[j + 1]), Avx.Permute2x128(u1, u5, 0x20)));
            acc = Avx.Add(acc, Avx.Multiply(Vector256.Create(q[j + 2]), Avx.Permute2x128(u2, u6, 0x20)));
            acc = Avx.Add(acc, Avx.Multiply(Vector256.Create(q[j + 3]), Avx.Permute2x128(u3, u7, 0x20)));
            acc = Avx.Add(acc, Avx.Multiply(Vector256.Create(q[j + 4]), Avx.Permute2x128(u0, u4, 0x31)));
            acc = Avx.Add(acc, Avx.Multiply(Vector256.Create(q[j + 5]), Avx.Permute2x128(u1, u5, 0x31)));
            acc = Avx.Add(acc, Avx.Multiply(Vector256.Create(q[j + 6]), Avx.Permute2x128(u2, u6, 0x31)));
            acc = Avx.Add(acc, Avx.Multiply(Vector256.Create(q[j + 7]), Avx.Permute2x128(u3, u7, 0x31)));
        }
        for (int i = 0; i < 8; i++)
        {
            float s = acc.GetElement(i);
            for (int jj = j; jj < dimension; jj++) s += q[jj] * rows[i][jj];      // the same sequence continues
            scores[i] = s;
        }
    }
}
