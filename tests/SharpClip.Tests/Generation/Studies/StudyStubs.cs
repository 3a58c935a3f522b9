using SharpClip.Data;
using SharpClip.Generation.Studies;
using SharpClip.Generation.TextToImage;
using SharpClip.Vision;

namespace SharpClip.Tests.Generation.Studies;

/// <summary>
/// A generator whose images say what they are: every pixel's red level is the image's seed (mod 256) and its green
/// level the guidance scale × 2, so a stub embedder can hand each image the vector a test chose for it.
/// </summary>
sealed class CodedGenerator : ITextToImageGenerator
{
    public List<TextToImageRequest> Requests { get; } = [];
    public string Kind => "coded";
    public string Source => "coded-generator";
    public IReadOnlyList<string> Samplers => ["only"];
    public (int Width, int Height) DefaultSize => (8, 8);
    public int SizeMultiple => 1;
    public string ProgressUnit => "images";
    public int ProgressTotal(TextToImageRequest request) => request.Count;

    public IReadOnlyDictionary<string, object?> Resolve(TextToImageRequest request) =>
        new Dictionary<string, object?> { ["guidance"] = request.GuidanceScale, ["steps"] = request.Steps ?? 3 };

    public IReadOnlyList<GeneratedImage> Generate(TextToImageRequest request, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        Requests.Add(request);
        return [.. Enumerable.Range(0, request.Count).Select(i => new GeneratedImage(i, request.Seed + i,
            Coded(8, (byte)(request.Seed + i), (byte)((request.GuidanceScale ?? 0) * 2))))];
    }

    public static RgbImage Coded(int side, byte red, byte green)
    {
        var pixels = new byte[side * side * 3];
        for (int i = 0; i < pixels.Length; i += 3) { pixels[i] = red; pixels[i + 1] = green; }
        return new RgbImage(side, side, pixels);
    }

    public void Dispose() { }
}

/// <summary>A CLIP stand-in with vectors chosen by the test: texts by a table, images by their (red, green) code.</summary>
sealed class StubEmbedder(string name, IReadOnlyDictionary<string, float[]> texts, Func<byte, byte, float[]> images) : IImageTextEmbedder
{
    public string Name { get; } = name;
    public IReadOnlyList<float[]> EmbedTexts(IReadOnlyList<string> list, CancellationToken cancellationToken = default) => [.. list.Select(t => texts[t])];
    /// <summary>Images embedded so far, over all calls.</summary>
    public int ImagesEmbedded { get; private set; }

    public IReadOnlyList<float[]> EmbedImages(IReadOnlyList<RgbImage> list, CancellationToken cancellationToken = default)
    {
        ImagesEmbedded += list.Count;
        return [.. list.Select(i => images(i.Pixels[0], i.Pixels[1]))];
    }
}

static class StudySets
{
    /// <summary>Held-out captions whose real images are coded 200 + m (red) and 0 (green).</summary>
    public static HeldOutSet Of(params (string Caption, string? Group)[] captions) =>
        new("stub data", [.. captions.Select((c, m) => new HeldOutCaption($"k{m}", c.Caption,
            new RawRgbImage(8, 8, CodedGenerator.Coded(8, (byte)(200 + m), 0).Pixels, $"real {m}"), c.Group))],
            [.. captions.Select(c => c.Group).OfType<string>().Distinct().Order(StringComparer.Ordinal)], captions.Length);
}
