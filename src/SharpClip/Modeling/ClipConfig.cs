using System.Text.Json.Serialization;

namespace SharpClip.Modeling;

/// <summary>Activation inside the transformer MLPs: OpenAI's models use QuickGELU, most open_clip models plain GELU.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<Activation>))]
public enum Activation { QuickGelu, Gelu }

/// <summary>
/// The shape of a CLIP model, with the reference's argument names (<c>clip.model.CLIP</c>). A ViT when
/// <see cref="VisionPatchSize"/> is set; otherwise a ModifiedResNet with <see cref="VisionLayers"/> blocks per stage.
/// </summary>
public sealed record ClipConfig
{
    public int EmbedDim { get; init; } = 512;
    public int ImageResolution { get; init; } = 224;
    /// <summary>ViT: one entry, the number of blocks. ResNet: four entries, bottlenecks per stage.</summary>
    public int[] VisionLayers { get; init; } = [12];
    public int VisionWidth { get; init; } = 768;
    /// <summary>Null for ModifiedResNet.</summary>
    public int? VisionPatchSize { get; init; } = 32;
    /// <summary>Width per attention head in the image tower (64 for OpenAI models; 88 for open_clip's ViT-g/14).</summary>
    public int VisionHeadWidth { get; init; } = 64;
    /// <summary>MLP hidden width as a multiple of the vision width (4; open_clip's ViT-g/14 uses 4.3637).</summary>
    public double VisionMlpRatio { get; init; } = 4.0;
    public int ContextLength { get; init; } = 77;
    public int VocabSize { get; init; } = 49408;
    public int TextWidth { get; init; } = 512;
    public int TextHeads { get; init; } = 8;
    public int TextLayers { get; init; } = 12;
    public Activation Activation { get; init; } = Activation.QuickGelu;

    [JsonIgnore] public bool IsVisionTransformer => VisionPatchSize is not null;

    /// <summary>Heads of the image tower: width/64 for a ViT; width·32/64 for the ResNet attention pool, as the reference.</summary>
    [JsonIgnore] public int VisionHeads => IsVisionTransformer ? VisionWidth / VisionHeadWidth : VisionWidth * 32 / 64;

    /// <summary>
    /// Hidden width of the image tower's MLP: <c>int(width · mlp_ratio)</c> as open_clip computes it. The tiny epsilon
    /// keeps a ratio recovered from a state dict (6144/1408) from flooring to one less than the stored width.
    /// </summary>
    [JsonIgnore] public int VisionMlpWidth => (int)Math.Floor(VisionWidth * VisionMlpRatio + 1e-9);

    /// <summary>Hidden width of the text tower's MLP (always 4× the width, as in every CLIP of this family).</summary>
    [JsonIgnore] public int TextMlpWidth => 4 * TextWidth;

    /// <summary>Side of the ResNet's final feature map (the attention pool's grid): resolution / 32.</summary>
    [JsonIgnore] public int ResNetOutputGrid => ImageResolution / 32;

    /// <summary>Patches per side of a ViT's input grid: resolution / patch size.</summary>
    [JsonIgnore] public int VisionGrid => IsVisionTransformer ? ImageResolution / VisionPatchSize!.Value : ResNetOutputGrid;

    /// <summary>
    /// The number of parameters a model of this shape has, counted analytically (no tensors allocated), so that
    /// presets as large as ViT-g/14 can be described and checked without gigabytes of memory. Buffers (BatchNorm
    /// running statistics) are not parameters and are not counted, as in <c>sum(p.numel() for p in model.parameters())</c>.
    /// </summary>
    [JsonIgnore] public long ParameterCount => ParameterCounting.Count(this);

    /// <summary>Value equality, including the <see cref="VisionLayers"/> array (a record alone compares it by reference).</summary>
    public bool Equals(ClipConfig? other) =>
        other is not null && EmbedDim == other.EmbedDim && ImageResolution == other.ImageResolution
        && VisionLayers.AsSpan().SequenceEqual(other.VisionLayers) && VisionWidth == other.VisionWidth
        && VisionPatchSize == other.VisionPatchSize && VisionHeadWidth == other.VisionHeadWidth
        && VisionMlpRatio.Equals(other.VisionMlpRatio) && ContextLength == other.ContextLength
        && VocabSize == other.VocabSize && TextWidth == other.TextWidth && TextHeads == other.TextHeads
        && TextLayers == other.TextLayers && Activation == other.Activation;

    public override int GetHashCode()
    {
        var h = new HashCode();
        h.Add(EmbedDim); h.Add(ImageResolution); foreach (var l in VisionLayers) h.Add(l);
        h.Add(VisionWidth); h.Add(VisionPatchSize); h.Add(VisionHeadWidth); h.Add(VisionMlpRatio);
        h.Add(ContextLength); h.Add(VocabSize); h.Add(TextWidth); h.Add(TextHeads); h.Add(TextLayers); h.Add(Activation);
        return h.ToHashCode();
    }

