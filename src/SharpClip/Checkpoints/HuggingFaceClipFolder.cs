using SharpClip.Files;
using System.Text.Json.Nodes;
using SharpClip.Modeling;
using SharpClip.Text;
using SharpClip.Vision;
using static TorchSharp.torch;

namespace SharpClip.Checkpoints;

/// <summary>
/// Exports a ViT CLIP as a Hugging Face transformers folder (config.json, model.safetensors in HF names,
/// preprocessor_config.json, and the tokenizer when the model has one: vocab.json + merges.txt — copied, or written from
/// OpenAI's <c>bpe_simple_vocab_16e6.txt.gz</c> — with tokenizer_config.json and special_tokens_map.json) that
/// <c>CLIPModel.from_pretrained</c>, <c>CLIPProcessor.from_pretrained</c> and <see cref="CheckpointLoader"/> all read
/// without a separate vocabulary. ResNet CLIPs cannot be exported: transformers has no such model.
/// </summary>
public static class HuggingFaceClipFolder
{
    public static void Write(string dir, ClipConfig config, IReadOnlyDictionary<string, Tensor> openAiStateDict,
        PreprocessingInfo preprocessing, string? vocabJsonPath = null, string? mergesPath = null, bool overwrite = false,
        BpeVocabulary? vocabulary = null)
    {
        var configJson = HuggingFaceClipConfig.ToJson(config.Validate(), TorchDtypeName(openAiStateDict));
        ClipStateDictSchema.Validate(openAiStateDict, config, "state dict to export");
        preprocessing.Validate("preprocessing to export");
        if (vocabulary is not null && vocabJsonPath is not null)
            throw new ArgumentException("give the tokenizer either as vocab.json + merges.txt files or as a vocabulary, not both");
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
            vocabulary?.SaveHuggingFace(staging);
            if (vocabulary is not null || vocabJsonPath is not null) WriteTokenizerConfig(staging, config.ContextLength);
            JsonFiles.WriteAtomic(Path.Combine(staging, "config.json"), configJson);
        });
    }

    // What transformers' CLIPTokenizer needs beside vocab.json and merges.txt: CLIP's special tokens (it pads with the
    // end-of-text token) and the context length, so CLIPProcessor.from_pretrained(folder) tokenizes as the model expects.
    static void WriteTokenizerConfig(string staging, int contextLength)
    {
        const string start = "<|startoftext|>", end = "<|endoftext|>";
        var special = new JsonObject { ["bos_token"] = start, ["eos_token"] = end, ["unk_token"] = end, ["pad_token"] = end };
        JsonFiles.WriteAtomic(Path.Combine(staging, "special_tokens_map.json"), special);
        var tokenizer = special.DeepClone().AsObject();
        tokenizer["tokenizer_class"] = "CLIPTokenizer";
        tokenizer["model_max_length"] = contextLength;
        tokenizer["do_lower_case"] = true;
        tokenizer["add_prefix_space"] = false;
        tokenizer["errors"] = "replace";
        JsonFiles.WriteAtomic(Path.Combine(staging, "tokenizer_config.json"), tokenizer);
    }

    // transformers records the weights' dtype; a mixed dict is described by its most common floating type.
    static string TorchDtypeName(IReadOnlyDictionary<string, Tensor> sd)
    {
        var dtype = sd.Values.Where(t => t.is_floating_point()).GroupBy(t => t.dtype).OrderByDescending(g => g.Count()).Select(g => g.Key)
            .DefaultIfEmpty(ScalarType.Float32).First();
        return dtype switch { ScalarType.Float16 => "float16", ScalarType.BFloat16 => "bfloat16", ScalarType.Float64 => "float64", _ => "float32" };
    }
}
