using NetVips;

namespace SharpClip.Tests.Search;

/// <summary>16-bit grey PNGs with chosen samples, written by libvips' own PNG encoder (not by SharpClip's code).</summary>
public static class TestPng16
{
    public static byte[] Grey(int width, int height, Func<int, int, ushort> sample)
    {
        var samples = new ushort[width * height];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++) samples[y * width + x] = sample(x, y);
        using var raw = Image.NewFromMemory(samples, width, height, 1, Enums.BandFormat.Ushort);
        using var grey = raw.Copy(interpretation: Enums.Interpretation.Grey16);
        return grey.PngsaveBuffer(bitdepth: 16);
    }
}
