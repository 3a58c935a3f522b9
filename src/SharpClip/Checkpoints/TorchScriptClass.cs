using System.IO.Compression;
using System.Text.RegularExpressions;

namespace SharpClip.Checkpoints;

/// <summary>
/// Which attributes of a TorchScript module class are parameters and buffers — what <c>state_dict()</c> returns.
/// A scripted module keeps other tensors as plain attributes (OpenAI's <c>attn_mask</c>, for one), so the attribute
/// tree alone over-reports. The archive's <c>code/</c> declares each class as text:
/// <code>class LayerNorm(Module):
///   __parameters__ = ["weight", "bias", ]
///   __buffers__ = []</code>
/// That text is only matched with a regular expression here, never run.
/// </summary>
internal sealed partial class TorchScriptClass(IReadOnlySet<string> parameters, IReadOnlySet<string> buffers)
{
    public IReadOnlySet<string> Parameters { get; } = parameters;
    public IReadOnlySet<string> Buffers { get; } = buffers;

    public bool IsState(string attribute) => Parameters.Contains(attribute) || Buffers.Contains(attribute);

    [GeneratedRegex(@"^class\s+([A-Za-z_][A-Za-z0-9_]*)\s*\(\s*Module\s*\)\s*:", RegexOptions.Multiline)]
    private static partial Regex ClassLine();

    [GeneratedRegex(@"^\s+(__parameters__|__buffers__)\s*=\s*\[([^\]]*)\]", RegexOptions.Multiline)]
    private static partial Regex ListLine();

    [GeneratedRegex("\"((?:[^\"\\\\]|\\\\.)*)\"")]
    private static partial Regex Quoted();

    /// <summary>Reads every <c>code/**/*.py</c> of the archive; the key is the class's qualified name, e.g.
    /// <c>__torch__.torch.nn.modules.conv.___torch_mangle_3.Conv2d</c> from <c>code/__torch__/torch/nn/modules/conv/___torch_mangle_3.py</c>.</summary>
    public static Dictionary<string, TorchScriptClass> ParseArchiveCode(ZipArchive zip, string root)
    {
        var classes = new Dictionary<string, TorchScriptClass>(StringComparer.Ordinal);
        string prefix = root + "code/";
        foreach (var e in zip.Entries)
        {
            if (!e.FullName.StartsWith(prefix, StringComparison.Ordinal) || !e.FullName.EndsWith(".py", StringComparison.Ordinal)) continue;
            if (e.Length > 64L << 20) continue; // generated code is small; skip anything odd rather than load it
            string module = e.FullName[prefix.Length..^3].Replace('/', '.');
            foreach (var (name, cls) in Parse(TorchArchive.ReadText(e)))
                classes[$"{module}.{name}"] = cls;
        }
        return classes;
    }

    internal static IEnumerable<(string Name, TorchScriptClass Class)> Parse(string code)
    {
        var starts = ClassLine().Matches(code).ToList();
        for (int i = 0; i < starts.Count; i++)
        {
            int end = i + 1 < starts.Count ? starts[i + 1].Index : code.Length;
            var body = code[starts[i].Index..end];
            HashSet<string> parameters = [], buffers = [];
            foreach (Match m in ListLine().Matches(body))
            {
                var target = m.Groups[1].Value == "__parameters__" ? parameters : buffers;
                foreach (Match q in Quoted().Matches(m.Groups[2].Value)) target.Add(q.Groups[1].Value);
            }
            yield return (starts[i].Groups[1].Value, new TorchScriptClass(parameters, buffers));
        }
    }
}
