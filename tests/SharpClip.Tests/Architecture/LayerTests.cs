using System.Reflection;
using System.Text.RegularExpressions;
using SharpClip.Tests.Infrastructure;

namespace SharpClip.Tests.Architecture;

/// <summary>
/// Keeps docs/architecture.md true: every folder of the core library uses only the folders it is allowed to, there are
/// no cycles, and the core never references the demos, the CLI or the web app. A source scan (usings and
/// namespace-qualified names anywhere, sibling-relative names outside comments and strings) rather than reflection, because a method body's use of another folder
/// is invisible in signatures.
/// </summary>
public sealed partial class LayerTests
{
    /// <summary>
    /// What each folder of src/SharpClip may use, bottom to top, as drawn in docs/architecture.md. A new folder must be
    /// placed here before it builds green.
    /// </summary>
    internal static readonly IReadOnlyDictionary<string, string[]> Allowed = new Dictionary<string, string[]>
    {
        ["Files"] = [],
        ["Runtime"] = [],
        ["Text"] = [],
        ["Vision"] = ["Files"],
        ["Modeling"] = ["Files"],
        ["Plotting"] = ["Files", "Vision"],
        ["Checkpoints"] = ["Files", "Text", "Vision", "Modeling"],
        ["ZeroShot"] = ["Files", "Text", "Modeling"],
        ["Data"] = ["Files", "Text", "Vision"],
        ["Onnx"] = ["Files", "Runtime", "Text", "Vision", "Modeling"],
        ["Managed"] = ["Files", "Runtime", "Text", "Vision", "Modeling"],
        ["Pipelines"] = ["Files", "Runtime", "Text", "Vision", "Modeling", "Checkpoints", "ZeroShot", "Onnx", "Managed"],
        ["Training"] = ["Files", "Runtime", "Text", "Vision", "Modeling", "Checkpoints", "ZeroShot", "Data", "Onnx", "Managed", "Pipelines"],
        ["Evaluation"] = ["Files", "Runtime", "Text", "Vision", "Modeling", "Plotting", "Checkpoints", "ZeroShot", "Data", "Onnx", "Managed", "Pipelines", "Training"],
        ["Scoring"] = ["Files", "Runtime", "Text", "Vision", "Modeling", "Checkpoints", "ZeroShot", "Data", "Onnx", "Managed", "Pipelines"],
        ["Search"] = ["Files", "Runtime", "Text", "Vision", "Modeling", "Checkpoints", "ZeroShot", "Onnx", "Managed", "Pipelines"],
        ["Export"] = ["Files", "Runtime", "Text", "Vision", "Modeling", "Checkpoints", "Onnx", "Managed"],
        ["Generation"] = ["Files", "Runtime", "Text", "Vision", "Modeling", "Plotting", "Checkpoints", "ZeroShot", "Data", "Onnx", "Managed", "Pipelines", "Training", "Scoring"],
        // The facade (namespace SharpClip: Clip, AddSharpClip) sits on the use cases it fronts.
        ["Api"] = ["Files", "Runtime", "Text", "Vision", "Modeling", "Checkpoints", "ZeroShot", "Data", "Onnx", "Managed", "Pipelines", "Scoring", "Search"],
    };

    static readonly string CoreRoot = Path.Combine(Fixtures.RepoRoot, "src", "SharpClip");

    [GeneratedRegex(@"\bSharpClip\.([A-Z][A-Za-z0-9]*)")]
    private static partial Regex QualifiedName();

    [GeneratedRegex(@"(?<![\w.])([A-Z][A-Za-z0-9]*)\.[A-Z]")]
    private static partial Regex RelativeName();

    [GeneratedRegex(@"^\s*namespace\s+SharpClip\s*[;{]", RegexOptions.Multiline)]
    private static partial Regex RootNamespace();

    [GeneratedRegex(@"\b(?:class|record|struct|interface|enum|delegate\s+\S+)\s+([A-Z][A-Za-z0-9]*)")]
    private static partial Regex TypeDeclaration();

