using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SharpClip.Vision;

/// <summary>
/// Pillow 9.4's resampling (<c>libImaging/Resample.c</c> and the nearest-neighbour scale in <c>Geometry.c</c>),
/// reimplemented so that resized pixels match the reference byte for byte: the same filter kernels, support widened
/// by the scale when downsampling (antialiasing), two separable passes (horizontal first, rounded to 8 bits in
/// between), coefficients normalised to 22-bit fixed point for 8-bit images, and double arithmetic with
/// round-half-away-from-zero for 32-bit integer images. Every output pixel depends only on its own coefficients, so
/// computing just a region of the output (the centre crop) gives exactly the same bytes as resizing everything.
/// </summary>
internal static class PillowResampler
{
    const int PrecisionBits = 32 - 8 - 2;

    /// <summary>Tests turn SIMD off to check the portable loops give the same bytes.</summary>
    internal static bool UseSimd = true;

    /// <summary>Tests turn the AVX-512 horizontal pass off to check the AVX2 one on machines that have both.</summary>
    internal static bool UseAvx512 = true;
    const int Half = 1 << (PrecisionBits - 1);

    /// <summary>Per output position: first input index, number of taps, and the taps (row <c>o * KSize</c> of <see cref="Weights"/>).</summary>
    internal sealed class Coefficients
    {
        public required int KSize;
        public required int[] Min;
        public required int[] Count;
        public required double[] Weights;

        /// <summary>The weights as Pillow's 8-bit path uses them: fixed point with 22 fraction bits, rounded away from zero.</summary>
        public int[] Fixed()
        {
            var k = new int[Weights.Length];
            for (int i = 0; i < k.Length; i++)
            {
                double w = Weights[i];
                k[i] = w < 0 ? (int)(-0.5 + w * (1 << PrecisionBits)) : (int)(0.5 + w * (1 << PrecisionBits));
            }
            return k;
        }
    }

    static (Func<double, double> Kernel, double Support) Filter(ResampleFilter f) => f switch
    {
        ResampleFilter.Box => (Box, 0.5),
        ResampleFilter.Bilinear => (Bilinear, 1.0),
        ResampleFilter.Hamming => (Hamming, 1.0),
        ResampleFilter.Bicubic => (Bicubic, 2.0),
        ResampleFilter.Lanczos => (Lanczos, 3.0),
        _ => throw new ArgumentOutOfRangeException(nameof(f), $"{f} is not a convolution filter"),
    };

    static double Box(double x) => x > -0.5 && x <= 0.5 ? 1.0 : 0.0;

    static double Bilinear(double x)
    {
        if (x < 0.0) x = -x;
        return x < 1.0 ? 1.0 - x : 0.0;
    }

    static double Hamming(double x)
    {
        if (x < 0.0) x = -x;
        if (x == 0.0) return 1.0;
        if (x >= 1.0) return 0.0;
        x *= Math.PI;
        // Pillow writes the window's constants as C floats; keep their float32 values.
        return Math.Sin(x) / x * ((double)0.54f + (double)0.46f * Math.Cos(x));
    }

    static double Bicubic(double x)
    {
        const double a = -0.5;
        if (x < 0.0) x = -x;
        if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
        if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
        return 0.0;
    }

    static double Sinc(double x)
    {
        if (x == 0.0) return 1.0;
        x *= Math.PI;
        return Math.Sin(x) / x;
    }

    static double Lanczos(double x) => -3.0 <= x && x < 3.0 ? Sinc(x) * Sinc(x / 3) : 0.0;

    /// <summary>Pillow's <c>precompute_coeffs</c> for the whole source span (box 0..inSize).</summary>
    internal static Coefficients Compute(int inSize, int outSize, ResampleFilter filter)
    {
        var (kernel, baseSupport) = Filter(filter);
        // Pillow passes the box as C floats; for whole images in0 = 0 and in1 = inSize exactly.
        double scale = (double)(float)inSize / outSize;
        double filterScale = scale < 1.0 ? 1.0 : scale;
        double support = baseSupport * filterScale;
        int ksize = (int)Math.Ceiling(support) * 2 + 1;
        var min = new int[outSize];
        var count = new int[outSize];
        var weights = new double[checked(outSize * ksize)];
        for (int xx = 0; xx < outSize; xx++)
        {
            double center = (xx + 0.5) * scale;
            double ww = 0.0;
            double ss = 1.0 / filterScale;
            int xmin = (int)(center - support + 0.5);
            if (xmin < 0) xmin = 0;
            int xmax = (int)(center + support + 0.5);
            if (xmax > inSize) xmax = inSize;
            xmax -= xmin;
            int k = xx * ksize;
            for (int x = 0; x < xmax; x++)
            {
                double w = kernel((x + xmin - center + 0.5) * ss);
                weights[k + x] = w;
                ww += w;
            }
            if (ww != 0.0)
                for (int x = 0; x < xmax; x++) weights[k + x] /= ww;
            min[xx] = xmin;
            count[xx] = xmax;
        }
        return new Coefficients { KSize = ksize, Min = min, Count = count, Weights = weights };
    }

