using System.Text.Json;
using System.Text.Json.Nodes;
using SharpClip.Files;

namespace SharpClip.Vision;

/// <summary>
/// How images are prepared for a model, in the terms of Hugging Face's <c>preprocessor_config.json</c>
/// (CLIPImageProcessor): resize the shorter side to <see cref="ResizeShortestEdge"/> with <see cref="Resample"/>,
/// centre-crop <see cref="CropSize"/> × <see cref="CropSize"/>, scale the 8-bit samples by <see cref="RescaleFactor"/>,
/// normalise with <see cref="Mean"/> / <see cref="Std"/> (RGB). The defaults are OpenAI's <c>clip._transform(224)</c>.
/// It travels with the weights because models differ (OpenAI's statistics vs ImageNet's, 224 vs 336 px), and it is
/// stored as <c>preprocessor_config.json</c> so both ecosystems read it. It only supplies numbers: the algorithm is
/// always the reference's (Pillow + torchvision), run by <see cref="ClipImageProcessor"/>.
/// </summary>
public sealed record PreprocessingInfo
{
    /// <summary>OpenAI CLIP's per-channel RGB mean (also open_clip's OPENAI_DATASET_MEAN).</summary>
    public static readonly IReadOnlyList<float> ClipMean = [0.48145466f, 0.4578275f, 0.40821073f];
    /// <summary>OpenAI CLIP's per-channel RGB standard deviation.</summary>
    public static readonly IReadOnlyList<float> ClipStd = [0.26862954f, 0.26130258f, 0.27577711f];

    /// <summary>False keeps the image's own size (HF <c>do_resize</c>); a model's fixed input needs resizing
    /// (<see cref="ForSquareInput"/>), <c>sharpclip preprocess</c> does not.</summary>
    public bool DoResize { get; init; } = true;
    /// <summary>Length the shorter side is resized to (torchvision <c>Resize(int)</c>).</summary>
    public int ResizeShortestEdge { get; init; } = 224;
    /// <summary>Pillow's filter for the resize: bicubic (CLIP), bilinear or nearest.</summary>
    public ResampleFilter Resample { get; init; } = ResampleFilter.Bicubic;
    /// <summary>False keeps the whole resized image, whatever its shape (HF <c>do_center_crop</c>).</summary>
    public bool DoCenterCrop { get; init; } = true;
    /// <summary>Side of the square centre crop: the model's input size. Where the image is smaller, torchvision pads with black.</summary>
    public int CropSize { get; init; } = 224;
    /// <summary>Scale samples by <see cref="RescaleFactor"/>; with the default 1/255 this is exactly <c>v / 255f</c>, as ToTensor.</summary>
    public bool DoRescale { get; init; } = true;
    public double RescaleFactor { get; init; } = 1.0 / 255.0;
    public bool DoNormalize { get; init; } = true;
    public IReadOnlyList<float> Mean { get; init; } = ClipMean;
    public IReadOnlyList<float> Std { get; init; } = ClipStd;

    /// <summary>OpenAI's <c>clip._transform(n)</c>: bicubic resize to n, centre crop n, CLIP statistics.</summary>
    public static PreprocessingInfo ForResolution(int imageSize) => new() { ResizeShortestEdge = imageSize, CropSize = imageSize };

    /// <summary>Checks the numbers; throws <see cref="InvalidDataException"/> naming <paramref name="source"/> and the
    /// <c>preprocessor_config.json</c> field.</summary>
    public PreprocessingInfo Validate(string source)
    {
        void Require(bool ok, string field, string why)
        {
            if (!ok) throw Bad(source, field, why);
        }
        Require(!DoResize || ResizeShortestEdge > 0, "size", $"{ResizeShortestEdge} must be a positive number of pixels");
        Require(!DoCenterCrop || CropSize > 0, "crop_size", $"{CropSize} must be a positive number of pixels");
        Require(!(DoResize && DoCenterCrop) || CropSize <= ResizeShortestEdge, "crop_size", $"{CropSize} must be at most the resize size {ResizeShortestEdge}");
        Require(Resample is ResampleFilter.Bicubic or ResampleFilter.Bilinear or ResampleFilter.Nearest, "resample",
            $"{(int)Resample} is not a supported PIL filter (0 nearest, 2 bilinear, 3 bicubic)");
        Require(!DoRescale || (double.IsFinite(RescaleFactor) && RescaleFactor > 0), "rescale_factor", "must be a positive number");
        Require(Mean.Count == 3 && Mean.All(float.IsFinite), "image_mean", "must be 3 finite numbers");
        Require(Std.Count == 3 && Std.All(s => float.IsFinite(s) && s > 0), "image_std", "must be 3 positive numbers");
        return this;
    }

