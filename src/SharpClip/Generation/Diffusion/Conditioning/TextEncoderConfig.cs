using System.Text.Json;
using SharpClip.Files;
using SharpClip.Modeling;

namespace SharpClip.Generation.Diffusion.Conditioning;

/// <summary>
/// The shape of the CLIP text tower that conditions a diffusion model, with Hugging Face <c>CLIPTextConfig</c>
/// meanings (SD v1 files store the tower as <c>CLIPTextModel</c>). The head count cannot be read off the weights;
/// CLIP's own towers use 64-wide heads, so that is the default, and a config overrides it.
/// </summary>
public sealed record TextEncoderConfig
{
    public int VocabSize { get; init; } = 49408;
    /// <summary>Positions (77).</summary>
    public int ContextLength { get; init; } = 77;
    /// <summary>Width of the states (768 for SD v1's ViT-L/14 text tower).</summary>
    public int Width { get; init; } = 768;
    public int Layers { get; init; } = 12;
    public int Heads { get; init; } = 12;
    public int MlpWidth { get; init; } = 3072;
    /// <summary>The MLP activation: QuickGELU for OpenAI's towers (SD v1), GELU for OpenCLIP's.</summary>
    public Activation Activation { get; init; } = Activation.QuickGelu;

    public TextEncoderConfig Validate()
    {
        void Require(bool ok, string what) { if (!ok) throw new ArgumentException($"text encoder config: {what}"); }
        Require(VocabSize > 0 && ContextLength > 1 && Width > 0 && Layers > 0 && MlpWidth > 0, "sizes must be positive");
        Require(Heads > 0 && Width % Heads == 0, $"width {Width} does not divide into {Heads} heads");
        return this;
    }

    /// <summary>An HF <c>CLIPTextConfig</c> (or a <c>CLIPConfig</c> holding one under <c>text_config</c>).</summary>
    public static TextEncoderConfig FromHuggingFaceJson(JsonElement json, string source)
    {
        if (json.TryGetProperty("text_config", out var inner) && inner.ValueKind == JsonValueKind.Object) json = inner;
        try
        {
            var d = new TextEncoderConfig();
            int Int(string name, int fallback) => JsonFiles.IntOr(json, name, fallback);
            var act = json.TryGetProperty("hidden_act", out var a) ? a.GetString() : "quick_gelu";
            return new TextEncoderConfig
            {
                VocabSize = Int("vocab_size", d.VocabSize),
                ContextLength = Int("max_position_embeddings", d.ContextLength),
                Width = Int("hidden_size", d.Width),
                Layers = Int("num_hidden_layers", d.Layers),
                Heads = Int("num_attention_heads", d.Heads),
                MlpWidth = Int("intermediate_size", d.MlpWidth),
                Activation = act switch
                {
                    "quick_gelu" => Activation.QuickGelu,
                    "gelu" => Activation.Gelu,
                    _ => throw new InvalidDataException($"{source}: hidden_act '{act}' is not supported (quick_gelu or gelu)"),
                },
            }.Validate();
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException or ArgumentException)
        {
            throw new InvalidDataException($"{source}: bad text encoder config: {e.Message}", e);
        }
    }

    /// <summary>
    /// The expected tensors of an HF <c>CLIPTextModel</c> of this shape, names relative to <c>text_model.</c>
    /// (<c>embeddings.position_ids</c> is optional and not listed).
    /// </summary>
    public IEnumerable<(string Key, long[] Shape)> HuggingFaceShapes()
    {
        long v = VocabSize, c = ContextLength, w = Width, m = MlpWidth;
        yield return ("embeddings.token_embedding.weight", [v, w]);
        yield return ("embeddings.position_embedding.weight", [c, w]);
        for (int i = 0; i < Layers; i++)
        {
            string p = $"encoder.layers.{i}.";
            foreach (var proj in new[] { "q_proj", "k_proj", "v_proj", "out_proj" })
            {
                yield return ($"{p}self_attn.{proj}.weight", [w, w]);
                yield return ($"{p}self_attn.{proj}.bias", [w]);
            }
            foreach (var norm in new[] { "layer_norm1", "layer_norm2" })
            {
                yield return ($"{p}{norm}.weight", [w]);
                yield return ($"{p}{norm}.bias", [w]);
            }
            yield return ($"{p}mlp.fc1.weight", [m, w]);
            yield return ($"{p}mlp.fc1.bias", [m]);
            yield return ($"{p}mlp.fc2.weight", [w, m]);
            yield return ($"{p}mlp.fc2.bias", [w]);
        }
        yield return ("final_layer_norm.weight", [w]);
        yield return ("final_layer_norm.bias", [w]);
    }

    /// <summary>
    /// The shape read off HF-named weights (keys relative to <c>text_model.</c>): vocabulary, context and width from
    /// the embeddings, layers from the keys present, MLP width from <c>fc1</c>; heads and activation as given.
    /// </summary>
    public static TextEncoderConfig Infer(IReadOnlyDictionary<string, long[]> shapes, string source, string keyPrefix, int? heads, Activation activation)
    {
        long[] Shape(string key, int rank)
        {
            if (!shapes.TryGetValue(key, out var s)) throw new InvalidDataException($"{source}: missing key '{keyPrefix}{key}'");
            if (s.Length != rank) throw new InvalidDataException($"{source}: key '{keyPrefix}{key}' has shape [{string.Join(",", s)}], expected {rank} dimensions");
            return s;
        }
        var tokens = Shape("embeddings.token_embedding.weight", 2);
        var positions = Shape("embeddings.position_embedding.weight", 2);
        int layers = 0;
        while (shapes.ContainsKey($"encoder.layers.{layers}.layer_norm1.weight")) layers++;
        if (layers == 0) throw new InvalidDataException($"{source}: missing key '{keyPrefix}encoder.layers.0.layer_norm1.weight' (no text encoder layers)");
        int width = checked((int)tokens[1]);
        try
        {
            return new TextEncoderConfig
            {
                VocabSize = checked((int)tokens[0]),
                ContextLength = checked((int)positions[0]),
                Width = width,
                Layers = layers,
                Heads = heads ?? Math.Max(1, width / 64),
                MlpWidth = checked((int)Shape("encoder.layers.0.mlp.fc1.weight", 2)[0]),
                Activation = activation,
            }.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{source}: the text encoder under '{keyPrefix}' does not fit: {e.Message}", e);
        }
    }
}
