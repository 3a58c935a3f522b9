namespace SharpClip.Vision;

/// <summary>Pillow 9.4's per-pixel mode conversions (<c>libImaging/Convert.c</c>) that CLIP's preprocessing goes through.</summary>
internal static class PillowConvert
{
    /// <summary>Pillow's MULDIV255: (a * b + 127) / 255 computed with shifts, exactly as Pillow rounds it.</summary>
    static int MulDiv255(int a, int b)
    {
        int t = a * b + 128;
        return ((t >> 8) + t) >> 8;
    }

    static byte Clip8(int v) => v <= 0 ? (byte)0 : v < 256 ? (byte)v : (byte)255;

    /// <summary>RGBA → RGBa (or LA → La): colour samples multiplied by alpha; alpha is the last channel.</summary>
    public static byte[] Premultiply(ReadOnlySpan<byte> src, int channels)
    {
        var dst = new byte[src.Length];
        for (int p = 0; p < src.Length; p += channels)
        {
            int a = src[p + channels - 1];
            for (int c = 0; c < channels - 1; c++) dst[p + c] = (byte)MulDiv255(src[p + c], a);
            dst[p + channels - 1] = (byte)a;
        }
        return dst;
    }

    /// <summary>RGBa → RGBA (or La → LA): colour divided by alpha, untouched where alpha is 0 or 255.</summary>
    public static void UnpremultiplyInPlace(byte[] px, int channels)
    {
        for (int p = 0; p < px.Length; p += channels)
        {
            int a = px[p + channels - 1];
            if (a == 255 || a == 0) continue;
            for (int c = 0; c < channels - 1; c++) px[p + c] = Clip8(255 * px[p + c] / a);
        }
    }

    public static void ToRgb(PillowMode mode, byte[]? b, int[]? ints, int pixels, byte[] rgb)
    {
        switch (mode)
        {
            case PillowMode.RGB or PillowMode.P:
                Array.Copy(b!, rgb, pixels * 3);
                break;
            case PillowMode.L:
                for (int i = 0; i < pixels; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = b![i];
                break;
            case PillowMode.Bilevel:
                for (int i = 0; i < pixels; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = b![i] != 0 ? (byte)255 : (byte)0;
                break;
            case PillowMode.LA:
                for (int i = 0; i < pixels; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = b![2 * i];
                break;
            case PillowMode.I:
                for (int i = 0; i < pixels; i++)
                {
                    int v = ints![i];
                    rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = v <= 0 ? (byte)0 : v >= 255 ? (byte)255 : (byte)v;
                }
                break;
            case PillowMode.RGBA:
                for (int i = 0; i < pixels; i++)
                {
                    rgb[3 * i] = b![4 * i];
                    rgb[3 * i + 1] = b[4 * i + 1];
                    rgb[3 * i + 2] = b[4 * i + 2];
                }
                break;
            case PillowMode.CMYK:
                for (int i = 0; i < pixels; i++)
                {
                    int nk = 255 - b![4 * i + 3];
                    for (int c = 0; c < 3; c++) rgb[3 * i + c] = Clip8(nk - MulDiv255(b[4 * i + c], nk));
                }
                break;
            default:
                throw new NotSupportedException($"no RGB conversion for mode {mode}");
        }
    }
}