    /// <summary>
    /// What a model with a fixed square input can take: it must resize (<c>do_resize: false</c> is refused), and without
    /// a centre crop the model still sees a square, the crop of the resized image to its shorter side.
    /// </summary>
    public PreprocessingInfo ForSquareInput(string source)
    {
        if (!DoResize) throw Bad(source, "do_resize", "is false: preprocessing without resizing is not supported for a model's fixed input size");
        return DoCenterCrop ? this : this with { DoCenterCrop = true, CropSize = ResizeShortestEdge };
    }

    /// <summary>
    /// Reads a Hugging Face <c>preprocessor_config.json</c> (CLIPImageProcessor / CLIPFeatureExtractor). Sizes are an
    /// int, <c>{"shortest_edge": n}</c> (size) or a square <c>{"height": n, "width": n}</c> (crop_size); fields it
    /// does not name keep CLIP's defaults; errors name the file and the field.
    /// </summary>
    public static PreprocessingInfo ReadHuggingFace(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such preprocessor config", path);
        using var doc = JsonFiles.Read(path);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: expected a JSON object");
        var info = new PreprocessingInfo();
        if (root.TryGetProperty("size", out var size)) info = info with { ResizeShortestEdge = ShortestEdge(size, path) };
        info = info with
        {
            CropSize = root.TryGetProperty("crop_size", out var crop) ? SquareSide(crop, path) : info.ResizeShortestEdge,
            Resample = root.TryGetProperty("resample", out var r) ? (ResampleFilter)Int(r, path, "resample") : info.Resample,
            DoResize = Bool(root, "do_resize", path) ?? info.DoResize,
            DoCenterCrop = Bool(root, "do_center_crop", path) ?? info.DoCenterCrop,
            DoRescale = Bool(root, "do_rescale", path) ?? info.DoRescale,
            RescaleFactor = root.TryGetProperty("rescale_factor", out var rf) ? Number(rf, path, "rescale_factor") : info.RescaleFactor,
            DoNormalize = Bool(root, "do_normalize", path) ?? info.DoNormalize,
            Mean = root.TryGetProperty("image_mean", out var m) ? Floats(m, path, "image_mean") : info.Mean,
            Std = root.TryGetProperty("image_std", out var sd) ? Floats(sd, path, "image_std") : info.Std,
        };
        return info.Validate(path);
    }

    // HF's "size": an int (older configs) or {"shortest_edge": n}; {"height", "width"} means a fixed-size resize
    // (squashing), which is not CLIP's transform.
    static int ShortestEdge(JsonElement e, string path)
    {
        if (e.ValueKind == JsonValueKind.Number) return Int(e, path, "size");
        if (e.ValueKind == JsonValueKind.Object && e.TryGetProperty("shortest_edge", out var se)) return Int(se, path, "size");
        throw Bad(path, "size", "must be a number or {\"shortest_edge\": n}; resizing to a fixed height and width is not CLIP's transform");
    }

    // HF's "crop_size": an int or {"height": n, "width": n}; CLIP's crop is square.
    static int SquareSide(JsonElement e, string path)
    {
        if (e.ValueKind == JsonValueKind.Number) return Int(e, path, "crop_size");
        if (e.ValueKind == JsonValueKind.Object && e.TryGetProperty("height", out var h) && e.TryGetProperty("width", out var w))
        {
            int height = Int(h, path, "crop_size"), width = Int(w, path, "crop_size");
            if (height != width) throw Bad(path, "crop_size", $"is not square ({height}x{width}); CLIP uses square inputs");
            return height;
        }
        throw Bad(path, "crop_size", "must be a number or {\"height\": n, \"width\": n}");
    }

