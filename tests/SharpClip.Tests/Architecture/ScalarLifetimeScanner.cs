using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;
using TorchSharp;

namespace SharpClip.Tests.Architecture;

/// <summary>A place in the sources where libtorch may read a native Scalar nobody holds.</summary>
/// <param name="File">Path relative to the scanned folder, '/'-separated.</param>
/// <param name="Line">1-based.</param>
/// <param name="Code">The source line, trimmed (allow-list entries match on it, so they survive edits above them).</param>
/// <param name="What">What makes the temporary, for the failure message.</param>
internal sealed record ScalarSite(string File, int Line, string Code, string What)
{
    public override string ToString() => $"{File}:{Line}: {What}\n      {Code}";
}

/// <summary>
/// Compiles C# sources with Roslyn against the TorchSharp assembly this process runs and finds every place where a
/// native <see cref="Scalar"/> can be finalised while libtorch reads it (shared/notes/torchsharp.md §11):
/// (a) a Scalar made from a number — an implicit or explicit conversion, or a TorchSharp method that returns a new
/// one (<c>ToScalar</c>) — that is not held: held means stored in a field (a process-lifetime
/// <c>static readonly</c>, or a module's field) or in a <c>using</c> local, which lives until the end of its scope; a
/// plain local does not, the JIT may drop it after its last use, i.e. before the native call reads it;
/// (b) a call of a TorchSharp member that makes a temporary Scalar inside (<see cref="TorchSharpScalarTemporaries"/>:
/// one-argument <c>add</c>, the <c>+</c>/<c>-</c> operators, <c>addcdiv</c> without a value, …), and the creation of
/// a TorchSharp module whose <c>forward</c> does.
/// The semantic model decides, so an alias, a <c>using static</c>, an extension call or an operator cannot hide a site
/// from it the way they hide one from a text search.
/// </summary>
internal static class ScalarLifetimeScanner
{
    static readonly string[] ImplicitUsings =
        ["System", "System.Collections.Generic", "System.IO", "System.Linq", "System.Net.Http", "System.Threading", "System.Threading.Tasks"];

    /// <summary>
    /// The assemblies this test process was started with (the runtime's and every package of the solution), except
    /// this solution's own: the compiled sources must not see a second copy of their types.
    /// </summary>
    public static IReadOnlyList<MetadataReference> References(params string[] alsoReference)
    {
        var tpa = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        var paths = tpa.Where(p => !Path.GetFileName(p).StartsWith("SharpClip", StringComparison.Ordinal))
            .Where(p => !Path.GetFileName(p).Equals("TorchSharp.dll", StringComparison.OrdinalIgnoreCase))
            .Append(typeof(Scalar).Assembly.Location)   // the very file whose IL TorchSharpScalarTemporaries read
            .Concat(alsoReference.Select(name => tpa.Single(p => Path.GetFileNameWithoutExtension(p) == name)))
            .Distinct(StringComparer.Ordinal);
        return paths.Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToList();
    }

    /// <summary>Compiles every .cs file under <paramref name="root"/> (bin/obj aside) and scans it.</summary>
    public static IReadOnlyList<ScalarSite> ScanFolder(string root, string assemblyName, IReadOnlyList<MetadataReference> references)
    {
        var files = Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(f => Path.GetRelativePath(root, f).Split(Path.DirectorySeparatorChar)[0] is not ("bin" or "obj"))
            .Order(StringComparer.Ordinal)
            .Select(f => (Path.GetRelativePath(root, f).Replace(Path.DirectorySeparatorChar, '/'), File.ReadAllText(f)));
        return Scan(files, assemblyName, references);
    }

