using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SharpClip.Managed;

/// <summary>The AVX2 micro-kernel: the same tiles as AVX-512's, in AVX2's sixteen 8-float registers.</summary>
/// <remarks>
/// A 12×32 tile does not fit 16 registers, so it runs as 16-column halves of 6 rows (12 accumulators, two weight
/// vectors and a broadcast: 15 registers, the classic AVX2 shape), rows 0–5 both halves, then rows 6–11; a tile of 7–11
/// rows as two near-even groups (4–6 rows), one of up to 6 rows as one. The packed panels stay 32 wide, so weights are packed once for either kernel: each half
/// reads its own 64-byte line of every panel row. Each output is still the same chain of fused multiply-adds over the
/// inner index, from the same start, so its sums are the AVX-512 kernel's to the bit (tested).
/// </remarks>
internal static unsafe partial class MatrixKernel
{
    /// <summary>The AVX2 kernel's tile: <typeparamref name="TRows"/> rows × 32 columns as 6- or 4-row halves (arguments
    /// as <see cref="Tile{TRows, TStart, TRelu}"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Tile256<TRows, TStart, TRelu>(float* a, nint stride, float* b, int depth, float* start, nint ldStart, float* bias,
        float* dest, nint ldDest, float* ahead) where TRows : struct, ITileRows where TStart : struct, ITileStart where TRelu : struct, ITileRelu
    {
        // Rows 7-12 split into two halves as even as can be (7: 4 + 3, ..., 12: 6 + 6); the counts are constants per
        // instantiation, so only one line of these runs.
        if (TRows.Count <= 6) Rows256<TRows, TStart, TRelu>(a, stride, b, depth, start, ldStart, bias, dest, ldDest, ahead, 0);
        else if (TRows.Count == 12) { Rows256<Rows6, TStart, TRelu>(a, stride, b, depth, start, ldStart, bias, dest, ldDest, ahead, 0); Rows256<Rows6, TStart, TRelu>(a, stride, b, depth, start, ldStart, bias, dest, ldDest, ahead, 6); }
        else if (TRows.Count == 11) { Rows256<Rows6, TStart, TRelu>(a, stride, b, depth, start, ldStart, bias, dest, ldDest, ahead, 0); Rows256<Rows5, TStart, TRelu>(a, stride, b, depth, start, ldStart, bias, dest, ldDest, ahead, 6); }
        else if (TRows.Count == 10) { Rows256<Rows5, TStart, TRelu>(a, stride, b, depth, start, ldStart, bias, dest, ldDest, ahead, 0); Rows256<Rows5, TStart, TRelu>(a, stride, b, depth, start, ldStart, bias, dest, ldDest, ahead, 5); }
        else if (TRows.Count == 9) { Rows256<Rows5, TStart, TRelu>(a, stride, b, depth, start, ldStart, bias, dest, ldDest, ahead, 0); Rows256<Rows4, TStart, TRelu>(a, stride, b, depth, start, ldStart, bias, dest, ldDest, ahead, 5); }
        else if (TRows.Count == 8) { Rows256<Rows4, TStart, TRelu>(a, stride, b, depth, start, ldStart, bias, dest, ldDest, ahead, 0); Rows256<Rows4, TStart, TRelu>(a, stride, b, depth, start, ldStart, bias, dest, ldDest, ahead, 4); }
        else { Rows256<Rows4, TStart, TRelu>(a, stride, b, depth, start, ldStart, bias, dest, ldDest, ahead, 0); Rows256<Rows3, TStart, TRelu>(a, stride, b, depth, start, ldStart, bias, dest, ldDest, ahead, 4); }
    }

    /// <summary><typeparamref name="TRows"/> (1–6) rows from row <paramref name="first"/> of the tile, as its two 16-column halves.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Rows256<TRows, TStart, TRelu>(float* a, nint stride, float* b, int depth, float* start, nint ldStart, float* bias,
        float* dest, nint ldDest, float* ahead, int first) where TRows : struct, ITileRows where TStart : struct, ITileStart where TRelu : struct, ITileRelu
    {
        byte* ar = (byte*)a + first * stride;
        float* sr = start + first * ldStart, dr = dest + first * ldDest;
        Half256<TRows, TStart, TRelu>(ar, stride, b, depth, sr, ldStart, bias, dr, ldDest, ahead);
        Half256<TRows, TStart, TRelu>(ar, stride, b + 16, depth, sr + 16, ldStart, bias + 16, dr + 16, ldDest, ahead + 16);
    }

    /// <summary>
    /// <typeparamref name="TRows"/> (1–6) rows × 16 columns: per inner index two 8-float weight vectors (from a
    /// 32-wide panel row, hence the stride) and a broadcast per row. As in the AVX-512 kernel, nothing but loads,
    /// broadcasts and fused multiply-adds in the loop and no call on the sums after it.
    /// </summary>
    // a: rows of x (stride in bytes); b, start, bias, dest, ahead: at the half's first column
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Half256<TRows, TStart, TRelu>(byte* a, nint stride, float* b, int depth, float* start, nint ldStart, float* bias,
        float* dest, nint ldDest, float* ahead) where TRows : struct, ITileRows where TStart : struct, ITileStart where TRelu : struct, ITileRelu
    {
        byte* r0 = a, r3 = a + 3 * stride;
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        if (TStart.Loads)
        {
            var bias0 = TStart.AddsBias ? Vector256.Load(bias) : default;
            var bias1 = TStart.AddsBias ? Vector256.Load(bias + 8) : default;
            float* s0 = start;
            c00 = Vector256.Load(s0) + bias0; c01 = Vector256.Load(s0 + 8) + bias1; s0 += ldStart;
            if (TRows.Count > 1) { c10 = Vector256.Load(s0) + bias0; c11 = Vector256.Load(s0 + 8) + bias1; s0 += ldStart; }
            if (TRows.Count > 2) { c20 = Vector256.Load(s0) + bias0; c21 = Vector256.Load(s0 + 8) + bias1; s0 += ldStart; }
            if (TRows.Count > 3) { c30 = Vector256.Load(s0) + bias0; c31 = Vector256.Load(s0 + 8) + bias1; s0 += ldStart; }
            if (TRows.Count > 4) { c40 = Vector256.Load(s0) + bias0; c41 = Vector256.Load(s0 + 8) + bias1; s0 += ldStart; }
            if (TRows.Count > 5) { c50 = Vector256.Load(s0) + bias0; c51 = Vector256.Load(s0 + 8) + bias1; }
        }
        for (int p = 0; p < depth; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            b += PanelWidth;
            Sse.Prefetch1(ahead);
            ahead += PanelWidth;
            Vector256<float> s;
            s = Vector256.Create(*(float*)r0); c00 = Fma.MultiplyAdd(s, b0, c00); c01 = Fma.MultiplyAdd(s, b1, c01);
            if (TRows.Count > 1) { s = Vector256.Create(*(float*)(r0 + stride)); c10 = Fma.MultiplyAdd(s, b0, c10); c11 = Fma.MultiplyAdd(s, b1, c11); }
            if (TRows.Count > 2) { s = Vector256.Create(*(float*)(r0 + 2 * stride)); c20 = Fma.MultiplyAdd(s, b0, c20); c21 = Fma.MultiplyAdd(s, b1, c21); }
            if (TRows.Count > 3) { s = Vector256.Create(*(float*)r3); c30 = Fma.MultiplyAdd(s, b0, c30); c31 = Fma.MultiplyAdd(s, b1, c31); }
            if (TRows.Count > 4) { s = Vector256.Create(*(float*)(r3 + stride)); c40 = Fma.MultiplyAdd(s, b0, c40); c41 = Fma.MultiplyAdd(s, b1, c41); }
            if (TRows.Count > 5) { s = Vector256.Create(*(float*)(r3 + 2 * stride)); c50 = Fma.MultiplyAdd(s, b0, c50); c51 = Fma.MultiplyAdd(s, b1, c51); }
            r0 += sizeof(float); r3 += sizeof(float);
        }
        if (TRelu.Applies)
        {
            var zero = Vector256<float>.Zero;   // vmaxps(0, x): NaN kept, as VectorMath.Relu
            c00 = Vector256.MaxNative(zero, c00); c01 = Vector256.MaxNative(zero, c01); c10 = Vector256.MaxNative(zero, c10);
            c11 = Vector256.MaxNative(zero, c11); c20 = Vector256.MaxNative(zero, c20); c21 = Vector256.MaxNative(zero, c21);
            c30 = Vector256.MaxNative(zero, c30); c31 = Vector256.MaxNative(zero, c31); c40 = Vector256.MaxNative(zero, c40);
            c41 = Vector256.MaxNative(zero, c41); c50 = Vector256.MaxNative(zero, c50); c51 = Vector256.MaxNative(zero, c51);
        }
        float* d = dest;
        c00.Store(d); c01.Store(d + 8); d += ldDest;
        if (TRows.Count > 1) { c10.Store(d); c11.Store(d + 8); d += ldDest; }
        if (TRows.Count > 2) { c20.Store(d); c21.Store(d + 8); d += ldDest; }
        if (TRows.Count > 3) { c30.Store(d); c31.Store(d + 8); d += ldDest; }
        if (TRows.Count > 4) { c40.Store(d); c41.Store(d + 8); d += ldDest; }
        if (TRows.Count > 5) { c50.Store(d); c51.Store(d + 8); }
    }
}