    static int Int(JsonElement e, string path, string field) =>
        e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int v) ? v : throw Bad(path, field, $"must be an integer, not {e.GetRawText()}");

    static double Number(JsonElement e, string path, string field) =>
        e.ValueKind == JsonValueKind.Number ? e.GetDouble() : throw Bad(path, field, $"must be a number, not {e.GetRawText()}");

    static bool? Bool(JsonElement root, string field, string path) =>
        !root.TryGetProperty(field, out var e) ? null
        : e.ValueKind is JsonValueKind.True or JsonValueKind.False ? e.GetBoolean()
        : throw Bad(path, field, $"must be true or false, not {e.GetRawText()}");

    static float[] Floats(JsonElement e, string path, string field) =>
        e.ValueKind == JsonValueKind.Array && e.EnumerateArray().All(x => x.ValueKind == JsonValueKind.Number)
            ? e.EnumerateArray().Select(x => x.GetSingle()).ToArray()
            : throw Bad(path, field, "must be an array of 3 numbers");

    /// <summary>A filter by the name open_clip and torchvision use ("bicubic", "bilinear", "nearest").</summary>
    internal static ResampleFilter ResampleNamed(string name, string source, string field) => name switch
    {
        "bicubic" => ResampleFilter.Bicubic,
        "bilinear" => ResampleFilter.Bilinear,
        "nearest" => ResampleFilter.Nearest,
        _ => throw new InvalidDataException($"{source}: preprocessing field '{field}' '{name}' is not bicubic, bilinear or nearest"),
    };

    static InvalidDataException Bad(string source, string field, string why) => new($"{source}: preprocessing field '{field}' {why}");

    /// <summary>This as a Hugging Face <c>preprocessor_config.json</c> (loadable by transformers' CLIPImageProcessor).</summary>
    public JsonObject ToHuggingFaceJson() => new()
    {
        ["crop_size"] = new JsonObject { ["height"] = CropSize, ["width"] = CropSize },
        ["do_center_crop"] = DoCenterCrop,
        ["do_convert_rgb"] = true,
        ["do_normalize"] = DoNormalize,
        ["do_rescale"] = DoRescale,
        ["do_resize"] = DoResize,
        ["image_mean"] = new JsonArray(Mean.Select(v => (JsonNode)v).ToArray()),
        ["image_processor_type"] = "CLIPImageProcessor",
        ["image_std"] = new JsonArray(Std.Select(v => (JsonNode)v).ToArray()),
        ["resample"] = (int)Resample,
        ["rescale_factor"] = RescaleFactor,
        ["size"] = new JsonObject { ["shortest_edge"] = ResizeShortestEdge },
    };

    /// <summary>Writes <see cref="ToHuggingFaceJson"/> to <paramref name="path"/> (atomically: a reader never sees half a file).</summary>
    public void WriteHuggingFace(string path) => JsonFiles.WriteAtomic(path, ToHuggingFaceJson());

    /// <summary>
    /// The numbers as applied, in the shape SharpClip has always shown and hashed them (<c>sharpclip info</c>, and model
    /// fingerprints, which search indexes store — so the shape must not change): resize edge, crop, mean and std
    /// (0 and 1 without normalisation), the filter's name; the rescale factor only when it is not ToTensor's 1/255.
    /// </summary>
    public object Summary()
    {
        IReadOnlyList<float> mean = DoNormalize ? Mean : [0f, 0f, 0f], std = DoNormalize ? Std : [1f, 1f, 1f];
        string resample = Resample.ToString().ToLowerInvariant();
        double rescale = DoRescale ? RescaleFactor : 1.0;
        return rescale == 1.0 / 255.0
            ? new { ResizeShortestEdge, CropSize, Mean = mean, Std = std, Resample = resample }
            : new { ResizeShortestEdge, CropSize, Mean = mean, Std = std, Resample = resample, RescaleFactor = rescale };
    }

    public bool Equals(PreprocessingInfo? other) =>
        other is not null && DoResize == other.DoResize && ResizeShortestEdge == other.ResizeShortestEdge && Resample == other.Resample &&
        DoCenterCrop == other.DoCenterCrop && CropSize == other.CropSize && DoRescale == other.DoRescale &&
        RescaleFactor == other.RescaleFactor && DoNormalize == other.DoNormalize &&
        Mean.SequenceEqual(other.Mean) && Std.SequenceEqual(other.Std);

    public override int GetHashCode() => HashCode.Combine(ResizeShortestEdge, CropSize, Resample, DoResize, DoCenterCrop, DoRescale, DoNormalize,
        HashCode.Combine(RescaleFactor, Mean.Count > 0 ? Mean[0] : 0, Std.Count > 0 ? Std[0] : 0));
}