    static byte Clip8(int v)
    {
        v >>= PrecisionBits;
        return v < 0 ? (byte)0 : v > 255 ? (byte)255 : (byte)v;
    }

    /// <summary>
    /// Resamples 8-bit interleaved samples (<paramref name="channels"/> per pixel) from w × h to outW × outH and returns
    /// only <paramref name="region"/> of the result, as <c>[region.Height, region.Width, channels]</c>.
    /// </summary>
    public static byte[] Resample8(byte[] src, int w, int h, int channels, int outW, int outH, ResampleFilter filter, PixelRect region)
    {
        bool needHorizontal = outW != w, needVertical = outH != h;
        var vert = needVertical ? Compute(h, outH, filter) : null;
        // Rows of the source the vertical pass reads for the region's rows (Pillow computes only the rows it needs too).
        int rowFirst = vert != null ? vert.Min[region.Y] : region.Y;
        int rowLast = vert != null ? vert.Min[region.Bottom - 1] + vert.Count[region.Bottom - 1] : region.Bottom;
        for (int y = region.Y; y < region.Bottom && vert != null; y++)
        {
            rowFirst = Math.Min(rowFirst, vert.Min[y]);
            rowLast = Math.Max(rowLast, vert.Min[y] + vert.Count[y]);
        }
        int rows = rowLast - rowFirst;
        int rowSamples = region.Width * channels;

        // Horizontal pass: [rows, region.Width, channels]. When the vertical pass follows, the pass's rows are a pooled
        // buffer (a 1200x900 photo's are 0.6 MB: fresh each time, their zeroing and page faults cost more than the pass).
        bool pooled = vert != null;
        byte[] temp = pooled ? ArrayPool<byte>.Shared.Rent(rows * rowSamples) : new byte[rows * rowSamples];
        if (needHorizontal)
        {
            var horiz = Compute(w, outW, filter);
            if (UseSimd && UseAvx512 && Avx512F.IsSupported && Vector512.IsHardwareAccelerated && channels <= 4)
                Horizontal8Simd<Avx512Lanes>(src, w, channels, rowFirst, rows, temp, region.X, region.Width, horiz, horiz.Fixed());
            else if (UseSimd && Avx2.IsSupported && channels <= 4)
                Horizontal8Simd<Avx2Lanes>(src, w, channels, rowFirst, rows, temp, region.X, region.Width, horiz, horiz.Fixed());
            else
                Horizontal8(src, w, channels, rowFirst, rows, temp, region.X, region.Width, horiz, horiz.Fixed());
        }
        else
        {
            for (int r = 0; r < rows; r++)
                Array.Copy(src, ((rowFirst + r) * w + region.X) * channels, temp, r * rowSamples, rowSamples);
        }
        if (vert == null) return temp;

        // Vertical pass: [region.Height, region.Width, channels]
        var dst = new byte[region.Height * rowSamples];
        var k = vert.Fixed();
        try
        {
            Vertical8(temp, rowSamples, rowFirst, region, vert, k, dst);
        }
        finally
        {
            if (pooled) ArrayPool<byte>.Shared.Return(temp);
        }
        return dst;
    }

