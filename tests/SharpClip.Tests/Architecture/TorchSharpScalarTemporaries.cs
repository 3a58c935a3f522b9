using System.Reflection;
using System.Reflection.Emit;
using TorchSharp;

namespace SharpClip.Tests.Architecture;

/// <summary>
/// The members of the TorchSharp assembly the tests run against that make a native <see cref="Scalar"/> of their own
/// and let go of it before or while libtorch reads it: <c>Tensor.add(Tensor)</c> is <c>add(target, 1)</c>, the
/// <c>+</c> operators call it, <c>addcdiv(t1, t2)</c> passes a value of 1, <c>Tensor.ToSingle()</c> reads a Scalar it
/// just made. Found by reading each method's IL (not by a list typed from the sources, which would go stale with the
/// next TorchSharp): a method <em>makes</em> a Scalar when it constructs one or calls a method that returns a new one
/// (<c>op_Implicit</c>, <c>ToScalar</c>); it <em>lets it go</em> unless the new Scalar goes straight into a field, is
/// returned, or sits in a local the method disposes (a <c>using</c>) or keeps alive. Any method that calls or points
/// a delegate at such a method is one too, and so is a module type whose overridden <c>forward</c> (or any other
/// override) is one: creating that module means every call of it makes temporaries.
/// </summary>
internal sealed class TorchSharpScalarTemporaries
{
    static readonly Lazy<TorchSharpScalarTemporaries> _instance = new(() => new TorchSharpScalarTemporaries(typeof(Scalar).Assembly));

    /// <summary>The scan of the TorchSharp assembly loaded in this process (the one SharpClip is built against).</summary>
    public static TorchSharpScalarTemporaries Instance => _instance.Value;

    /// <summary>Method metadata token → why it makes a temporary Scalar (the chain of calls down to the one that does).</summary>
    public IReadOnlyDictionary<int, string> Users { get; }

    /// <summary>Tokens of the methods that return a Scalar they made (the caller owns it: <c>op_Implicit</c>, <c>ToScalar</c>).</summary>
    public IReadOnlySet<int> Creators { get; }

    /// <summary>Type metadata token → the override that makes temporaries on every call (a module's <c>forward</c>).</summary>
    public IReadOnlyDictionary<int, string> TypesWithTemporaries { get; }

    public Assembly Assembly { get; }

