namespace SharpClip.Checkpoints;

/// <summary>
/// Finds the state dict inside an unpickled PyTorch checkpoint without loading any tensor bytes:
/// a plain (Ordered)dict of tensors (<c>torch.save(model.state_dict())</c>, Hugging Face's pytorch_model.bin), a
/// training checkpoint that wraps it (open_clip's <c>{"epoch", "name", "state_dict", "optimizer"}</c>), or a
/// TorchScript module tree, where it is what <c>module.state_dict()</c> would return (OpenAI's JIT archives — the
/// same dict <c>clip.load(..., jit=False)</c> hands to <c>build_model</c>).
/// </summary>
internal static class PickledStateDict
{
    /// <summary>Keys under which training scripts nest the weights, in order of preference.</summary>
    static readonly string[] WrapperKeys = ["state_dict", "model", "module", "model_state_dict"];

    public sealed record Found(List<KeyValuePair<string, TorchTensorRef>> Tensors, string? WrapperKey, List<string> IgnoredEntries);

    public static Found Find(TorchArchive archive)
    {
        switch (archive.Root)
        {
            case TorchScriptObject module:
            {
                var tensors = new List<KeyValuePair<string, TorchTensorRef>>();
                WalkModule(archive, module, "", tensors, depth: 0);
                if (tensors.Count == 0) throw new InvalidDataException($"{archive.Path}: the TorchScript module holds no parameters or buffers");
                return new Found(tensors, null, []);
            }
            case PickleDict dict:
                foreach (var key in WrapperKeys)
                    if (dict.TryGet(key, out var inner) && inner is PickleDict or TorchScriptObject && HasTensors(inner))
                    {
                        var found = FromDict(archive, inner);
                        return found with { WrapperKey = key };
                    }
                return FromDict(archive, dict);
            default:
                throw new InvalidDataException($"{archive.Path}: holds a {Describe(archive.Root)}, not a state dict of tensors");
        }
    }

    static Found FromDict(TorchArchive archive, object? value)
    {
        if (value is TorchScriptObject m)
        {
            var t = new List<KeyValuePair<string, TorchTensorRef>>();
            WalkModule(archive, m, "", t, 0);
            return new Found(t, null, []);
        }
        var dict = (PickleDict)value!;
        var tensors = new List<KeyValuePair<string, TorchTensorRef>>();
        var ignored = new List<string>();
        foreach (var (k, v) in dict.Items)
        {
            string name = k as string ?? throw new InvalidDataException($"{archive.Path}: state dict key {PickleKey.Describe(k)} is not a string");
            if (v is TorchTensorRef r) tensors.Add(new(name, r));
            else ignored.Add(name);
        }
        if (tensors.Count == 0)
            throw new InvalidDataException($"{archive.Path}: no tensors found (top-level keys: {string.Join(", ", ignored.Take(10))}); " +
                                           $"expected a state dict or a dict with one of: {string.Join(", ", WrapperKeys)}");
        return new Found(tensors, null, ignored);
    }

    static bool HasTensors(object? v) => v switch
    {
        PickleDict d => d.Items.Any(kv => kv.Value is TorchTensorRef),
        TorchScriptObject => true,
        _ => false,
    };

    // state_dict() order and content: a module's parameters and buffers (as its class declares them), then submodules.
    static void WalkModule(TorchArchive archive, TorchScriptObject module, string prefix, List<KeyValuePair<string, TorchTensorRef>> output, int depth)
    {
        if (depth > 256) throw new InvalidDataException($"{archive.Path}: TorchScript modules nested implausibly deep at '{prefix}'");
        var cls = archive.ScriptClass(module.TypeName);
        foreach (var (name, value) in module.Attributes)
            if (value is TorchTensorRef r && (cls is null || cls.IsState(name)))
                output.Add(new(prefix + name, r));
        foreach (var (name, value) in module.Attributes)
            if (value is TorchScriptObject child)
                WalkModule(archive, child, prefix + name + ".", output, depth + 1);
    }

    static string Describe(object? v) => v switch
    {
        null => "None",
        List<object?> => "list",
        PickleTuple => "tuple",
        TorchTensorRef => "single tensor",
        _ => v.GetType().Name,
    };
}