    /// <summary>The vertical pass: <paramref name="dst"/> [region.Height, region.Width, channels] from the horizontal
    /// pass's rows in <paramref name="temp"/> (only its first rows × rowSamples are read).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Vertical8(byte[] temp, int rowSamples, int rowFirst, PixelRect region, Coefficients vert, int[] k, byte[] dst)
    {
        if (UseSimd && Avx2.IsSupported)
        {
            Vertical8Avx2(temp, rowSamples, rowFirst, region, vert, k, dst);
            return;
        }
        var acc = new int[rowSamples];
        for (int yy = 0; yy < region.Height; yy++)
        {
            int o = region.Y + yy;
            int ymin = vert.Min[o] - rowFirst, n = vert.Count[o], kOff = o * vert.KSize;
            Array.Fill(acc, Half);
            // Integer sums: accumulating row by row gives the same result as Pillow's per-pixel loop.
            for (int y = 0; y < n; y++)
                MultiplyAdd(temp.AsSpan((ymin + y) * rowSamples, rowSamples), k[kOff + y], acc);
            var outRow = dst.AsSpan(yy * rowSamples, rowSamples);
            for (int i = 0; i < outRow.Length; i++) outRow[i] = Clip8(acc[i]);
        }
    }

    /// <summary>
    /// The vertical pass with AVX2: 8 samples at a time, all taps summed in a register (exact integer sums), then
    /// rounded, shifted and saturated to 0..255 exactly as <see cref="Clip8"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static unsafe void Vertical8Avx2(byte[] temp, int rowSamples, int rowFirst, PixelRect region, Coefficients vert, int[] k, byte[] dst)
    {
        var half = Vector256.Create(Half);
        fixed (byte* t = temp, d = dst)
        fixed (int* kb = k)
        {
            for (int yy = 0; yy < region.Height; yy++)
            {
                int o = region.Y + yy, n = vert.Count[o];
                byte* first = t + (long)(vert.Min[o] - rowFirst) * rowSamples;
                int* kp = kb + o * vert.KSize;
                byte* outRow = d + (long)yy * rowSamples;
                int i = 0;
                for (; i <= rowSamples - 8; i += 8)
                {
                    var acc = half;
                    byte* p = first + i;
                    for (int y = 0; y < n; y++, p += rowSamples)
                        acc = Avx2.Add(acc, Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(p), Vector256.Create(kp[y])));
                    acc = Avx2.ShiftRightArithmetic(acc, PrecisionBits);
                    var s16 = Sse2.PackSignedSaturate(acc.GetLower(), acc.GetUpper());
                    Sse2.StoreScalar((long*)(outRow + i), Sse2.PackUnsignedSaturate(s16, s16).AsInt64());
                }
                for (; i < rowSamples; i++)
                {
                    int s = Half;
                    byte* p = first + i;
                    for (int y = 0; y < n; y++, p += rowSamples) s += *p * kp[y];
                    outRow[i] = Clip8(s);
                }
            }
        }
    }

    /// <summary>acc[i] += row[i] * k, with SIMD (exact: integer arithmetic).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void MultiplyAdd(ReadOnlySpan<byte> row, int k, Span<int> acc)
    {
        int i = 0;
        if (UseSimd && Vector.IsHardwareAccelerated && row.Length >= Vector<byte>.Count)
        {
            var kv = new Vector<int>(k);
            int step = Vector<byte>.Count, quarter = Vector<int>.Count;
            for (; i <= row.Length - step; i += step)
            {
                Vector.Widen(new Vector<byte>(row[i..]), out Vector<ushort> lo, out Vector<ushort> hi);
                Vector.Widen(lo, out Vector<uint> a, out Vector<uint> b);
                Vector.Widen(hi, out Vector<uint> c, out Vector<uint> d);
                var s = acc[i..];
                (new Vector<int>(s) + Vector.AsVectorInt32(a) * kv).CopyTo(s);
                (new Vector<int>(s[quarter..]) + Vector.AsVectorInt32(b) * kv).CopyTo(s[quarter..]);
                (new Vector<int>(s[(2 * quarter)..]) + Vector.AsVectorInt32(c) * kv).CopyTo(s[(2 * quarter)..]);
                (new Vector<int>(s[(3 * quarter)..]) + Vector.AsVectorInt32(d) * kv).CopyTo(s[(3 * quarter)..]);
            }
        }
        for (; i < row.Length; i++) acc[i] += row[i] * k;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static unsafe void Horizontal8(byte[] src, int w, int channels, int rowFirst, int rows, byte[] dst, int x0, int outCount,
        Coefficients c, int[] k)
    {
        int ksize = c.KSize;
        // Bounds were checked when the coefficients were made (taps stay inside 0..w); pointers keep the hot loop lean.
        fixed (byte* srcBase = src, dstBase = dst)
        fixed (int* kBase = k, minBase = c.Min, countBase = c.Count)
        {
            for (int r = 0; r < rows; r++)
            {
                byte* srcRow = srcBase + (long)(rowFirst + r) * w * channels;
                byte* d = dstBase + (long)r * outCount * channels;
                for (int xx = 0; xx < outCount; xx++, d += channels)
                {
                    int o = x0 + xx;
                    byte* p = srcRow + minBase[o] * channels;
                    int n = countBase[o];
                    int* kp = kBase + o * ksize;
                    switch (channels)
                    {
                        case 1:
                        {
                            int s0 = Half;
                            for (int x = 0; x < n; x++) s0 += p[x] * kp[x];
                            d[0] = Clip8(s0);
                            break;
                        }
                        case 3:
                        {
                            int s0 = Half, s1 = Half, s2 = Half;
                            for (int x = 0; x < n; x++, p += 3)
                            {
                                int kv = kp[x];
                                s0 += p[0] * kv;
                                s1 += p[1] * kv;
                                s2 += p[2] * kv;
                            }
                            d[0] = Clip8(s0);
                            d[1] = Clip8(s1);
                            d[2] = Clip8(s2);
                            break;
                        }
                        case 4:
                        {
                            int s0 = Half, s1 = Half, s2 = Half, s3 = Half;
                            for (int x = 0; x < n; x++, p += 4)
                            {
                                int kv = kp[x];
                                s0 += p[0] * kv;
                                s1 += p[1] * kv;
                                s2 += p[2] * kv;
                                s3 += p[3] * kv;
                            }
                            d[0] = Clip8(s0);
                            d[1] = Clip8(s1);
                            d[2] = Clip8(s2);
                            d[3] = Clip8(s3);
                            break;
                        }
                        default:
                            for (int ch = 0; ch < channels; ch++)
                            {
                                int s = Half;
                                for (int x = 0; x < n; x++) s += p[x * channels + ch] * kp[x];
                                d[ch] = Clip8(s);
                            }
                            break;
                    }
                }
            }
        }
    }

    /// <summary>
    /// The horizontal pass with SIMD, same integer sums as <see cref="Horizontal8"/> (integer addition is exact, so the
    /// order of the terms does not matter). Each chunk of <typeparamref name="TLanes"/>' lanes covers whole pixels (AVX2's 8
    /// lanes: 2 RGB pixels, 2 lanes idle; AVX-512's 16: 5 RGB pixels, so a 1200 → 299 bicubic output's 18 taps take 4
    /// steps instead of 9), so a lane always holds the same channel; each chunk's taps are repeated per channel,
    /// precomputed per output. Outputs whose window would read past the row end use the scalar loop.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static unsafe void Horizontal8Simd<TLanes>(byte[] src, int w, int channels, int rowFirst, int rows, byte[] dst, int x0, int outCount,
        Coefficients c, int[] k) where TLanes : struct, ISimdLanes
    {
        int width = TLanes.Width;
        int ppc = channels == 3 ? (width - 1) / 3 : width / channels; // pixels per chunk
        int step = ppc * channels;                                     // bytes per chunk
        int chunks = (c.KSize + ppc - 1) / ppc;
        int rowBytes = w * channels;
        // Lane coefficients: [outCount, chunks, width]; and which outputs may take the vector path (width bytes readable).
        var lanes = new int[outCount * chunks * width];
        var vector = new bool[outCount];
        for (int xx = 0; xx < outCount; xx++)
        {
            int o = x0 + xx, n = c.Count[o];
            int used = (n + ppc - 1) / ppc;
            vector[xx] = c.Min[o] * channels + (used - 1) * step + width <= rowBytes;
            for (int m = 0; m < chunks; m++)
                for (int j = 0; j < step; j++)
                {
                    int tap = m * ppc + j / channels;
                    lanes[(xx * chunks + m) * width + j] = tap < n ? k[o * c.KSize + tap] : 0;
                }
        }
        fixed (byte* srcBase = src, dstBase = dst)
        fixed (int* laneBase = lanes, kBase = k, minBase = c.Min, countBase = c.Count)
        {
            for (int r = 0; r < rows; r++)
            {
                byte* srcRow = srcBase + (long)(rowFirst + r) * rowBytes;
                byte* d = dstBase + (long)r * outCount * channels;
                for (int xx = 0; xx < outCount; xx++, d += channels)
                {
                    int o = x0 + xx, n = countBase[o];
                    byte* p = srcRow + minBase[o] * channels;
                    if (!vector[xx])
                    {
                        int* kp = kBase + o * c.KSize;
                        for (int ch = 0; ch < channels; ch++)
                        {
                            int s = Half;
                            for (int x = 0; x < n; x++) s += p[x * channels + ch] * kp[x];
                            d[ch] = Clip8(s);
                        }
                        continue;
                    }
                    var sums = TLanes.Sum(p, laneBase + xx * chunks * width, (n + ppc - 1) / ppc, step, channels);
                    // Round, shift and clip like Clip8.
                    var v = Sse2.ShiftRightArithmetic(Sse2.Add(sums, Vector128.Create(Half)), PrecisionBits);
                    var b = Sse2.PackUnsignedSaturate(Sse2.PackSignedSaturate(v, v), Sse2.PackSignedSaturate(v, v));
                    for (int ch = 0; ch < channels; ch++) d[ch] = b.GetElement(ch);
                }
            }
        }
    }

    /// <summary>The register width of <see cref="Horizontal8Simd{TLanes}"/>: one output's taps multiplied and summed a
    /// chunk at a time, each channel's lanes then folded onto lanes 0 … channels−1.</summary>
    internal interface ISimdLanes
    {
        static abstract int Width { get; }
        // p: the output's first source pixel; lanes: [used, Width] coefficients
        static abstract unsafe Vector128<int> Sum(byte* p, int* lanes, int used, int step, int channels);
    }

    internal readonly struct Avx2Lanes : ISimdLanes
    {
        public static int Width => 8;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static unsafe Vector128<int> Sum(byte* p, int* lanes, int used, int step, int channels)
        {
            var acc = Vector256<int>.Zero;
            for (int m = 0; m < used; m++, p += step, lanes += 8)
                acc = Avx2.Add(acc, Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(p), Avx.LoadVector256(lanes)));
            // Lane sources (constants, not static fields: a method compiled fully optimised at once would check the
            // fields' class is initialised on every use).
            if (channels == 3) acc = Avx2.Add(acc, Avx2.PermuteVar8x32(acc, Vector256.Create(3, 4, 5, 6, 7, 7, 7, 7)));
            else
            {
                acc = Avx2.Add(acc, Avx2.PermuteVar8x32(acc, Vector256.Create(4, 5, 6, 7, 0, 0, 0, 0)));
                if (channels <= 2) acc = Avx2.Add(acc, Avx2.PermuteVar8x32(acc, Vector256.Create(2, 3, 0, 0, 0, 0, 0, 0)));
                if (channels == 1) acc = Avx2.Add(acc, Avx2.PermuteVar8x32(acc, Vector256.Create(1, 0, 0, 0, 0, 0, 0, 0)));
            }
            return acc.GetLower();
        }
    }

    internal readonly struct Avx512Lanes : ISimdLanes
    {
        public static int Width => 16;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static unsafe Vector128<int> Sum(byte* p, int* lanes, int used, int step, int channels)
        {
            var acc = Vector512<int>.Zero;
            for (int m = 0; m < used; m++, p += step, lanes += 16)
                acc += Avx512F.MultiplyLow(Avx512F.ConvertToVector512Int32(Sse2.LoadVector128(p)), Vector512.Load(lanes));
            // Lane sources: for 3 channels (five pixels in lanes 0-14) lanes 9-14 onto 0-5, then 3-5 onto 0-2, then lanes
            // 6-8 added; halving for 1, 2 and 4. Lane 15 (a zero tap for RGB) fills the rest.
            if (channels == 3)
            {
                var t = acc + Avx512F.PermuteVar16x32(acc, Vector512.Create(9, 10, 11, 12, 13, 14, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15));
                acc = t + Avx512F.PermuteVar16x32(t, Vector512.Create(3, 4, 5, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15))
                        + Avx512F.PermuteVar16x32(acc, Vector512.Create(6, 7, 8, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15));
            }
            else
            {
                acc += Avx512F.PermuteVar16x32(acc, Vector512.Create(8, 9, 10, 11, 12, 13, 14, 15, 15, 15, 15, 15, 15, 15, 15, 15));
                acc += Avx512F.PermuteVar16x32(acc, Vector512.Create(4, 5, 6, 7, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15));
                if (channels <= 2) acc += Avx512F.PermuteVar16x32(acc, Vector512.Create(2, 3, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15));
                if (channels == 1) acc += Avx512F.PermuteVar16x32(acc, Vector512.Create(1, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15));
            }
            return acc.GetLower().GetLower();
        }
    }

    /// <summary>Pillow's 32-bit integer path (mode "I"): double sums in tap order, rounded half away from zero after each pass.</summary>
    public static int[] Resample32(int[] src, int w, int h, int outW, int outH, ResampleFilter filter, PixelRect region)
    {
        bool needHorizontal = outW != w, needVertical = outH != h;
        var vert = needVertical ? Compute(h, outH, filter) : null;
        int rowFirst = region.Y, rowLast = region.Bottom;
        if (vert != null)
        {
            rowFirst = int.MaxValue;
            rowLast = 0;
            for (int y = region.Y; y < region.Bottom; y++)
            {
                rowFirst = Math.Min(rowFirst, vert.Min[y]);
                rowLast = Math.Max(rowLast, vert.Min[y] + vert.Count[y]);
            }
        }
        int rows = rowLast - rowFirst;
        var temp = new int[rows * region.Width];
        if (needHorizontal)
        {
            var c = Compute(w, outW, filter);
            for (int r = 0; r < rows; r++)
            {
                int srcRow = (rowFirst + r) * w;
                for (int xx = 0; xx < region.Width; xx++)
                {
                    int o = region.X + xx, p = srcRow + c.Min[o], n = c.Count[o], kOff = o * c.KSize;
                    double ss = 0.0;
                    for (int x = 0; x < n; x++) ss += src[p + x] * c.Weights[kOff + x];
                    temp[r * region.Width + xx] = RoundUp(ss);
                }
            }
        }
        else
        {
            for (int r = 0; r < rows; r++) Array.Copy(src, (rowFirst + r) * w + region.X, temp, r * region.Width, region.Width);
        }
        if (vert == null) return temp;

        var dst = new int[region.Height * region.Width];
        var acc = new double[region.Width];
        for (int yy = 0; yy < region.Height; yy++)
        {
            int o = region.Y + yy, ymin = vert.Min[o] - rowFirst, n = vert.Count[o], kOff = o * vert.KSize;
            Array.Clear(acc);
            // Row by row keeps each pixel's sum in Pillow's tap order, so the doubles round identically.
            for (int y = 0; y < n; y++)
            {
                double kv = vert.Weights[kOff + y];
                int row = (ymin + y) * region.Width;
                for (int i = 0; i < acc.Length; i++) acc[i] += temp[row + i] * kv;
            }
            for (int i = 0; i < acc.Length; i++) dst[yy * region.Width + i] = RoundUp(acc[i]);
        }
        return dst;
    }

    static int RoundUp(double f) => (int)(f >= 0.0 ? f + 0.5 : f - 0.5);

    /// <summary>
    /// Pillow's nearest-neighbour resize (<c>ImagingScaleAffine</c>): source positions stepped by repeated addition in
    /// double precision from the first pixel centre, exactly as Pillow accumulates them.
    /// </summary>
    public static T[] Nearest<T>(T[] src, int w, int h, int channels, int outW, int outH, PixelRect region)
    {
        double a0 = (double)(float)w / outW, a4 = (double)(float)h / outH;
        var xin = new int[outW];
        double xo = a0 * 0.5;
        for (int x = 0; x < outW; x++)
        {
            xin[x] = Coord(xo);
            xo += a0;
        }
        var yin = new int[outH];
        double yo = a4 * 0.5;
        for (int y = 0; y < outH; y++)
        {
            yin[y] = Coord(yo);
            yo += a4;
        }
        var dst = new T[region.Width * region.Height * channels];
        for (int yy = 0; yy < region.Height; yy++)
        {
            int yi = yin[region.Y + yy];
            if (yi < 0 || yi >= h) continue; // Pillow leaves such rows zero-filled
            for (int xx = 0; xx < region.Width; xx++)
            {
                int xi = xin[region.X + xx];
                if (xi < 0 || xi >= w) continue;
                Array.Copy(src, (yi * w + xi) * channels, dst, (yy * region.Width + xx) * channels, channels);
            }
        }
        return dst;
    }

    static int Coord(double v) => v < 0.0 ? -1 : (int)v;
}
