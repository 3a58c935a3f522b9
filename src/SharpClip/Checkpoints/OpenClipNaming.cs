using static TorchSharp.torch;

namespace SharpClip.Checkpoints;

/// <summary>
/// OpenAI and open_clip name their CLIP parameters the same way (the modules' attribute paths), with a few wrappers
/// and leftovers this maps away:
/// <list type="bullet">
/// <item><c>module.</c> (DistributedDataParallel) and <c>_orig_mod.</c> (torch.compile) prefixes are stripped.</item>
/// <item>open_clip's <c>CustomTextCLIP</c> keeps the text tower under <c>text.</c>; it moves to the root, and a
/// <c>text.text_projection.weight</c> stored as a bias-free Linear [D, W] becomes <c>text_projection</c> [W, D].</item>
/// <item>Non-weights are dropped: OpenAI JIT archives' <c>input_resolution</c>, <c>context_length</c>, <c>vocab_size</c>
/// buffers (the reference's build_model deletes them too) and older open_clip's persisted <c>attn_mask</c>.</item>
/// </list>
/// Anything else passes through unchanged, so the schema check can report it as unexpected by its own name.
/// </summary>
public static class OpenClipNaming
{
    static readonly string[] WrapperPrefixes = ["module.", "_orig_mod."];
    static readonly HashSet<string> NonWeights = ["input_resolution", "context_length", "vocab_size", "attn_mask"];

    /// <summary>The OpenAI name for one key, or null if the key is not a weight. Does not handle the transposed Linear.</summary>
    public static string? Normalize(string key)
    {
        bool stripped;
        do
        {
            stripped = false;
            foreach (var p in WrapperPrefixes)
                if (key.StartsWith(p, StringComparison.Ordinal)) { key = key[p.Length..]; stripped = true; }
        } while (stripped);
        if (key.StartsWith("text.", StringComparison.Ordinal)) key = key["text.".Length..];
        return NonWeights.Contains(key) ? null : key;
    }

    /// <summary>
    /// Renames <paramref name="stateDict"/> into OpenAI names. The result holds new tensor handles (aliases or, for
    /// transposed projections, copies) that the caller owns; the input stays untouched. <paramref name="dropped"/>
    /// receives the keys that were not weights.
    /// </summary>
    public static Dictionary<string, Tensor> ToOpenAI(IReadOnlyDictionary<string, Tensor> stateDict, string source, List<string> dropped)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var (key, t) in stateDict)
            {
                var name = Normalize(key);
                if (name is null) { dropped.Add(key); continue; }
                Tensor value;
                if (name == "text_projection.weight")
                {
                    if (t.dim() != 2) throw new InvalidDataException($"{source}: '{key}' should be a 2-D Linear weight, has shape [{string.Join(",", t.shape)}]");
                    name = "text_projection";
                    using var view = t.t();
                    value = view.contiguous(); // Linear [D, W] -> parameter [W, D]
                }
                else value = t.alias();
                if (!result.TryAdd(name, value))
                {
                    value.Dispose();
                    throw new InvalidDataException($"{source}: keys '{key}' and another key both map to '{name}'");
                }
            }
            return result;
        }
        catch
        {
            foreach (var t in result.Values) t.Dispose();
            throw;
        }
    }
}
