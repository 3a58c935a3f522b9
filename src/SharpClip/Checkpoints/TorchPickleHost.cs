using System.Text;
using static TorchSharp.torch;

namespace SharpClip.Checkpoints;

/// <summary>A global the allow-list accepted: an inert marker; its meaning is decided by <see cref="TorchPickleHost"/>.</summary>
internal sealed record PickleGlobal(string Module, string Name)
{
    public string FullName => $"{Module}.{Name}";
    public override string ToString() => FullName;
}

/// <summary>Bytes of one PyTorch storage, named by its key in the archive (<c>data/&lt;key&gt;</c>), read as <paramref name="DType"/>.</summary>
internal sealed record TorchStorageRef(string Key, ScalarType DType, string Location);

/// <summary>A tensor as the pickle describes it: a strided view into a storage. Materialised later, only if needed.</summary>
internal sealed record TorchTensorRef(TorchStorageRef Storage, long Offset, long[] Shape, long[] Stride)
{
    /// <summary>The number of elements; a shape whose product does not fit in 64 bits throws <see cref="OverflowException"/>.</summary>
    public long ElementCount => Shape.Aggregate(1L, (a, b) => checked(a * b));
    public override string ToString() => $"tensor[{string.Join(",", Shape)}] {Storage.DType}";
}

/// <summary>An object of a TorchScript class (<c>__torch__.*</c>): its type name and attributes, never its code.</summary>
internal sealed class TorchScriptObject(string typeName)
{
    public string TypeName { get; } = typeName;
    public Dictionary<string, object?> Attributes { get; } = new(StringComparer.Ordinal);
    public override string ToString() => TypeName;
}

/// <summary>
/// The allow-list for PyTorch pickles: exactly the reconstructors a state dict (or a TorchScript module's attribute
/// tree) needs, each re-implemented as data construction. Everything else throws <see cref="UnsafePickleException"/>
/// at the moment the pickle names it, before anything could be called.
/// </summary>
/// <param name="source">Named in every error.</param>
/// <param name="allowTorchScriptClasses">Accept <c>__torch__.*</c> classes (inside a TorchScript archive only).</param>
/// <param name="moduleClasses">Pickled <c>nn.Module</c> classes a caller expects (e.g. the dVAE's), read as
/// <see cref="PickledModule"/> data; null (the default) accepts none.</param>
internal sealed class TorchPickleHost(string source, bool allowTorchScriptClasses, PickledModuleClasses? moduleClasses = null) : IPickleHost
{
    static readonly Dictionary<string, ScalarType> StorageTypes = new(StringComparer.Ordinal)
    {
        ["FloatStorage"] = ScalarType.Float32, ["DoubleStorage"] = ScalarType.Float64, ["HalfStorage"] = ScalarType.Float16,
        ["BFloat16Storage"] = ScalarType.BFloat16, ["LongStorage"] = ScalarType.Int64, ["IntStorage"] = ScalarType.Int32,
        ["ShortStorage"] = ScalarType.Int16, ["CharStorage"] = ScalarType.Int8, ["ByteStorage"] = ScalarType.Byte,
        ["BoolStorage"] = ScalarType.Bool, ["UntypedStorage"] = ScalarType.Byte,
    };

    static readonly HashSet<string> Functions = new(StringComparer.Ordinal)
    {
        "collections.OrderedDict", "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state", "torch._tensor._rebuild_from_type_v2",
        "torch.Size", "torch.device", "_codecs.encode", "builtins.set", "builtins.frozenset", "builtins.bytearray",
        "__builtin__.set", "__builtin__.frozenset", "__builtin__.bytearray",
        // Tensor types, only meaningful as the new_type of _rebuild_from_type_v2.
        "torch.Tensor", "torch._tensor.Tensor", "torch.nn.parameter.Parameter",
    };

    static readonly HashSet<string> DTypeNames = new(StringComparer.Ordinal)
    {
        "float32", "float", "float64", "double", "float16", "half", "bfloat16", "int64", "long", "int32", "int",
        "int16", "short", "int8", "uint8", "bool",
    };

    // TorchScript's own pickler helpers: typed containers, returned unchanged.
    static readonly HashSet<string> TorchScriptHelpers = new(StringComparer.Ordinal)
    {
        "torch.jit._pickle.restore_type_tag", "torch.jit._pickle.build_intlist", "torch.jit._pickle.build_floatlist",
        "torch.jit._pickle.build_doublelist", "torch.jit._pickle.build_boollist", "torch.jit._pickle.build_tensorlist",
        "torch.jit._pickle.build_genericlist",
    };