    TorchSharpScalarTemporaries(Assembly torchSharp)
    {
        Assembly = torchSharp;
        var module = torchSharp.ManifestModule;
        var methods = AllTypes(torchSharp).SelectMany(DeclaredMethods).Where(m => m.Module == module)
            .GroupBy(m => m.MetadataToken).Select(g => g.First()).ToDictionary(m => m.MetadataToken);
        var bodies = new Dictionary<int, List<Instruction>>();
        foreach (var (token, method) in methods)
            if (Instructions(method) is { } il) bodies[token] = il;

        // Creators: return a Scalar they constructed or got from another creator (to a fixed point).
        var creators = new HashSet<int>();
        for (bool changed = true; changed;)
        {
            changed = false;
            foreach (var (token, il) in bodies)
            {
                if (creators.Contains(token) || methods[token] is not MethodInfo { ReturnType: var r } || r != typeof(Scalar)) continue;
                if (il.Any(i => MakesScalar(i, module, creators))) changed |= creators.Add(token);
            }
        }

        // Users: make a Scalar and let it go; then everything that reaches one of them (to a fixed point).
        var users = new Dictionary<int, string>();
        foreach (var (token, il) in bodies)
        {
            if (creators.Contains(token)) continue;
            // Locals the method disposes or keeps alive: a load of the local right before Dispose/GC.KeepAlive.
            var keptLocals = Enumerable.Range(1, Math.Max(0, il.Count - 1))
                .Where(k => il[k].Callee is { } c && IsDisposeOrKeepAlive(c) && IsLdloc(il[k - 1].OpCode))
                .Select(k => il[k - 1].Local).ToHashSet();
            for (int k = 0; k < il.Count; k++)
            {
                if (!MakesScalar(il[k], module, creators)) continue;
                var next = k + 1 < il.Count ? il[k + 1].OpCode : OpCodes.Nop;
                bool held = next == OpCodes.Stfld || next == OpCodes.Stsfld
                            || (k + 1 < il.Count && IsStloc(next) && keptLocals.Contains(il[k + 1].Local));
                if (held) continue;
                users[token] = $"makes a temporary Scalar ({Describe(il[k].Callee!)}) and passes it on";
                break;
            }
        }
        for (bool changed = true; changed;)
        {
            changed = false;
            foreach (var (token, il) in bodies)
            {
                if (users.ContainsKey(token) || creators.Contains(token)) continue;
                foreach (var instruction in il)
                    if (instruction.Callee is { } callee && callee.Module == module
                        && users.TryGetValue(callee.MetadataToken, out var why))
                    {
                        users[token] = $"calls {Describe(callee)}, which {Shorten(why)}";
                        changed = true;
                        break;
                    }
            }
        }

        // Module and optimizer types whose forward/step (as the type runs it: the most derived override) is a user.
        var types = new Dictionary<int, string>();
        var moduleBase = typeof(torch.nn.Module);
        var optimizerBase = typeof(torch.optim.Optimizer);
        foreach (var type in AllTypes(torchSharp))
        {
            if (type.IsInterface || !(type.IsSubclassOf(moduleBase) || type.IsSubclassOf(optimizerBase))) continue;
            MethodInfo[] candidates;
            try { candidates = type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance); }
            catch (Exception e) when (e is TypeLoadException or FileNotFoundException) { continue; }
            var bad = candidates.FirstOrDefault(m => m.Name is "forward" or "step" && m.Module == module
                                                     && users.ContainsKey(m.MetadataToken));
            if (bad is not null) types[type.MetadataToken] = $"its {Describe(bad)} {Shorten(users[bad.MetadataToken])}";
        }
        Users = users;
        Creators = creators;
        TypesWithTemporaries = types;
    }

    static bool MakesScalar(Instruction i, Module module, HashSet<int> creators)
    {
        if (i.Callee is not { } callee) return false;
        if (i.OpCode == OpCodes.Newobj && callee.DeclaringType == typeof(Scalar)) return true;
        return callee.Module == module && i.OpCode != OpCodes.Ldftn && i.OpCode != OpCodes.Ldvirtftn && creators.Contains(callee.MetadataToken);
    }

    static bool IsDisposeOrKeepAlive(MethodBase m) =>
        (m.DeclaringType == typeof(Scalar) && m.Name == nameof(IDisposable.Dispose))
        || (m.DeclaringType == typeof(IDisposable) && m.Name == nameof(IDisposable.Dispose))
        || (m.DeclaringType == typeof(GC) && m.Name == nameof(GC.KeepAlive));

    static bool IsLdloc(OpCode op) =>
        op == OpCodes.Ldloc || op == OpCodes.Ldloc_S || op == OpCodes.Ldloc_0 || op == OpCodes.Ldloc_1
        || op == OpCodes.Ldloc_2 || op == OpCodes.Ldloc_3;

    static bool IsStloc(OpCode op) =>
        op == OpCodes.Stloc || op == OpCodes.Stloc_S || op == OpCodes.Stloc_0 || op == OpCodes.Stloc_1
        || op == OpCodes.Stloc_2 || op == OpCodes.Stloc_3;

    static string Shorten(string why) => why.Length > 200 ? why[..200] + "…" : why;

    /// <summary><c>Tensor.add(Tensor)</c>: the declaring type's short name, the method and its parameter types.</summary>
    public static string Describe(MethodBase m)
    {
        string name = m.IsConstructor ? "new " + TypeName(m.DeclaringType!) : $"{TypeName(m.DeclaringType!)}.{m.Name}";
        return $"{name}({string.Join(", ", m.GetParameters().Select(p => TypeName(p.ParameterType)))})";
    }

    static string TypeName(Type t)
    {
        if (Nullable.GetUnderlyingType(t) is { } u) return TypeName(u) + "?";
        if (t.IsArray) return TypeName(t.GetElementType()!) + "[]";
        if (t.IsByRef) return TypeName(t.GetElementType()!);
        string name = t.Name;
        int tick = name.IndexOf('`');
        if (tick >= 0) name = name[..tick];
        return t.IsGenericType ? $"{name}<{string.Join(", ", t.GetGenericArguments().Select(TypeName))}>" : name;
    }

    static IEnumerable<Type> AllTypes(Assembly assembly)
    {
        try { return assembly.GetTypes(); }
        catch (ReflectionTypeLoadException e) { return e.Types.OfType<Type>(); }
    }

    const BindingFlags Declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    static IEnumerable<MethodBase> DeclaredMethods(Type t)
    {
        MethodBase[] ms, cs;
        try { ms = t.GetMethods(Declared); cs = t.GetConstructors(Declared); }
        catch (TypeLoadException) { return []; }
        catch (FileNotFoundException) { return []; }   // a dependency TorchSharp names but SharpClip does not ship
        return ms.Concat(cs);
    }

    /// <summary>One IL instruction: its opcode and, for call/callvirt/newobj/ldftn, the method it names (null when it names
    /// none or cannot be resolved).</summary>
    readonly record struct Instruction(OpCode OpCode, MethodBase? Callee, int Local);

    static MethodBase? Resolve(MethodBase owner, int token)
    {
        try
        {
            var typeArgs = owner.DeclaringType is { IsGenericType: true } d ? d.GetGenericArguments() : null;
            var methodArgs = owner is MethodInfo { IsGenericMethod: true } g ? g.GetGenericArguments() : null;
            return owner.Module.ResolveMethod(token, typeArgs, methodArgs);
        }
        catch (Exception e) when (e is ArgumentException or TypeLoadException or FileNotFoundException or BadImageFormatException or MissingMethodException)
        {
            return null;
        }
    }

    static readonly OpCode[] OneByte = new OpCode[256], TwoByte = new OpCode[256];

    static TorchSharpScalarTemporaries()
    {
        foreach (var field in typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            var op = (OpCode)field.GetValue(null)!;
            ushort value = unchecked((ushort)op.Value);
            if (op.Size == 1) OneByte[value] = op;
            else TwoByte[value & 0xff] = op;
        }
    }

    static int ImplicitLocal(OpCode op) =>
        op == OpCodes.Ldloc_0 || op == OpCodes.Stloc_0 ? 0 : op == OpCodes.Ldloc_1 || op == OpCodes.Stloc_1 ? 1
        : op == OpCodes.Ldloc_2 || op == OpCodes.Stloc_2 ? 2 : op == OpCodes.Ldloc_3 || op == OpCodes.Stloc_3 ? 3 : -1;

    /// <summary>The method's IL as (opcode, metadata token operand) pairs; null when it has no body (extern, abstract).</summary>
    static List<Instruction>? Instructions(MethodBase method)
    {
        byte[]? il;
        try { il = method.GetMethodBody()?.GetILAsByteArray(); }
        catch (Exception e) when (e is TypeLoadException or FileNotFoundException or BadImageFormatException) { return null; }
        if (il is null) return null;
        var list = new List<Instruction>();
        for (int i = 0; i < il.Length;)
        {
            OpCode op = il[i] == 0xFE ? TwoByte[il[i + 1]] : OneByte[il[i]];
            i += op.Size;
            MethodBase? callee = null;
            int local = ImplicitLocal(op);
            switch (op.OperandType)
            {
                case OperandType.InlineNone: break;
                case OperandType.ShortInlineVar: local = il[i]; i += 1; break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI: i += 1; break;
                case OperandType.InlineVar: local = BitConverter.ToUInt16(il, i); i += 2; break;
                case OperandType.InlineI8 or OperandType.InlineR: i += 8; break;
                case OperandType.InlineSwitch: i += 4 + 4 * BitConverter.ToInt32(il, i); break;
                case OperandType.InlineMethod: callee = Resolve(method, BitConverter.ToInt32(il, i)); i += 4; break;
                default: i += 4; break;
            }
            list.Add(new Instruction(op, callee, local));
        }
        return list;
    }
}