    [GeneratedRegex(@"//.*?$|/\*.*?\*/", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex Comment();

    [GeneratedRegex(@"""(?:[^""\\\n]|\\.)*""")]
    private static partial Regex StringLiteral();

    /// <summary>Folder → (folder it uses → first file that does), from the sources as they are.</summary>
    internal static Dictionary<string, Dictionary<string, string>> ScanDependencies(string root)
    {
        var uses = new Dictionary<string, Dictionary<string, string>>();
        // Types declared in the root namespace SharpClip (the facade) are visible unqualified from every SharpClip.X
        // namespace, so a use of one names no folder: find them by name instead.
        var rootTypes = new Dictionary<string, string>(); // type name → folder declaring it
        foreach (var file in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var parts = Path.GetRelativePath(root, file).Split(Path.DirectorySeparatorChar);
            if (parts.Length < 2 || parts[0] is "bin" or "obj") continue;
            var code = StringLiteral().Replace(Comment().Replace(File.ReadAllText(file), ""), "\"\"");
            if (!RootNamespace().IsMatch(code)) continue;
            foreach (Match match in TypeDeclaration().Matches(code)) rootTypes.TryAdd(match.Groups[1].Value, parts[0]);
        }
        // A use is a type in type position (after new/typeof/nameof/is/as/'<', or before a declared name, '.Member' or
        // '>'), so an enum member or method that happens to share the name (ObjectiveKind.Clip) is not one.
        var names = string.Join("|", rootTypes.Keys.Select(Regex.Escape));
        var rootTypeUse = rootTypes.Count == 0 ? null : new Regex(
            $@"(?<![\w.])(?:(?<=(?:\bnew|\btypeof\(|\bnameof\(|<|\bis|\bas)\s*)(?<t>{names})\b|(?<t>{names})(?=\??(?:\[\])?\s+@?[A-Za-z_]\w*\s*[;=,){{]|\s*\.\s*[A-Z]|\s*>))");
        foreach (var file in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(root, file);
            var parts = relative.Split(Path.DirectorySeparatorChar);
            if (parts.Length < 2 || parts[0] is "bin" or "obj") continue; // files at the root (assembly attributes) belong to no layer
            string folder = parts[0];
            var source = File.ReadAllText(file);
            // Fully qualified names count wherever they stand (a doc comment or message naming SharpClip.X points the
            // reader up the layers too, and ../shared/tools/layer-check counts them); sibling-relative names only in code.
            var code = StringLiteral().Replace(Comment().Replace(source, ""), "\"\"");
            var mine = uses.TryGetValue(folder, out var m) ? m : uses[folder] = [];
            foreach (Match match in QualifiedName().Matches(source))
            {
                var used = match.Groups[1].Value;
                if (used != folder) mine.TryAdd(used, relative);
            }
            if (rootTypeUse is not null)
                foreach (Match match in rootTypeUse.Matches(code))
                    if (rootTypes[match.Groups["t"].Value] is var owner && owner != folder) mine.TryAdd(owner, relative);
            // Inside namespace SharpClip.X a sibling is reachable as "Runtime.Inference" without the prefix.
            foreach (Match match in RelativeName().Matches(code))
            {
                var used = match.Groups[1].Value;
                if (used != folder && Allowed.ContainsKey(used)) mine.TryAdd(used, relative);
            }
        }
        return uses;
    }

    [Fact]
    public void EveryLayerUsesOnlyTheLayersBelowIt()
    {
        var found = ScanDependencies(CoreRoot);
        var wrong = new List<string>();
        foreach (var (folder, used) in found)
        {
            if (!Allowed.TryGetValue(folder, out var allowed))
            {
                wrong.Add($"src/SharpClip/{folder}/ is not in the layer table (docs/architecture.md, LayerTests.Allowed): place it");
                continue;
            }
            foreach (var (dependency, file) in used)
                if (Allowed.ContainsKey(dependency) && !allowed.Contains(dependency))
                    wrong.Add($"{file} uses SharpClip.{dependency}, which {folder} may not (it may use: {string.Join(", ", allowed)})");
        }
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    [Fact]
    public void TheLayerTableHasNoCycles()
    {
        var state = new Dictionary<string, int>(); // 1 visiting, 2 done
        string? Visit(string node, string path)
        {
            if (state.GetValueOrDefault(node) == 2) return null;
            if (state.GetValueOrDefault(node) == 1) return path + " → " + node;
            state[node] = 1;
            foreach (var next in Allowed.GetValueOrDefault(node, []))
                if (Visit(next, path + " → " + node) is { } cycle) return cycle;
            state[node] = 2;
            return null;
        }
        foreach (var node in Allowed.Keys)
            Assert.Null(Visit(node, "layers"));
        foreach (var (folder, allowed) in Allowed)
            foreach (var dependency in allowed)
                Assert.True(Allowed.ContainsKey(dependency), $"{folder} lists {dependency}, which is not a layer");
    }

    [Fact]
    public void TheLayerScanSeesAWrongWayUsing()
    {
        // The scan itself must catch what it is for: a lower folder naming a higher one in a using, a qualified name
        // anywhere (code, doc comment, message) or a sibling-relative name in code — but not a relative-looking word in
        // a comment or a string.
        using var dir = new TempDir();
        Directory.CreateDirectory(Path.Combine(dir.Path, "Modeling"));
        Directory.CreateDirectory(Path.Combine(dir.Path, "Text"));
        File.WriteAllText(Path.Combine(dir.Path, "Modeling", "Bad.cs"), "using SharpClip.Training;\nnamespace SharpClip.Modeling;\nclass B { object o = Runtime.Inference.Run; }\n");
        File.WriteAllText(Path.Combine(dir.Path, "Text", "Fine.cs"),
            "// see Pipelines.ClipPipeline\nnamespace SharpClip.Text;\nclass A { string s = \"Search.Query\"; }\n");
        File.WriteAllText(Path.Combine(dir.Path, "Text", "Doc.cs"), "/// <summary>see <c>SharpClip.Search.SearchEngine</c></summary>\nnamespace SharpClip.Text;\n");
        var found = ScanDependencies(dir.Path);
        Assert.Equal(["Runtime", "Training"], found["Modeling"].Keys.Order());
        Assert.Equal(["Search"], found["Text"].Keys);
    }

    [Fact]
    public void TheLayerScanSeesARootNamespaceTypeUsedFromBelow()
    {
        // The facade lives in namespace SharpClip, which every SharpClip.X sees without a using: a lower folder naming
        // its types must still count as using the facade's folder (but a longer name that starts alike must not).
        using var dir = new TempDir();
        Directory.CreateDirectory(Path.Combine(dir.Path, "Api"));
        Directory.CreateDirectory(Path.Combine(dir.Path, "Search"));
        Directory.CreateDirectory(Path.Combine(dir.Path, "Modeling"));
        File.WriteAllText(Path.Combine(dir.Path, "Api", "Clip.cs"), "namespace SharpClip;\npublic sealed class Clip { }\n");
        File.WriteAllText(Path.Combine(dir.Path, "Search", "Bad.cs"), "namespace SharpClip.Search;\nclass B { Clip c = null!; }\n");
        File.WriteAllText(Path.Combine(dir.Path, "Modeling", "Fine.cs"),
            "// Clip\nnamespace SharpClip.Modeling;\nenum Kind { Clip, Other }\nclass ClipModel { string s = \"Clip\"; Kind k = Kind.Clip; void Clip(int x) { } }\n");
        Directory.CreateDirectory(Path.Combine(dir.Path, "Text"));
        File.WriteAllText(Path.Combine(dir.Path, "Text", "AlsoBad.cs"), "namespace SharpClip.Text;\nclass T { object o = Clip.Load(\"m\"); }\n");
        Directory.CreateDirectory(Path.Combine(dir.Path, "Data"));
        File.WriteAllText(Path.Combine(dir.Path, "Data", "Generic.cs"), "namespace SharpClip.Data;\nclass D { System.Func<Clip> f = null!; }\n");
        var found = ScanDependencies(dir.Path);
        Assert.Equal(["Api"], found["Search"].Keys);
        Assert.Equal(["Api"], found["Text"].Keys);
        Assert.Equal(["Api"], found["Data"].Keys);
        Assert.Empty(found["Modeling"]);
    }

    [Fact]
    public void EveryCoreFolderIsPlacedInTheLayerDiagram()
    {
        var doc = File.ReadAllText(Path.Combine(Fixtures.RepoRoot, "docs", "architecture.md"));
        foreach (var folder in Directory.EnumerateDirectories(CoreRoot).Select(Path.GetFileName))
        {
            if (folder is "bin" or "obj" || !Directory.EnumerateFiles(Path.Combine(CoreRoot, folder!), "*.cs", SearchOption.AllDirectories).Any()) continue;
            Assert.True(Allowed.ContainsKey(folder!), $"src/SharpClip/{folder}/ is missing from LayerTests.Allowed");
            Assert.Contains($"{folder}", doc);
        }
    }

    [Fact]
    public void TheCoreReferencesNoAppOrDemoAssembly()
    {
        var core = typeof(SharpClip.Modeling.ClipModel).Assembly;
        var ours = core.GetReferencedAssemblies().Select(a => a.Name!).Where(n => n.StartsWith("SharpClip", StringComparison.Ordinal)).ToList();
        Assert.Empty(ours);
        var project = File.ReadAllText(Path.Combine(CoreRoot, "SharpClip.csproj"));
        Assert.DoesNotContain("ProjectReference", project);
    }

    [Fact]
    public void TheAppsAreNotReferencedByTheDemos()
    {
        var demos = Path.Combine(Fixtures.RepoRoot, "src", "SharpClip.Demos");
        var referenced = Directory.EnumerateFiles(demos, "*.csproj").SelectMany(p => Regex.Matches(File.ReadAllText(p), @"ProjectReference Include=""([^""]+)""").Select(m => m.Groups[1].Value)).ToList();
        Assert.NotEmpty(referenced);
        Assert.All(referenced, r => Assert.Equal("SharpClip.csproj", Path.GetFileName(r)));
    }
}
