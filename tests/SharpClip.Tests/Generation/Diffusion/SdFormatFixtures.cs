using System.Text.Json;
using System.Text.Json.Nodes;
using SharpClip.Files;
using SharpClip.Tests.Infrastructure;
using SharpClip.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Tests.Generation.Diffusion;

/// <summary>
/// tests/fixtures-generative/sd-formats: what make_sd_format_fixtures.py wrote with diffusers' and Stability's own code
/// (key maps, configs, reference outputs), and the checkpoints built from the shared SD v1 file with those maps — a
/// diffusers folder and an SD 2.x-style single file with OpenCLIP text keys — so no weights are copied into the repo.
/// </summary>
internal static class SdFormatFixtures
{
    public static string Dir => Path.Combine(Fixtures.RepoRoot, "tests", "fixtures-generative", "sd-formats");

    static readonly Lazy<JsonDocument> _manifest = new(() => JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Dir, "manifest.json"))));

    public static JsonElement Manifest => _manifest.Value.RootElement;

    /// <summary>The shared model the maps were made from; the sets are generated from the public fixture only.</summary>
    public static string SourceModel => Manifest.GetProperty("source_model").GetString()!;

    public static bool Available => GenerativeFixtures.StableDiffusionModelIds().Any(r => (string)r[0] == SourceModel);

    /// <summary>
    /// The format references were made from one model of the shared set; a fixture set without it cannot check them,
    /// and says so as a failure rather than passing without having checked anything.
    /// </summary>
    public static void RequireSource()
    {
        if (!Available)
            throw new InvalidOperationException($"tests/fixtures-generative/sd-formats was generated from '{SourceModel}', which this fixture set's manifest lacks: rerun make_sd_format_fixtures.py against it");
    }

    public static SafeTensorsFile Outputs() => SafeTensorsFile.Open(Path.Combine(Dir, "sd_formats.outputs.safetensors"));

    /// <summary>
    /// Writes the diffusers folder diffusers' converter makes of the shared checkpoint (its key names and shapes, its
    /// configs) into <paramref name="dir"/>; <paramref name="edit"/> changes a component's tensors before writing
    /// (keys are diffusers names) and <paramref name="editConfig"/> a component's config.
    /// </summary>
    public static string WriteDiffusersFolder(TempDir dir, Action<string, Dictionary<string, Tensor>>? edit = null,
        Action<string, JsonObject>? editConfig = null)
    {
        var root = dir.File("diffusers");
        var map = Manifest.GetProperty("diffusers");
        using var reference = new SdReference(SourceModel);
        using var source = SafeTensorsFile.Open(reference.WeightsPath);
        foreach (var (component, weights) in new[] { ("unet", "diffusion_pytorch_model.safetensors"), ("vae", "diffusion_pytorch_model.safetensors"), ("text_encoder", "model.safetensors") })
        {
            Directory.CreateDirectory(Path.Combine(root, component));
            using (var scope = torch.NewDisposeScope())
            {
                var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
                foreach (var entry in map.GetProperty(component).GetProperty("keys").EnumerateObject())
                {
                    var shape = entry.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
                    tensors[entry.Name] = source.ReadTensor(entry.Value.GetProperty("ldm").GetString()!).reshape(shape);
                }
                edit?.Invoke(component, tensors);
                SafeTensorsWriter.Write(Path.Combine(root, component, weights), tensors, new Dictionary<string, string> { ["format"] = "pt" });
            }
            WriteConfig(Path.Combine(root, component, "config.json"), map.GetProperty(component).GetProperty("config"), component, editConfig);
        }
        Directory.CreateDirectory(Path.Combine(root, "scheduler"));
        WriteConfig(Path.Combine(root, "scheduler", "scheduler_config.json"), map.GetProperty("scheduler").GetProperty("config"), "scheduler", editConfig);
        var tokenizer = Path.Combine(root, "tokenizer");
        Directory.CreateDirectory(tokenizer);
        BpeVocabulary.LoadOpenAi(GenerativeFixtures.VocabPath).SaveHuggingFace(tokenizer);
        File.WriteAllText(Path.Combine(tokenizer, "special_tokens_map.json"), map.GetProperty("tokenizer").GetProperty("special_tokens_map").GetRawText());
        File.WriteAllText(Path.Combine(root, "model_index.json"), """{"_class_name": "StableDiffusionPipeline"}""");
        return root;
    }

    static void WriteConfig(string path, JsonElement config, string component, Action<string, JsonObject>? edit)
    {
        var node = JsonNode.Parse(config.GetRawText())!.AsObject();
        edit?.Invoke(component, node);
        File.WriteAllText(path, node.ToJsonString());
    }

    /// <summary>
    /// The shared checkpoint with its text tower stored as SD 2.x stores OpenCLIP's (<c>cond_stage_model.model.*</c>,
    /// q/k/v concatenated into <c>in_proj_*</c> as diffusers' converter does) plus the unused <c>text_projection</c>
    /// and <c>logit_scale</c>.
    /// </summary>
    public static string WriteSd2File(TempDir dir, Action<Dictionary<string, Tensor>>? edit = null)
    {
        var sd2 = Manifest.GetProperty("sd2");
        using var reference = new SdReference(SourceModel);
        using var source = SafeTensorsFile.Open(reference.WeightsPath);
        using var outputs = Outputs();
        using var scope = torch.NewDisposeScope();
        var tensors = source.Names.Where(n => !n.StartsWith("cond_stage_model.", StringComparison.Ordinal))
            .ToDictionary(n => n, source.ReadTensor, StringComparer.Ordinal);
        foreach (var entry in sd2.GetProperty("text_keys").EnumerateObject())
            tensors[entry.Name] = torch.cat(entry.Value.EnumerateArray().Select(k => source.ReadTensor("cond_stage_model." + k.GetString())).ToArray(), 0);
        foreach (var key in sd2.GetProperty("extra_keys").EnumerateArray().Select(k => k.GetString()!))
            tensors[key] = outputs.ReadTensor(key);
        edit?.Invoke(tensors);
        var path = dir.File("sd2.safetensors");
        SafeTensorsWriter.Write(path, tensors);
        return path;
    }
}
