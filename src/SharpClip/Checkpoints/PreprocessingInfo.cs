using System.Text.Json;
using System.Text.Json.Nodes;

namespace SharpClip.Checkpoints;

/// <summary>
/// How images must be prepared for a checkpoint: resize the shorter side to <see cref="ResizeShortestEdge"/> with
/// <see cref="Resample"/>, centre-crop <see cref="CropSize"/>, scale to [0,1], normalise with <see cref="Mean"/> /
/// <see cref="Std"/> (RGB). It travels with the weights because models differ (OpenAI's CLIP statistics vs
/// ImageNet's, 224 vs 336 px). Stored as Hugging Face's <c>preprocessor_config.json</c> so both ecosystems read it.
/// </summary>
public sealed record PreprocessingInfo
{
    /// <summary>OpenAI CLIP's per-channel RGB mean (also open_clip's OPENAI_DATASET_MEAN).</summary>
    public static readonly IReadOnlyList<float> ClipMean = [0.48145466f, 0.4578275f, 0.40821073f];
    /// <summary>OpenAI CLIP's per-channel RGB standard deviation.</summary>
    public static readonly IReadOnlyList<float> ClipStd = [0.26862954f, 0.26130258f, 0.27577711f];

    public int ResizeShortestEdge { get; init; } = 224;
    public int CropSize { get; init; } = 224;
    public IReadOnlyList<float> Mean { get; init; } = ClipMean;
    public IReadOnlyList<float> Std { get; init; } = ClipStd;
    /// <summary>"bicubic" (CLIP), "bilinear" or "nearest".</summary>
    public string Resample { get; init; } = "bicubic";

    /// <summary>OpenAI's <c>clip._transform(n)</c>: bicubic resize to n, centre crop n, CLIP statistics.</summary>
    public static PreprocessingInfo ForResolution(int imageSize) => new() { ResizeShortestEdge = imageSize, CropSize = imageSize };

    public PreprocessingInfo Validate(string source)
    {
        void Require(bool ok, string field, string why)
        {
            if (!ok) throw new InvalidDataException($"{source}: preprocessing field '{field}' {why}");
        }
        Require(ResizeShortestEdge > 0, "size", "must be a positive number of pixels");
        Require(CropSize > 0 && CropSize <= ResizeShortestEdge, "crop_size", $"must be positive and at most the resize size {ResizeShortestEdge}");
        Require(Mean.Count == 3 && Mean.All(float.IsFinite), "image_mean", "must be 3 finite numbers");
        Require(Std.Count == 3 && Std.All(s => float.IsFinite(s) && s > 0), "image_std", "must be 3 positive numbers");
        Require(Resample is "bicubic" or "bilinear" or "nearest", "resample", $"'{Resample}' is not bicubic, bilinear or nearest");
        return this;
    }

    // PIL's resampling codes, as HF stores them.
    static string ResampleName(int pil, string source) => pil switch
    {
        0 => "nearest", 2 => "bilinear", 3 => "bicubic",
        _ => throw new InvalidDataException($"{source}: preprocessing field 'resample' = {pil} is not a supported PIL filter (0, 2, 3)"),
    };

    static int ResampleCode(string name) => name switch { "nearest" => 0, "bilinear" => 2, _ => 3 };

    /// <summary>Reads a Hugging Face <c>preprocessor_config.json</c> (CLIPImageProcessor / CLIPFeatureExtractor).</summary>
    public static PreprocessingInfo ReadHuggingFace(string path)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllBytes(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not valid JSON ({e.Message})", e); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: expected a JSON object");
            var defaults = new PreprocessingInfo();
            try
            {
                int size = root.TryGetProperty("size", out var s) ? Edge(s, path, "size") : defaults.ResizeShortestEdge;
                int crop = root.TryGetProperty("crop_size", out var c) ? Edge(c, path, "crop_size") : size;
                if (root.TryGetProperty("do_center_crop", out var dc) && dc.ValueKind == JsonValueKind.False) crop = size;
                if (root.TryGetProperty("do_resize", out var dr) && dr.ValueKind == JsonValueKind.False)
                    throw new InvalidDataException($"{path}: preprocessing without resizing (do_resize: false) is not supported");
                var info = new PreprocessingInfo
                {
                    ResizeShortestEdge = size,
                    CropSize = crop,
                    Mean = root.TryGetProperty("image_mean", out var m) ? Floats(m) : defaults.Mean,
                    Std = root.TryGetProperty("image_std", out var sd) ? Floats(sd) : defaults.Std,
                    Resample = root.TryGetProperty("resample", out var r) ? ResampleName(r.GetInt32(), path) : defaults.Resample,
                };
                if (root.TryGetProperty("do_normalize", out var dn) && dn.ValueKind == JsonValueKind.False)
                    info = info with { Mean = [0f, 0f, 0f], Std = [1f, 1f, 1f] };
                return info.Validate(path);
            }
            catch (Exception e) when (e is InvalidOperationException or FormatException)
            {
                throw new InvalidDataException($"{path}: malformed preprocessing config ({e.Message})", e);
            }
        }
    }

    // HF writes sizes as an int, {"shortest_edge": n} or {"height": n, "width": n}.
    static int Edge(JsonElement e, string path, string field)
    {
        if (e.ValueKind == JsonValueKind.Number) return e.GetInt32();
        if (e.ValueKind == JsonValueKind.Object)
        {
            if (e.TryGetProperty("shortest_edge", out var se)) return se.GetInt32();
            if (e.TryGetProperty("height", out var h) && e.TryGetProperty("width", out var w))
            {
                if (h.GetInt32() != w.GetInt32())
                    throw new InvalidDataException($"{path}: preprocessing field '{field}' is not square ({h}x{w}); CLIP uses square inputs");
                return h.GetInt32();
            }
        }
        throw new InvalidDataException($"{path}: preprocessing field '{field}' is neither a number nor a size object");
    }

    static float[] Floats(JsonElement e) => e.EnumerateArray().Select(x => x.GetSingle()).ToArray();

    /// <summary>Writes this as a Hugging Face <c>preprocessor_config.json</c> (loadable by transformers' CLIPImageProcessor).</summary>
    public void WriteHuggingFace(string path)
    {
        var json = new JsonObject
        {
            ["crop_size"] = new JsonObject { ["height"] = CropSize, ["width"] = CropSize },
            ["do_center_crop"] = true,
            ["do_convert_rgb"] = true,
            ["do_normalize"] = true,
            ["do_rescale"] = true,
            ["do_resize"] = true,
            ["image_mean"] = new JsonArray(Mean.Select(v => (JsonNode)v).ToArray()),
            ["image_processor_type"] = "CLIPImageProcessor",
            ["image_std"] = new JsonArray(Std.Select(v => (JsonNode)v).ToArray()),
            ["resample"] = ResampleCode(Resample),
            ["rescale_factor"] = 1.0 / 255.0,
            ["size"] = new JsonObject { ["shortest_edge"] = ResizeShortestEdge },
        };
        JsonFiles.WriteAtomic(path, json);
    }

    public bool Equals(PreprocessingInfo? other) =>
        other is not null && ResizeShortestEdge == other.ResizeShortestEdge && CropSize == other.CropSize &&
        Mean.SequenceEqual(other.Mean) && Std.SequenceEqual(other.Std) && Resample == other.Resample;

    public override int GetHashCode() => HashCode.Combine(ResizeShortestEdge, CropSize, Resample, Mean.Count > 0 ? Mean[0] : 0, Std.Count > 0 ? Std[0] : 0);
}
