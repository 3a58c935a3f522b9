using System.Reflection;

namespace SharpClip.Web;

/// <summary>The page's files, embedded in this assembly (no CDN, no Node build, nothing to deploy beside the binary).</summary>
static class StaticAssets
{
    public static readonly IReadOnlyDictionary<string, (byte[] Bytes, string ContentType)> Files = Load();

    static Dictionary<string, (byte[], string)> Load()
    {
        var asm = typeof(StaticAssets).Assembly;
        var files = new Dictionary<string, (byte[], string)>(StringComparer.Ordinal);
        foreach (var name in asm.GetManifestResourceNames().Where(n => n.StartsWith("wwwroot/", StringComparison.Ordinal)))
        {
            using var s = asm.GetManifestResourceStream(name)!;
            using var ms = new MemoryStream();
            s.CopyTo(ms);
            string file = name["wwwroot/".Length..];
            files["/" + file] = (ms.ToArray(), Path.GetExtension(file) switch
            {
                ".html" => "text/html; charset=utf-8",
                ".js" => "text/javascript; charset=utf-8",
                ".css" => "text/css; charset=utf-8",
                ".svg" => "image/svg+xml",
                _ => "application/octet-stream",
            });
        }
        return files;
    }
}