    /// <summary>Compiles the given sources as one library and returns every site, in file and line order.</summary>
    /// <exception cref="InvalidOperationException">the sources do not compile (a site in code that does not bind would go unseen).</exception>
    /// <param name="assemblyName">The project's own name, so InternalsVisibleTo of its references still applies.</param>
    public static IReadOnlyList<ScalarSite> Scan(IEnumerable<(string Path, string Text)> sources, string assemblyName, IReadOnlyList<MetadataReference> references)
    {
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        var usings = CSharpSyntaxTree.ParseText(
            string.Concat(ImplicitUsings.Select(u => $"global using global::{u};\n")), parse, path: "<implicit usings>");
        var trees = sources.Select(s => CSharpSyntaxTree.ParseText(s.Text, parse, path: s.Path)).Prepend(usings).ToList();
        var compilation = CSharpCompilation.Create(assemblyName, trees, references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true,
                nullableContextOptions: NullableContextOptions.Enable));
        // [GeneratedRegex] partial members get their bodies from the regex source generator, which is not run here
        // (CS8795); against the runtime's implementation assemblies a struct's private fields are visible, so definite
        // assignment of a struct local can differ from the real build (CS0165, seen in the demos' SvgRasterizer).
        var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error && d.Id is not ("CS8795" or "CS0165")).ToList();
        if (errors.Count > 0)
            throw new InvalidOperationException("the sources do not compile for the scan:\n" + string.Join("\n", errors.Take(20)));

        var scalar = compilation.GetTypeByMetadataName("TorchSharp.Scalar")
                     ?? throw new InvalidOperationException("TorchSharp.Scalar is not among the references");
        var finder = new SiteFinder(scalar, TorchSharpScalarTemporaries.Instance);
        var sites = new List<ScalarSite>();
        foreach (var tree in trees.Skip(1))
        {
            var model = compilation.GetSemanticModel(tree);
            foreach (var node in tree.GetRoot().DescendantNodes())
            {
                if (node is not (BaseMethodDeclarationSyntax or AccessorDeclarationSyntax or ArrowExpressionClauseSyntax
                    or EqualsValueClauseSyntax or PrimaryConstructorBaseTypeSyntax or ConstructorInitializerSyntax)) continue;
                if (model.GetOperation(node) is not { Parent: null } root) continue;
                foreach (var op in Descendants(root))
                    if (finder.Why(op) is { } why)
                    {
                        var line = op.Syntax.GetLocation().GetLineSpan().StartLinePosition.Line;
                        var code = tree.GetText().Lines[line].ToString().Trim();
                        sites.Add(new ScalarSite(tree.FilePath, line + 1, code, why));
                    }
            }
        }
        return sites.Distinct().OrderBy(s => s.File, StringComparer.Ordinal).ThenBy(s => s.Line).ToList();
    }

    static IEnumerable<IOperation> Descendants(IOperation root)
    {
        var stack = new Stack<IOperation>();
        stack.Push(root);
        while (stack.Count > 0)
        {
            var op = stack.Pop();
            yield return op;
            foreach (var child in op.ChildOperations) stack.Push(child);
        }
    }

    sealed class SiteFinder(INamedTypeSymbol scalar, TorchSharpScalarTemporaries torchSharp)
    {
        public string? Why(IOperation op)
        {
            switch (op)
            {
                case IConversionOperation { OperatorMethod: { } m } c
                    when SymbolEqualityComparer.Default.Equals(c.Type, scalar) && IsTorchSharp(m) && !IsScalar(c.Operand.Type):
                    return Held(c) ? null : $"{Show(c.Operand)} ({c.Operand.Type?.ToDisplayString()}) becomes a Scalar that nobody holds{Into(c)}";
                case IInvocationOperation i when IsTorchSharp(i.TargetMethod):
                    if (Creator(i.TargetMethod) && !Held(i)) return $"{Name(i.TargetMethod)} returns a new Scalar that nobody holds{Into(i)}";
                    return User(i.TargetMethod) ?? Module(i.Type, i.TargetMethod);
                case IObjectCreationOperation { Constructor: { } ctor } o when IsTorchSharp(ctor):
                    return User(ctor) ?? Module(o.Type, ctor);
                case IBinaryOperation { OperatorMethod: { } m } when IsTorchSharp(m): return User(m);
                case IUnaryOperation { OperatorMethod: { } m } when IsTorchSharp(m): return User(m);
                case ICompoundAssignmentOperation { OperatorMethod: { } m } when IsTorchSharp(m): return User(m);
                case IIncrementOrDecrementOperation { OperatorMethod: { } m } when IsTorchSharp(m): return User(m);
                case IConversionOperation { OperatorMethod: { } m } when IsTorchSharp(m): return User(m);
                case IMethodReferenceOperation r when IsTorchSharp(r.Method): return User(r.Method);
                case IPropertyReferenceOperation p when IsTorchSharp(p.Property):
                    return (p.Property.GetMethod is { } g ? User(g) : null) ?? (p.Property.SetMethod is { } s ? User(s) : null);
                default: return null;
            }
        }

        bool IsScalar(ITypeSymbol? t) =>
            SymbolEqualityComparer.Default.Equals(t, scalar)
            || (t is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } n && IsScalar(n.TypeArguments[0]));

        static bool IsTorchSharp(ISymbol s) => s.ContainingAssembly?.Name == "TorchSharp";

        static int Token(IMethodSymbol m) => (m.ReducedFrom ?? m).OriginalDefinition.MetadataToken;

        bool Creator(IMethodSymbol m) => torchSharp.Creators.Contains(Token(m));

        string? User(IMethodSymbol m) =>
            torchSharp.Users.TryGetValue(Token(m), out var why) ? $"{Name(m)} {why}" : null;

        string? Module(ITypeSymbol? type, IMethodSymbol madeBy) =>
            type is INamedTypeSymbol n && IsTorchSharp(n) && torchSharp.TypesWithTemporaries.TryGetValue(n.OriginalDefinition.MetadataToken, out var why)
                ? $"{Name(madeBy)} makes a {n.Name}: {why}"
                : null;

        static string Name(IMethodSymbol m)
        {
            var d = m.ReducedFrom ?? m;
            return $"{d.ContainingType.Name}.{d.Name}({string.Join(", ", d.Parameters.Select(p => p.Type.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat)))})";
        }

        static string Show(IOperation op)
        {
            var text = op.Syntax.ToString();
            return text.Length > 60 ? text[..60] + "…" : text;
        }

        /// <summary>" for Tensor.mul(Scalar)": the call that receives the temporary, when it is an argument.</summary>
        static string Into(IOperation made)
        {
            var op = made.Parent;
            while (op is IConversionOperation or IParenthesizedOperation) op = op.Parent;
            return op switch
            {
                IArgumentOperation { Parent: IInvocationOperation i } => $" while {Name(i.TargetMethod)} reads it",
                IArgumentOperation { Parent: IObjectCreationOperation { Constructor: { } c } } => $" while {Name(c)} reads it",
                IBinaryOperation { OperatorMethod: { } m } => $" while {Name(m)} reads it",
                _ => "",
            };
        }

        /// <summary>
        /// Whether a new Scalar is kept until libtorch is done with it: stored in a field (a static or instance field,
        /// or an auto-property's initializer), or in a local declared with <c>using</c>. A conditional, a null-coalescing or an
        /// array/collection around it passes the question on to the place that takes the whole.
        /// </summary>
        static bool Held(IOperation made)
        {
            var op = made.Parent;
            while (op is IConversionOperation or IParenthesizedOperation or IConditionalOperation or ICoalesceOperation
                   or IArrayInitializerOperation or IArrayCreationOperation or ICollectionExpressionOperation)
                op = op.Parent;
            switch (op)
            {
                case IFieldInitializerOperation or IPropertyInitializerOperation:
                    return true;
                case ISimpleAssignmentOperation { Target: IFieldReferenceOperation }:
                    return true;
                case IVariableInitializerOperation { Parent: IVariableDeclaratorOperation { Parent: IVariableDeclarationOperation { Parent: IVariableDeclarationGroupOperation g } } }:
                    return g.Parent is IUsingDeclarationOperation or IUsingOperation;
                default:
                    return false;
            }
        }
    }
}
