using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Modeling;

/// <summary>
/// Copies a state dict into a module after checking it completely. TorchSharp's own <c>load_state_dict</c> names
/// no keys on failure and silently broadcasts a wrongly shaped tensor into a parameter, so the checks are ours:
/// every key present, no unknown key, every shape equal, floating-point tensors for floating-point parameters.
/// Nothing is copied unless everything fits, so a bad file never leaves a half-loaded model.
/// </summary>
internal static class StateDictLoader
{
    /// <summary>Shape and element type of a source tensor, known before it is read.</summary>
    public sealed record Entry(long[] Shape, ScalarType DType);

    /// <summary>Keys OpenAI's TorchScript archives carry beside the weights; the reference's build_model drops them too.</summary>
    static readonly HashSet<string> IgnoredKeys = ["input_resolution", "context_length", "vocab_size"];

    const int MaxListed = 8;

    /// <summary>Every tensor of a safetensors file as an entry, from its header alone (nothing is read).</summary>
    public static Dictionary<string, Entry> Entries(Files.SafeTensorsFile file, string prefix = "") =>
        file.Tensors.Where(t => t.Name.StartsWith(prefix, StringComparison.Ordinal))
            .ToDictionary(t => t.Name[prefix.Length..], t => new Entry(t.Shape, Files.SafeTensorsFile.ToScalarType(t.DType)));

    /// <summary>
    /// Fills a freshly built <paramref name="model"/> (see <see cref="Load"/>) and puts it in inference mode; a state dict
    /// that does not fit disposes the model before the error leaves, so no half-built model outlives a bad file.
    /// </summary>
    public static T LoadFresh<T>(T model, IReadOnlyDictionary<string, Entry> source, Func<string, Tensor> read, string sourceName,
        bool requireFinite = true) where T : nn.Module
    {
        try
        {
            Load(model, source, read, sourceName, requireFinite);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        model.eval();
        return model;
    }

    /// <param name="module">The model to fill.</param>
    /// <param name="source">Shape and dtype of every source tensor, known before any is read.</param>
    /// <param name="read">Reads one source tensor by key.</param>
    /// <param name="sourceName">Named in every error.</param>
    /// <param name="requireFinite">Refuse NaN/infinite values (off where the caller has checked them already).</param>
    public static void Load(nn.Module module, IReadOnlyDictionary<string, Entry> source, Func<string, Tensor> read, string sourceName,
        bool requireFinite = true)
    {
        var targets = module.state_dict();
        // A model built for loading (UninitializedWeights) holds whatever the allocator returned until its tensors are
        // copied, so every parameter and buffer must be one of the targets every source key is checked against.
        foreach (var name in module.named_parameters().Select(p => p.name).Concat(module.named_buffers().Select(b => b.name)))
            if (!targets.ContainsKey(name))
                throw new InvalidOperationException($"{sourceName}: the model's tensor '{name}' is not in its state dict, so no checkpoint could fill it");
        var problems = new List<string>();
        foreach (var (key, target) in targets)
        {
            if (!source.TryGetValue(key, out var entry)) { problems.Add($"missing '{key}' [{Dims(target.shape)}]"); continue; }
            if (!entry.Shape.SequenceEqual(target.shape))
                problems.Add($"'{key}' has shape [{Dims(entry.Shape)}], the model needs [{Dims(target.shape)}]");
            else if (IsFloat(target.dtype) && !IsFloat(entry.DType))
                problems.Add($"'{key}' is {entry.DType}, expected a floating-point tensor");
            else if (!IsFloat(target.dtype) && (IsFloat(entry.DType) || entry.DType == ScalarType.Bool))
                problems.Add($"'{key}' is {entry.DType}, expected an integer tensor");
        }
        foreach (var key in source.Keys.Where(k => !targets.ContainsKey(k) && !IgnoredKeys.Contains(k)).Order(StringComparer.Ordinal))
            problems.Add($"unexpected '{key}'");
        if (problems.Count > 0)
        {
            var listed = string.Join("; ", problems.Take(MaxListed));
            var more = problems.Count > MaxListed ? $"; and {problems.Count - MaxListed} more" : "";
            throw new InvalidDataException($"{sourceName}: the state dict does not fit the model ({problems.Count} problem(s)): {listed}{more}");
        }

        using var _ = torch.no_grad();
        var nonFinite = new List<string>();
        foreach (var (key, target) in targets)
        {
            using var value = read(key);
            // NaN or infinite weights make every output NaN (and NaN probabilities with exit 0): refuse them here, named.
            if (requireFinite && IsFloat(value.dtype) && !AllFinite(value)) nonFinite.Add(key);
            target.copy_(value); // converts dtype (exactly, for fp16/bf16 -> fp32) and device
        }
        if (nonFinite.Count > 0) throw NonFiniteError(sourceName, nonFinite);
    }

    static bool IsFloat(ScalarType t) => torch.is_floating_point(t);

    /// <summary>The one message for weights holding NaN or infinity, naming the source and the first tensors.</summary>
    internal static InvalidDataException NonFiniteError(string sourceName, IReadOnlyList<string> keys) =>
        new($"{sourceName}: non-finite values (NaN or infinity) in {keys.Count} tensor(s): " +
            string.Join(", ", keys.Take(MaxListed).Select(k => $"'{k}'")) + (keys.Count > MaxListed ? ", ..." : "") +
            " (a corrupt or diverged checkpoint)");

    internal static bool AllFinite(Tensor t)
    {
        using var finite = t.isfinite();
        using var all = finite.all();
        return all.item<bool>();
    }

    static string Dims(long[] shape) => string.Join(",", shape);
}
