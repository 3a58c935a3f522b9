using SharpClip.Vision;

namespace SharpClip.Tests.Vision;

/// <summary>The SIMD passes and the portable loops of the resampler must give identical bytes (machines without AVX2 use the latter).</summary>
[Collection(nameof(ResamplerSimdSwitch))]
public sealed class ResamplerTests
{
    /// <summary>The horizontal pass's rows come from the shared array pool: whatever a reused array held before (here
    /// all zeros, then all 0xFF, left in the pool by this thread) must not reach the result, on either code path.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void PooledRowsLeaveNoTrace(bool simd)
    {
        var img = DecodedImage.FromSamples(PillowMode.RGB, 301, 227, TestImages.Noise(301 * 227 * 3, 5));
        byte[] ResizeAfterPoolHeld(byte fill)
        {
            // The pass needs 227 rows × 224 × 3 bytes; the pool rounds up to a power of two and hands this thread's
            // last returned array of that size back first.
            var stale = System.Buffers.ArrayPool<byte>.Shared.Rent(227 * 224 * 3);
            Array.Fill(stale, fill);
            System.Buffers.ArrayPool<byte>.Shared.Return(stale);
            return img.ResizeRegion(298, 224, ResampleFilter.Bicubic, new PixelRect(37, 0, 224, 224)).Samples.ToArray();
        }
        try
        {
            PillowResampler_UseSimd(simd);
            Assert.Equal(ResizeAfterPoolHeld(0), ResizeAfterPoolHeld(0xFF));
            Assert.Equal(img.Resize(298, 224).Crop(new PixelRect(37, 0, 224, 224)).Samples.ToArray(), ResizeAfterPoolHeld(0x5A));
        }
        finally { PillowResampler_UseSimd(true); }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void SimdAndPortableLoopsAgree(int channels)
    {
        var modes = new[] { PillowMode.L, PillowMode.LA, PillowMode.RGB, PillowMode.RGBA };
        foreach (var (w, h, ow, oh) in new[] { (123, 77, 50, 31), (40, 30, 97, 61), (301, 227, 224, 168), (7, 5, 313, 224), (64, 64, 63, 65), (1200, 9, 299, 7) })
            foreach (var filter in new[] { ResampleFilter.Bicubic, ResampleFilter.Lanczos, ResampleFilter.Bilinear, ResampleFilter.Box, ResampleFilter.Hamming })
            {
                var img = DecodedImage.FromSamples(modes[channels - 1], w, h, TestImages.Noise(w * h * channels, w * 31 + channels));
                byte[] Resized(bool simd, bool avx512)
                {
                    try
                    {
                        PillowResampler_UseSimd(simd);
                        PillowResampler.UseAvx512 = avx512;
                        return img.Resize(ow, oh, filter).Samples.ToArray();
                    }
                    finally
                    {
                        PillowResampler_UseSimd(true);
                        PillowResampler.UseAvx512 = true;
                    }
                }
                var portable = Resized(simd: false, avx512: false);
                // On an AVX-512 machine the first is the AVX-512 horizontal pass, the second AVX2's; elsewhere both AVX2's.
                Assert.True(Resized(simd: true, avx512: true).AsSpan().SequenceEqual(portable), $"{channels} channels, {w}x{h} -> {ow}x{oh}, {filter}");
                Assert.True(Resized(simd: true, avx512: false).AsSpan().SequenceEqual(portable), $"AVX2: {channels} channels, {w}x{h} -> {ow}x{oh}, {filter}");
            }
    }

    static void PillowResampler_UseSimd(bool on) => PillowResampler.UseSimd = on;
}

/// <summary>Tests that flip the resampler's SIMD switch must not run alongside other resampling tests.</summary>
[CollectionDefinition(nameof(ResamplerSimdSwitch), DisableParallelization = true)]
public sealed class ResamplerSimdSwitch;
