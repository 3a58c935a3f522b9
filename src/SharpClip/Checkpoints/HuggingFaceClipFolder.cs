using SharpClip.Files;
using SharpClip.Modeling;
using SharpClip.Vision;
using static TorchSharp.torch;

namespace SharpClip.Checkpoints;

/// <summary>
/// Exports a ViT CLIP as a Hugging Face transformers folder (config.json, model.safetensors in HF names,
/// preprocessor_config.json, and the tokenizer's vocab.json + merges.txt when given) that
/// <c>CLIPModel.from_pretrained</c> and <see cref="CheckpointLoader"/> both read. ResNet CLIPs cannot be exported:
/// transformers has no such model.
/// </summary>
public static class HuggingFaceClipFolder
{
    public static void Write(string dir, ClipConfig config, IReadOnlyDictionary<string, Tensor> openAiStateDict,
        PreprocessingInfo preprocessing, string? vocabJsonPath = null, string? mergesPath = null, bool overwrite = false)
    {
        var configJson = HuggingFaceClipConfig.ToJson(config.Validate(), TorchDtypeName(openAiStateDict));
        ClipStateDictSchema.Validate(openAiStateDict, config, "state dict to export");
        preprocessing.Validate("preprocessing to export");
        if ((vocabJsonPath is null) != (mergesPath is null))
            throw new ArgumentException("a Hugging Face tokenizer needs both vocab.json and merges.txt");
        foreach (var f in new[] { vocabJsonPath, mergesPath })
            if (f is not null && !File.Exists(f)) throw new FileNotFoundException($"{f}: tokenizer file not found", f);

        using var scope = NewDisposeScope();
        var hf = HuggingFaceNaming.FromOpenAI(openAiStateDict, "state dict to export");
        StagedFolder.Write(dir, overwrite, "config.json", staging =>
        {
            SafeTensorsWriter.Write(Path.Combine(staging, "model.safetensors"), hf, new Dictionary<string, string> { ["format"] = "pt" });
            preprocessing.WriteHuggingFace(Path.Combine(staging, "preprocessor_config.json"));
            if (vocabJsonPath is not null) File.Copy(vocabJsonPath, Path.Combine(staging, "vocab.json"));
            if (mergesPath is not null) File.Copy(mergesPath, Path.Combine(staging, "merges.txt"));
            JsonFiles.WriteAtomic(Path.Combine(staging, "config.json"), configJson);
        });
    }

    // transformers records the weights' dtype; a mixed dict is described by its most common floating type.
    static string TorchDtypeName(IReadOnlyDictionary<string, Tensor> sd)
    {
        var dtype = sd.Values.Where(t => t.is_floating_point()).GroupBy(t => t.dtype).OrderByDescending(g => g.Count()).Select(g => g.Key)
            .DefaultIfEmpty(ScalarType.Float32).First();
        return dtype switch { ScalarType.Float16 => "float16", ScalarType.BFloat16 => "bfloat16", ScalarType.Float64 => "float64", _ => "float32" };
    }
}
