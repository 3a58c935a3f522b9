using SharpClip.Files;
using System.Text.Json;
using SharpClip.Checkpoints;
using SharpClip.Tests.Infrastructure;
using SharpClip.Vision;
using Xunit.Abstractions;

namespace SharpClip.Tests.Vision;

/// <summary>The fixtures' preprocessing tensors, opened once for all cases.</summary>
public sealed class PreprocessTensors : IDisposable
{
    public SafeTensorsFile File { get; } =
        SafeTensorsFile.Open(Fixtures.PathOf(Fixtures.Manifest.GetProperty("preprocess").GetProperty("file").GetString()!));

    public void Dispose() => File.Dispose();
}

/// <summary>
/// Every <c>preprocess.cases</c> entry of the manifest against the reference (<c>clip._transform</c> on Pillow 9.4):
/// geometry, the resized+cropped 8-bit RGB and the normalised tensor.
/// </summary>
[Trait("Category", "Fidelity")]
public sealed class PreprocessFidelityTests(PreprocessTensors tensors, ITestOutputHelper output) : IClassFixture<PreprocessTensors>
{
    /// <summary>
    /// Lossy inputs (JPEG, lossy WebP): allowed difference in 8-bit levels. libvips' decoders matched libjpeg-turbo 2.1.5
    /// and libwebp 1.2.4 bit for bit on every public fixture (measured max difference 0), so the resized pixels match
    /// exactly here; 2 levels leaves room for a differently built libjpeg-turbo (SIMD paths, other versions) that may
    /// round a few IDCT/upsampling outputs by one level, which bicubic resampling can at most carry to two.
    /// </summary>
    const int LossyLevels = 2;

    public static IEnumerable<object[]> Cases => Fixtures.Ids("preprocess.cases");

    static float[] Floats(JsonElement array) => array.EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesReference(string id)
    {
        var c = Fixtures.Entry("preprocess.cases", id);
        var image = Fixtures.Entry("images", c.GetProperty("image").GetString()!);
        int n = c.GetProperty("n_px").GetInt32();
        bool lossless = c.GetProperty("exact_pixels_expected").GetBoolean();
        var norm = Fixtures.Manifest.GetProperty("normalization");
        var processor = new ClipImageProcessor(PreprocessingInfo.ForResolution(n) with
        {
            Mean = Floats(norm.GetProperty("mean")),
            Std = Floats(norm.GetProperty("std")),
        });

        var decoded = ImageDecoder.Decode(Fixtures.PathOf(image.GetProperty("file").GetString()!));

        // Geometry: torchvision's Resize and CenterCrop arithmetic, and the filter Pillow really uses.
        var (rw, rh) = TorchvisionGeometry.ResizeShorterSide(decoded.Width, decoded.Height, n);
        Assert.Equal(c.GetProperty("resized_size").EnumerateArray().Select(e => e.GetInt32()).ToArray(), new[] { rw, rh });
        var box = TorchvisionGeometry.CenterCropBox(rw, rh, n, n);
        Assert.Equal(c.GetProperty("crop_box").EnumerateArray().Select(e => e.GetInt32()).ToArray(), new[] { box.X, box.Y, box.Right, box.Bottom });
        Assert.Equal(c.GetProperty("resample").GetString(), decoded.Mode.ForcesNearest() ? "nearest" : "bicubic");

        // The 8-bit image the model sees.
        string rgbName = c.GetProperty("resized_rgb").GetString()!;
        Assert.Equal(new long[] { n, n, 3 }, tensors.File.Info(rgbName).Shape);
        var expectedRgb = tensors.File.RawBytes(rgbName).ToArray();
        var rgb = processor.ResizeAndCrop(decoded);
        Assert.Equal((n, n), (rgb.Width, rgb.Height));
        int maxLevel = 0, differing = 0, first = -1;
        for (int i = 0; i < expectedRgb.Length; i++)
        {
            int d = Math.Abs(rgb.Pixels[i] - expectedRgb[i]);
            if (d == 0) continue;
            differing++;
            if (first < 0) first = i;
            maxLevel = Math.Max(maxLevel, d);
        }
        output.WriteLine($"{id}: mode {decoded.Mode.PillowName()}, lossless={lossless}, resized_rgb max diff {maxLevel} levels, {differing} of {expectedRgb.Length} samples differ");
        string where = first < 0 ? "" : $" (first at y={first / 3 / n}, x={first / 3 % n}, c={first % 3}: got {rgb.Pixels[first]}, expected {expectedRgb[first]})";
        if (lossless) Assert.True(differing == 0, $"{id}: {differing} samples differ, max {maxLevel} levels{where}");
        else Assert.True(maxLevel <= LossyLevels, $"{id}: max difference {maxLevel} levels > {LossyLevels}{where}");

        // The normalised tensor.
        string pvName = c.GetProperty("pixel_values").GetString()!;
        Assert.Equal(new long[] { 3, n, n }, tensors.File.Info(pvName).Shape);
        var expected = tensors.File.ReadFloats(pvName);
        var actual = processor.Normalize(rgb);
        float maxDiff = MaxAbsDiff(expected, actual);
        float minStd = processor.Preprocessing.Std.Min();
        float tolerance = lossless ? 1e-6f : LossyLevels / 255f / minStd + 1e-6f;
        output.WriteLine($"{id}: pixel_values max |diff| {maxDiff:G3} (tolerance {tolerance:G3})");
        Assert.True(maxDiff <= tolerance, $"{id}: pixel_values differ by up to {maxDiff} > {tolerance}");

        // Normalisation alone, from the reference's own pixels: must reproduce its float32 arithmetic for every input.
        float normDiff = MaxAbsDiff(expected, processor.Normalize(new RgbImage(n, n, expectedRgb)));
        Assert.True(normDiff <= 1e-6f, $"{id}: normalising the reference pixels differs by {normDiff}");
    }

    [Theory]
    [Trait("Category", "Fidelity")]
    [MemberData(nameof(Images))]
    public void HeaderMatchesPillow(string id)
    {
        var image = Fixtures.Entry("images", id);
        var header = ImageDecoder.ReadHeader(Fixtures.PathOf(image.GetProperty("file").GetString()!));
        Assert.Equal(image.GetProperty("format").GetString(), header.Format.ToString().ToUpperInvariant());
        Assert.Equal(image.GetProperty("mode").GetString(), header.Mode.PillowName());
        Assert.Equal(image.GetProperty("size").EnumerateArray().Select(e => e.GetInt32()).ToArray(), new[] { header.Width, header.Height });
    }

    public static IEnumerable<object[]> Images => Fixtures.Ids("images");

    static float MaxAbsDiff(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        float m = 0;
        for (int i = 0; i < a.Length; i++) m = Math.Max(m, Math.Abs(a[i] - b[i]));
        return m;
    }
}