    /// <summary>A one-line description for logs and <c>sharpclip info</c>.</summary>
    public override string ToString() =>
        (IsVisionTransformer
            ? $"ViT(width {VisionWidth}, layers {VisionLayers[0]}, patch {VisionPatchSize}, heads {VisionHeads}, mlp {VisionMlpWidth})"
            : $"ModifiedResNet(width {VisionWidth}, layers [{string.Join(",", VisionLayers)}], heads {VisionHeads})")
        + $" @ {ImageResolution}px; text(width {TextWidth}, layers {TextLayers}, heads {TextHeads}, context {ContextLength}, vocab {VocabSize});"
        + $" embed {EmbedDim}; {Activation}";

    /// <summary>
    /// Infers the architecture from the shapes of a state dict in OpenAI's key naming, the way the reference's
    /// <c>build_model</c> does: a ViT when <c>visual.proj</c> exists; widths, layer counts, patch size, resolution,
    /// context and vocabulary from tensor shapes; heads = width/64 (text and ViT) and width·32/64 (ResNet pool).
    /// One extension: the ViT's MLP ratio is read from <c>c_fc</c> (always 4 in OpenAI's models), so open_clip's
    /// ViT-g/14 shapes load too. What shapes cannot tell — head width other than 64, GELU vs QuickGELU — stays at
    /// OpenAI's values (QuickGELU); pass a config to <c>ClipModel.FromStateDict</c> for such models.
    /// </summary>
    /// <exception cref="InvalidDataException">a tensor the inference needs is missing or has an impossible shape; the message names it.</exception>
    public static ClipConfig InferFromStateDict(IReadOnlyDictionary<string, long[]> shapes)
    {
        long[] Shape(string key, int rank) =>
            !shapes.TryGetValue(key, out var s) ? throw new InvalidDataException($"state dict has no '{key}', needed to infer the architecture")
            : s.Length != rank ? throw new InvalidDataException($"'{key}' has shape [{string.Join(",", s)}], expected {rank} dimensions")
            : s;
        // Distinct values of the third dotted component among keys with a prefix: "transformer.resblocks.<i>...".
        int CountIndices(string prefix) =>
            shapes.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal))
                .Select(k => k.Split('.')).Where(p => p.Length > 2).Select(p => p[2]).Distinct().Count();
        static int SquareSide(long tokensPlusOne, string key)
        {
            int side = (int)Math.Round(Math.Sqrt(tokensPlusOne - 1));
            if ((long)side * side + 1 != tokensPlusOne)
                throw new InvalidDataException($"'{key}' has {tokensPlusOne} positions, not a square grid plus one");
            return side;
        }

        ClipConfig config;
        if (shapes.ContainsKey("visual.proj"))
        {
            var conv = Shape("visual.conv1.weight", 4);
            int width = checked((int)conv[0]);
            int heads = width / 64;
            if (heads == 0) throw new InvalidDataException($"'visual.conv1.weight' gives a vision width of {width}; the reference needs at least 64 (heads = width/64)");
            int layers = shapes.Keys.Count(k => k.StartsWith("visual.", StringComparison.Ordinal) && k.EndsWith(".attn.in_proj_weight", StringComparison.Ordinal));
            int patch = checked((int)conv[^1]);
            int grid = SquareSide(Shape("visual.positional_embedding", 2)[0], "visual.positional_embedding");
            double mlpRatio = shapes.TryGetValue("visual.transformer.resblocks.0.mlp.c_fc.weight", out var fc) && fc.Length == 2
                ? MlpRatioFor(checked((int)fc[0]), width) : 4.0;
            config = new ClipConfig
            {
                VisionWidth = width, VisionLayers = [layers], VisionPatchSize = patch,
                ImageResolution = patch * grid, VisionMlpRatio = mlpRatio,
                VisionHeadWidth = width / heads, // 64 whenever the width is a multiple of 64
            };
        }
        else
        {
            int[] layers = [.. new[] { 1, 2, 3, 4 }.Select(b => CountIndices($"visual.layer{b}"))];
            int width = checked((int)Shape("visual.layer1.0.conv1.weight", 4)[0]);
            int grid = SquareSide(Shape("visual.attnpool.positional_embedding", 2)[0], "visual.attnpool.positional_embedding");
            config = new ClipConfig { VisionWidth = width, VisionLayers = layers, VisionPatchSize = null, ImageResolution = grid * 32 };
        }

        int textWidth = checked((int)Shape("ln_final.weight", 1)[0]);
        config = config with
        {
            EmbedDim = checked((int)Shape("text_projection", 2)[1]),
            ContextLength = checked((int)Shape("positional_embedding", 2)[0]),
            VocabSize = checked((int)Shape("token_embedding.weight", 2)[0]),
            TextWidth = textWidth,
            TextHeads = textWidth / 64,
            TextLayers = CountIndices("transformer.resblocks"),
            Activation = Activation.QuickGelu,
        };
        try { return config.Validate(); }
        catch (ArgumentException e) { throw new InvalidDataException($"the state dict's shapes give an impossible architecture: {e.Message}", e); }
    }

    /// <summary>Checks the numbers fit together; throws <see cref="ArgumentException"/> naming the field.</summary>
    public ClipConfig Validate()
    {
        void Require(bool ok, string field, string why) { if (!ok) throw new ArgumentException($"config field '{field}': {why}"); }
        Require(EmbedDim > 0, nameof(EmbedDim), "must be positive");
        Require(ImageResolution > 0, nameof(ImageResolution), "must be positive");
        Require(VisionWidth > 0, nameof(VisionWidth), "must be positive");
        Require(ContextLength > 0, nameof(ContextLength), "must be positive");
        Require(VocabSize > 0, nameof(VocabSize), "must be positive");
        Require(TextWidth > 0 && TextHeads > 0 && TextWidth % TextHeads == 0, nameof(TextHeads), $"text width {TextWidth} must divide into {TextHeads} heads");
        Require(TextLayers > 0, nameof(TextLayers), "must be positive");
        Require(VisionMlpRatio > 0, nameof(VisionMlpRatio), "must be positive");
        if (IsVisionTransformer)
        {
            Require(VisionLayers.Length == 1 && VisionLayers[0] > 0, nameof(VisionLayers), "a ViT takes one positive layer count");
            Require(VisionPatchSize > 0 && ImageResolution % VisionPatchSize == 0, nameof(VisionPatchSize), $"must divide the resolution {ImageResolution}");
            Require(VisionHeadWidth > 0 && VisionWidth % VisionHeadWidth == 0, nameof(VisionHeadWidth), $"must divide the vision width {VisionWidth}");
        }
        else
        {
            Require(VisionLayers.Length == 4 && VisionLayers.All(l => l > 0), nameof(VisionLayers), "a ModifiedResNet takes four positive stage depths");
            Require(ImageResolution % 32 == 0, nameof(ImageResolution), "a ModifiedResNet needs a multiple of 32");
            Require(VisionWidth >= 2 && VisionHeads > 0 && 32 * VisionWidth % VisionHeads == 0, nameof(VisionWidth),
                $"the attention pool's width {32 * VisionWidth} must divide into {VisionHeads} heads");
        }
        return this;
    }

    /// <summary>The ratio whose product with <paramref name="width"/> truncates back to exactly <paramref name="mlpWidth"/>
    /// (a plain division can land one ulp low, and <see cref="VisionMlpWidth"/> truncates).</summary>
    static double MlpRatioFor(int mlpWidth, int width)
    {
        double r = (double)mlpWidth / width;
        while ((int)(width * r) < mlpWidth) r = Math.BitIncrement(r);
        return r;
    }

    /// <summary>
    /// This config's layer counts against the blocks a state dict's keys hold (OpenAI naming), before anything is listed
    /// or built: a config declaring 1,000,000,000 layers would otherwise allocate without bound on the way to
    /// "missing key". Throws <see cref="InvalidDataException"/> naming <paramref name="source"/> and, when the config came
    /// from a file, that file's fields (<paramref name="declaredIn"/>).
    /// </summary>
    public void RequireLayerCountsOf(IEnumerable<string> keys, string source, LayerCountFields? declaredIn = null)
    {
        var keyList = keys as ICollection<string> ?? keys.ToList();
        string where = "";
        int Blocks(string prefix) => keyList.Where(k => k.StartsWith(prefix, StringComparison.Ordinal))
            .Select(k => k[prefix.Length..].Split('.')[0]).Distinct().Count();
        void Check(string what, long declared, int held)
        {
            if (declared != held)
                throw new InvalidDataException($"{source}: the config declares {declared:N0} {what}{where}, the weights hold {held:N0}");
        }
        string From(string? field) => declaredIn is null || field is null ? "" : $" ({declaredIn.File}: {field})";
        where = From(declaredIn?.TextLayers);
        Check("text transformer layers", TextLayers, Blocks("transformer.resblocks."));
        where = From(declaredIn?.VisionLayers);
        if (IsVisionTransformer) Check("vision transformer layers", VisionLayers[0], Blocks("visual.transformer.resblocks."));
        else
            for (int stage = 0; stage < VisionLayers.Length; stage++)
                Check($"blocks in ResNet stage {stage + 1}", VisionLayers[stage], Blocks($"visual.layer{stage + 1}."));
    }
}

/// <summary>Where a config file declares the layer counts, for errors that must name the file and field.</summary>
/// <param name="File">The config file.</param>
/// <param name="TextLayers">Its field holding the text tower's layer count (e.g. <c>text_config.num_hidden_layers</c>).</param>
/// <param name="VisionLayers">Its field holding the image tower's layer count(s).</param>
public sealed record LayerCountFields(string File, string TextLayers, string VisionLayers);