    public object ResolveGlobal(string module, string name)
    {
        var g = new PickleGlobal(module, name);
        string full = g.FullName;
        if (Functions.Contains(full)) return g;
        if (module is "torch" or "torch.storage" && StorageTypes.ContainsKey(name)) return g;
        if (module == "torch" && DTypeNames.Contains(name)) return g;
        if (moduleClasses?.Contains(full) == true) return g;
        if (allowTorchScriptClasses && (TorchScriptHelpers.Contains(full) || module == "__torch__" || module.StartsWith("__torch__.", StringComparison.Ordinal)))
            return g;
        throw new UnsafePickleException(source, full, "it is not a tensor reconstructor on SharpClip's allow-list");
    }

    public object? Call(object callable, PickleTuple args)
    {
        if (callable is not PickleGlobal g) throw Bad($"cannot call a {Describe(callable)}");
        switch (g.FullName)
        {
            case "collections.OrderedDict":
            {
                var d = new PickleDict();
                if (args.Count == 1 && args[0] is List<object?> pairs)
                    foreach (var p in pairs)
                        if (p is PickleTuple { Count: 2 } kv) d.Set(kv[0], kv[1]);
                        else throw Bad("OrderedDict items must be pairs");
                else if (args.Count != 0) throw Bad("unexpected OrderedDict arguments");
                return d;
            }
            case "torch._utils._rebuild_tensor_v2":
                if (args.Count is < 4 or > 7) throw Bad($"_rebuild_tensor_v2 takes 6-7 arguments, got {args.Count}");
                return RebuildTensor(args);
            case "torch._utils._rebuild_tensor":
                if (args.Count != 4) throw Bad($"_rebuild_tensor takes 4 arguments, got {args.Count}");
                return RebuildTensor(args);
            case "torch._utils._rebuild_parameter":
            case "torch._utils._rebuild_parameter_with_state":
                if (args.Count < 1 || args[0] is not TorchTensorRef data) throw Bad("_rebuild_parameter without a tensor");
                return data; // requires_grad, hooks and state do not matter for weights
            case "torch._tensor._rebuild_from_type_v2":
            {
                // (func, new_type, args, state): a Tensor subclass rebuilt by func(*args); only Tensor/Parameter are allowed.
                if (args.Count != 4 || args[0] is not PickleGlobal fn || args[1] is not PickleGlobal type || args[2] is not PickleTuple inner)
                    throw Bad("malformed _rebuild_from_type_v2");
                if (type.FullName is not ("torch.Tensor" or "torch._tensor.Tensor" or "torch.nn.parameter.Parameter"))
                    throw new UnsafePickleException(source, type.FullName, "tensor subclasses other than Parameter are not allowed");
                return Call(fn, inner);
            }
            case "torch.Size":
                return args.Count == 1 && args[0] is PickleTuple or List<object?>
                    ? new PickleTuple(((IEnumerable<object?>)args[0]!).ToArray())
                    : throw Bad("malformed torch.Size");
            case "torch.device":
                return string.Join(":", args.Select(a => a?.ToString()));
            case "_codecs.encode":
                if (args.Count is < 1 or > 2 || args[0] is not string text) throw Bad("malformed _codecs.encode");
                var encoding = args.Count == 2 ? args[1] as string : "utf-8";
                return encoding is "latin1" or "latin-1" or "iso-8859-1" ? Encoding.Latin1.GetBytes(text) : Encoding.UTF8.GetBytes(text);
            case "builtins.set" or "builtins.frozenset" or "__builtin__.set" or "__builtin__.frozenset":
                return new PickleSet(args.Count == 0 ? [] : ((args[0] as IEnumerable<object?>) ?? throw Bad("set of a non-iterable")).ToList());
            case "builtins.bytearray" or "__builtin__.bytearray":
                return args.Count == 0 ? Array.Empty<byte>() : args[0] as byte[] ?? throw Bad("unsupported bytearray arguments");
            case "torch.jit._pickle.restore_type_tag":
                return args.Count > 0 ? args[0] : throw Bad("restore_type_tag without a value");
            case var s when s.StartsWith("torch.jit._pickle.build_", StringComparison.Ordinal):
                return args.Count == 1 ? args[0] : throw Bad($"{s} takes one argument");
            default:
                throw Bad($"'{g.FullName}' cannot be called");
        }
    }

