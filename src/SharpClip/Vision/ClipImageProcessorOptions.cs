using System.Text.Json;

namespace SharpClip.Vision;

/// <summary>
/// What <see cref="ClipImageProcessor"/> does: resize the shorter side, centre-crop, scale to [0, 1], normalise. The
/// defaults are CLIP's (224 px, OpenAI's mean/std, bicubic). The algorithm is always the reference's (Pillow +
/// torchvision, as <c>clip._transform</c>); a Hugging Face <c>preprocessor_config.json</c> only supplies the numbers.
/// </summary>
public sealed record ClipImageProcessorOptions
{
    /// <summary>CLIP's per-channel RGB mean (OpenAI, also open_clip's default).</summary>
    public static IReadOnlyList<float> OpenAiMean { get; } = [0.48145466f, 0.4578275f, 0.40821073f];

    /// <summary>CLIP's per-channel RGB standard deviation.</summary>
    public static IReadOnlyList<float> OpenAiStd { get; } = [0.26862954f, 0.26130258f, 0.27577711f];

    /// <summary>Length the shorter side is resized to (torchvision <c>Resize(int)</c>).</summary>
    public int ShortestEdge { get; init; } = 224;

    public int CropWidth { get; init; } = 224;
    public int CropHeight { get; init; } = 224;
    public ResampleFilter Resample { get; init; } = ResampleFilter.Bicubic;
    public bool DoResize { get; init; } = true;
    public bool DoCenterCrop { get; init; } = true;

    /// <summary>Scale samples by <see cref="RescaleFactor"/>; with the default 1/255 this is exactly <c>v / 255f</c>, as ToTensor.</summary>
    public bool DoRescale { get; init; } = true;

    public double RescaleFactor { get; init; } = 1.0 / 255.0;
    public bool DoNormalize { get; init; } = true;
    public IReadOnlyList<float> Mean { get; init; } = OpenAiMean;
    public IReadOnlyList<float> Std { get; init; } = OpenAiStd;

    /// <summary>CLIP's transform for an n × n model input (e.g. 224, 288, 336).</summary>
    public static ClipImageProcessorOptions ForSize(int size) => new() { ShortestEdge = size, CropWidth = size, CropHeight = size };

    /// <summary>Checks the numbers; throws <see cref="ArgumentException"/> naming the bad field.</summary>
    public ClipImageProcessorOptions Validate()
    {
        if (DoResize && ShortestEdge <= 0) throw new ArgumentException($"size {ShortestEdge} must be positive", nameof(ShortestEdge));
        if (DoCenterCrop && (CropWidth <= 0 || CropHeight <= 0))
            throw new ArgumentException($"crop size {CropWidth}x{CropHeight} must be positive", nameof(CropWidth));
        if (Mean.Count != 3 || Std.Count != 3) throw new ArgumentException($"mean and std need 3 values each (got {Mean.Count} and {Std.Count})", nameof(Mean));
        if (Std.Any(s => s == 0 || !float.IsFinite(s))) throw new ArgumentException("std values must be finite and non-zero", nameof(Std));
        if (!Enum.IsDefined(Resample)) throw new ArgumentException($"unknown resample filter {(int)Resample}", nameof(Resample));
        return this;
    }

    /// <summary>Reads a Hugging Face <c>preprocessor_config.json</c> (CLIPImageProcessor / CLIPFeatureExtractor).</summary>
    public static ClipImageProcessorOptions FromPreprocessorConfig(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such preprocessor config", path);
        return FromPreprocessorConfigJson(File.ReadAllText(path), path);
    }

    /// <summary>Parses the JSON text of a <c>preprocessor_config.json</c>; <paramref name="name"/> names it in errors.</summary>
    public static ClipImageProcessorOptions FromPreprocessorConfigJson(string json, string name)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json); }
        catch (JsonException e) { throw new InvalidDataException($"{name}: not valid JSON ({e.Message})", e); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{name}: expected a JSON object");
            var o = new ClipImageProcessorOptions();
            try
            {
                if (root.TryGetProperty("size", out var size))
                {
                    if (size.ValueKind == JsonValueKind.Number) o = o with { ShortestEdge = size.GetInt32() };
                    else if (size.TryGetProperty("shortest_edge", out var se)) o = o with { ShortestEdge = se.GetInt32() };
                    else throw new InvalidDataException($"{name}: field 'size' must be a number or {{\"shortest_edge\": n}}; " +
                        "resizing to a fixed height and width is not CLIP's transform");
                }
                if (root.TryGetProperty("crop_size", out var crop))
                    o = crop.ValueKind == JsonValueKind.Number
                        ? o with { CropWidth = crop.GetInt32(), CropHeight = crop.GetInt32() }
                        : o with { CropWidth = crop.GetProperty("width").GetInt32(), CropHeight = crop.GetProperty("height").GetInt32() };
                else if (root.TryGetProperty("size", out _)) o = o with { CropWidth = o.ShortestEdge, CropHeight = o.ShortestEdge };
                if (root.TryGetProperty("resample", out var rs)) o = o with { Resample = (ResampleFilter)rs.GetInt32() };
                if (root.TryGetProperty("do_resize", out var dr)) o = o with { DoResize = dr.GetBoolean() };
                if (root.TryGetProperty("do_center_crop", out var dc)) o = o with { DoCenterCrop = dc.GetBoolean() };
                if (root.TryGetProperty("do_rescale", out var dre)) o = o with { DoRescale = dre.GetBoolean() };
                if (root.TryGetProperty("rescale_factor", out var rf)) o = o with { RescaleFactor = rf.GetDouble() };
                if (root.TryGetProperty("do_normalize", out var dn)) o = o with { DoNormalize = dn.GetBoolean() };
                if (root.TryGetProperty("image_mean", out var mean)) o = o with { Mean = mean.EnumerateArray().Select(e => (float)e.GetDouble()).ToArray() };
                if (root.TryGetProperty("image_std", out var std)) o = o with { Std = std.EnumerateArray().Select(e => (float)e.GetDouble()).ToArray() };
                return o.Validate();
            }
            catch (Exception e) when (e is InvalidOperationException or KeyNotFoundException or FormatException or ArgumentException)
            {
                throw new InvalidDataException($"{name}: {e.Message}", e);
            }
        }
    }
}
