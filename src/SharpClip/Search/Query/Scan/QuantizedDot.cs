using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SharpClip.Search;

/// <summary>
/// The first stage's kernel: integer dot products of int8 row codes with an int16 query,
/// <c>dots[i] = Σ_j codes[i·stride + j] · query[j]</c> for j &lt; width. Integer arithmetic is exact (the query's
/// range is chosen so the sum fits in int32; partial sums may wrap, the total cannot), so every path returns the
/// same numbers. Four rows at a time share each query load. <c>width</c> is a multiple of
/// <see cref="RowQuantizer.WidthMultiple"/>; codes past the real dimension are zero.
/// </summary>
internal static unsafe class QuantizedDot
{
    public static void Rows(ScanPath path, sbyte* codes, int stride, int rows, short* query, int width, int* dots)
    {
        switch (path)
        {
            case ScanPath.Avx512: Avx512Rows(codes, stride, rows, query, width, dots); break;
            case ScanPath.Avx2: Avx2Rows(codes, stride, rows, query, width, dots); break;
            case ScanPath.Vector128: Vector128Rows(codes, stride, rows, query, width, dots); break;
            default: ScalarRows(codes, stride, rows, query, width, dots); break;
        }
    }

    static void ScalarRows(sbyte* codes, int stride, int rows, short* query, int width, int* dots)
    {
        for (int r = 0; r < rows; r++)
        {
            sbyte* c = codes + (long)r * stride;
            int sum = 0;
            for (int j = 0; j < width; j++) sum += c[j] * query[j];
            dots[r] = sum;
        }
    }

    static void Vector128Rows(sbyte* codes, int stride, int rows, short* query, int width, int* dots)
    {
        for (int r = 0; r < rows; r++)
        {
            sbyte* c = codes + (long)r * stride;
            var acc = Vector128<int>.Zero;
            for (int j = 0; j < width; j += 16)
            {
                var (lo, hi) = Vector128.Widen(Vector128.Load(c + j));                 // 16 x int8 -> 2 x 8 x int16
                acc += MulWiden(lo, Vector128.Load(query + j)) + MulWiden(hi, Vector128.Load(query + j + 8));
            }
            dots[r] = Vector128.Sum(acc);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector128<int> MulWiden(Vector128<short> a, Vector128<short> b)
    {
        var (a0, a1) = Vector128.Widen(a);
        var (b0, b1) = Vector128.Widen(b);
        return a0 * b0 + a1 * b1;
    }

    static void Avx2Rows(sbyte* codes, int stride, int rows, short* query, int width, int* dots)
    {
        int r = 0;
        for (; r + 4 <= rows; r += 4)
        {
            sbyte* c0 = codes + (long)r * stride, c1 = c0 + stride, c2 = c1 + stride, c3 = c2 + stride;
            Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int j = 0; j < width; j += 16)
            {
                var q = Vector256.Load(query + j);
                a0 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(c0 + j), q);
                a1 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(c1 + j), q);
                a2 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(c2 + j), q);
                a3 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(c3 + j), q);
            }
            dots[r] = Vector256.Sum(a0);
            dots[r + 1] = Vector256.Sum(a1);
            dots[r + 2] = Vector256.Sum(a2);
            dots[r + 3] = Vector256.Sum(a3);
        }
        for (; r < rows; r++)
        {
            sbyte* c = codes + (long)r * stride;
            Vector256<int> a = default;
            for (int j = 0; j < width; j += 16)
                a += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(c + j), Vector256.Load(query + j));
            dots[r] = Vector256.Sum(a);
        }
    }

    static void Avx512Rows(sbyte* codes, int stride, int rows, short* query, int width, int* dots)
    {
        int r = 0;
        for (; r + 4 <= rows; r += 4)
        {
            sbyte* c0 = codes + (long)r * stride, c1 = c0 + stride, c2 = c1 + stride, c3 = c2 + stride;
            Vector512<int> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int j = 0; j < width; j += 32)
            {
                var q = Vector512.Load(query + j);
                a0 += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.Load(c0 + j)), q);
                a1 += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.Load(c1 + j)), q);
                a2 += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.Load(c2 + j)), q);
                a3 += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.Load(c3 + j)), q);
            }
            dots[r] = Vector512.Sum(a0);
            dots[r + 1] = Vector512.Sum(a1);
            dots[r + 2] = Vector512.Sum(a2);
            dots[r + 3] = Vector512.Sum(a3);
        }
        for (; r < rows; r++)
        {
            sbyte* c = codes + (long)r * stride;
            Vector512<int> a = default;
            for (int j = 0; j < width; j += 32)
                a += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.Load(c + j)), Vector512.Load(query + j));
            dots[r] = Vector512.Sum(a);
        }
    }
}
