namespace SharpClip.Checkpoints;

/// <summary>
/// Finds the state dict inside an unpickled PyTorch checkpoint without loading any tensor bytes:
/// a plain (Ordered)dict of tensors (<c>torch.save(model.state_dict())</c>, Hugging Face's pytorch_model.bin), a
/// training checkpoint that wraps it (open_clip's <c>{"epoch", "name", "state_dict", "optimizer"}</c>), or a
/// TorchScript module tree, where it is what <c>module.state_dict()</c> would return (OpenAI's JIT archives — the
/// same dict <c>clip.load(..., jit=False)</c> hands to <c>build_model</c>), or a pickled <c>nn.Module</c> object whose
/// class the caller allowed (<see cref="PickledModule"/>), where it is likewise what <c>state_dict()</c> returns.
/// </summary>
internal static class PickledStateDict
{
    /// <summary>Keys under which training scripts nest the weights, in order of preference.</summary>
    static readonly string[] WrapperKeys = ["state_dict", "model", "module", "model_state_dict"];

    /// <summary>The state dict's (name, tensor reference) pairs in stored order.</summary>
    public static List<KeyValuePair<string, TorchTensorRef>> Find(TorchArchive archive)
    {
        var root = archive.Root;
        if (root is PickleDict dict)
            foreach (var key in WrapperKeys)
                if (dict.TryGet(key, out var inner) && HasTensors(inner)) { root = inner; break; }

        var tensors = new List<KeyValuePair<string, TorchTensorRef>>();
        switch (root)
        {
            case TorchScriptObject module:
                WalkModule(archive, module, "", tensors, depth: 0);
                if (tensors.Count == 0) throw new InvalidDataException($"{archive.Path}: the TorchScript module holds no parameters or buffers");
                return tensors;
            case PickledModule module:
                WalkPickledModule(archive.Path, module, "", tensors, depth: 0);
                if (tensors.Count == 0) throw new InvalidDataException($"{archive.Path}: the pickled {module.ClassName} holds no parameters or buffers");
                return tensors;
            case PickleDict d:
                var others = new List<string>();
                foreach (var (k, v) in d.Items)
                {
                    string name = k as string ?? throw new InvalidDataException($"{archive.Path}: state dict key {PickleKey.Describe(k)} is not a string");
                    if (v is TorchTensorRef r) tensors.Add(new(name, r));
                    else others.Add(name); // e.g. "epoch", "_extra_state": not weights
                }
                if (tensors.Count == 0)
                    throw new InvalidDataException($"{archive.Path}: no tensors found (top-level keys: {string.Join(", ", others.Take(10))}); " +
                                                   $"expected a state dict or a dict with one of: {string.Join(", ", WrapperKeys)}");
                return tensors;
            default:
                throw new InvalidDataException($"{archive.Path}: holds a {Describe(root)}, not a state dict of tensors");
        }
    }

    static bool HasTensors(object? v) => v switch
    {
        PickleDict d => d.Items.Any(kv => kv.Value is TorchTensorRef),
        TorchScriptObject or PickledModule => true,
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

    /// <summary>
    /// <c>nn.Module.state_dict()</c> of a pickled module object: its <c>_parameters</c>, then its <c>_buffers</c> except
    /// those in <c>_non_persistent_buffers_set</c> (None entries skipped in both), then each child of <c>_modules</c>
    /// under <c>name.</c>, depth first.
    /// </summary>
    static void WalkPickledModule(string path, PickledModule module, string prefix, List<KeyValuePair<string, TorchTensorRef>> output, int depth)
    {
        string where = prefix.Length == 0 ? $"the pickled {module.ClassName}" : $"module '{prefix.TrimEnd('.')}' ({module.ClassName})";
        if (depth > 256) throw new InvalidDataException($"{path}: modules nested implausibly deep at {where}");
        PickleDict Dict(string field) =>
            module.Attributes.TryGetValue(field, out var v) && v is PickleDict d ? d
                : throw new InvalidDataException($"{path}: {where} has no '{field}' dict; not a pickled torch.nn.Module");

        var transient = module.Attributes.TryGetValue("_non_persistent_buffers_set", out var set) && set is PickleSet s
            ? s.Items.OfType<string>().ToHashSet(StringComparer.Ordinal) : [];
        foreach (var (field, skip) in new[] { ("_parameters", new HashSet<string>()), ("_buffers", transient) })
            foreach (var (k, v) in Dict(field).Items)
            {
                string name = k as string ?? throw new InvalidDataException($"{path}: {where} has a non-string key in {field}");
                if (v is null || skip.Contains(name)) continue;
                output.Add(new(prefix + name, v as TorchTensorRef
                    ?? throw new InvalidDataException($"{path}: '{prefix + name}' in {field} of {where} is a {Describe(v)}, not a tensor")));
            }
        foreach (var (k, v) in Dict("_modules").Items)
        {
            string name = k as string ?? throw new InvalidDataException($"{path}: {where} has a non-string key in _modules");
            switch (v)
            {
                case null: continue;
                case PickledModule child: WalkPickledModule(path, child, prefix + name + ".", output, depth + 1); break;
                default: throw new InvalidDataException($"{path}: submodule '{prefix + name}' of {where} is a {Describe(v)}, not a module");
            }
        }
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