    public object NewObject(object cls, PickleTuple args)
    {
        if (cls is PickleGlobal g && allowTorchScriptClasses && (g.Module == "__torch__" || g.Module.StartsWith("__torch__.", StringComparison.Ordinal)))
            return new TorchScriptObject(g.FullName);
        if (cls is PickleGlobal { FullName: "collections.OrderedDict" }) return new PickleDict();
        // object.__reduce_ex__(2) of a module: cls.__new__(cls) with no arguments; its __dict__ follows in BUILD.
        if (cls is PickleGlobal m && moduleClasses?.Contains(m.FullName) == true)
            return args.Count == 0 ? new PickledModule(m.FullName) : throw Bad($"{m.FullName} is created with arguments; a pickled module has none");
        throw Bad($"cannot create an object of {Describe(cls)}");
    }

    public void Build(object? target, object? state)
    {
        switch (target)
        {
            case TorchScriptObject obj when state is PickleDict attrs:
                foreach (var (k, v) in attrs.Items)
                    obj.Attributes[k as string ?? throw Bad($"{obj.TypeName} has a non-string attribute name")] = v;
                break;
            case TorchScriptObject obj:
                obj.Attributes["__getstate__"] = state; // a custom __setstate__ payload: kept as data, never interpreted
                break;
            case PickledModule module when state is PickleDict attrs:  // nn.Module.__setstate__: __dict__.update(state)
                foreach (var (k, v) in attrs.Items)
                    module.Attributes[k as string ?? throw Bad($"{module.ClassName} has a non-string attribute name")] = v;
                break;
            case PickledModule module:
                throw Bad($"{module.ClassName} carries a {Describe(state)} state, not an attribute dict");
            case PickleDict dict when state is PickleDict attrs:
                foreach (var (k, v) in attrs.Items) if (k is string name) dict.Attributes[name] = v;
                break;
            case PickleDict dict when state is PickleTuple { Count: 2 } t:  // (instance dict, slots)
                if (t[0] is PickleDict a) foreach (var (k, v) in a.Items) if (k is string name) dict.Attributes[name] = v;
                break;
            default:
                throw Bad($"cannot set the state of a {Describe(target)}");
        }
    }

    public object? PersistentLoad(object? pid)
    {
        // The legacy format records each pickled nn.Module subclass as ('module', class, source file, source code), to
        // warn when the code changed since saving. The class was resolved through the allow-list above; the source is
        // text that is never looked at.
        if (pid is PickleTuple { Count: 4 } m && m[0] as string == "module")
            return m[1] is PickleGlobal cls && moduleClasses?.Contains(cls.FullName) == true
                ? cls
                : throw Bad($"a module class persistent id for {Describe(m[1])}, which the caller did not allow");
        // ('storage', storage_type, key, location, numel[, view_metadata])
        if (pid is not PickleTuple { Count: >= 5 } t || t[0] as string != "storage")
            throw Bad($"unsupported persistent id {Truncated(PickleKey.Describe(pid))}");
        if (t[1] is not PickleGlobal type || !StorageTypes.TryGetValue(type.Name, out var dtype))
            throw Bad($"unsupported storage type {PickleKey.Describe(t[1])}");
        if (t.Count > 5 && t[5] is not null)
            throw Bad("storage views (PyTorch < 0.4 checkpoints) are not supported");
        string key = t[2] switch { string s => s, long l => l.ToString(System.Globalization.CultureInfo.InvariantCulture), _ => throw Bad("storage key is not a string") };
        return new TorchStorageRef(key, dtype, t[3] as string ?? "cpu");
    }

    TorchTensorRef RebuildTensor(PickleTuple args)
    {
        if (args[0] is not TorchStorageRef storage) throw Bad("tensor without a storage");
        long offset = args[1] is long o ? o : throw Bad("tensor storage offset is not an int");
        long[] shape = Ints(args[2], "size"), stride = Ints(args[3], "stride");
        if (shape.Length != stride.Length) throw Bad($"tensor size has {shape.Length} dims but stride {stride.Length}");
        if (offset < 0 || shape.Any(d => d < 0) || stride.Any(s => s < 0)) throw Bad("negative tensor offset, size or stride");
        return new TorchTensorRef(storage, offset, shape, stride);
    }

    long[] Ints(object? v, string what) => v switch
    {
        PickleTuple t => t.Select(x => x is long l ? l : throw Bad($"tensor {what} holds a non-integer")).ToArray(),
        List<object?> l => l.Select(x => x is long i ? i : throw Bad($"tensor {what} holds a non-integer")).ToArray(),
        _ => throw Bad($"tensor {what} is not a tuple"),
    };

    static string Truncated(string text) => text.Length <= 200 ? text : text[..200] + "...";

    static string Describe(object? v) => v switch
    {
        null => "None",
        PickleGlobal g => $"'{g.FullName}'",
        _ => v.GetType().Name,
    };

    InvalidDataException Bad(string why) => new($"{source}: {why}");
}
