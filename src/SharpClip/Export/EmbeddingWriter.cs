using SharpClip.Files;
using System.Text;
using System.Text.Json;
using SharpClip.Checkpoints;

namespace SharpClip.Export;

/// <summary>
/// Writes image and text embeddings for other tools: <c>.safetensors</c> (<c>image_embeddings</c> [N,D],
/// <c>text_embeddings</c> [M,D]), <c>.npy</c> (one float32 [N+M, D] matrix, images first; names in a sidecar
/// <c>.names.txt</c>), or <c>.jsonl</c> (one object per row with its source). Files appear atomically.
/// </summary>
public static class EmbeddingWriter
{
    public sealed record Row(string Kind, string Source, float[] Vector);

    public static void Write(string path, IReadOnlyList<Row> images, IReadOnlyList<Row> texts)
    {
        int dim = images.Concat(texts).Select(r => r.Vector.Length).DefaultIfEmpty(0).First();
        if (images.Concat(texts).Any(r => r.Vector.Length != dim)) throw new ArgumentException("embeddings of different widths");
        switch (Path.GetExtension(path).ToLowerInvariant())
        {
            case ".safetensors":
                SafeTensorsWriter.Write(path, new Dictionary<string, SafeTensorsWriter.Entry>
                {
                    ["image_embeddings"] = SafeTensorsWriter.FromFloats(Flatten(images), images.Count, dim),
                    ["text_embeddings"] = SafeTensorsWriter.FromFloats(Flatten(texts), texts.Count, dim),
                }, new Dictionary<string, string>
                {
                    ["image_sources"] = JsonSerializer.Serialize(images.Select(r => r.Source)),
                    ["texts"] = JsonSerializer.Serialize(texts.Select(r => r.Source)),
                });
                break;
            case ".npy":
                var all = images.Concat(texts).ToList();
                AtomicWrite(path, s => WriteNpy(s, Flatten(all), all.Count, dim));
                AtomicWrite(Path.ChangeExtension(path, ".names.txt"), s =>
                {
                    using var w = new StreamWriter(s, new UTF8Encoding(false));
                    foreach (var r in all) w.WriteLine($"{r.Kind}\t{r.Source.Replace('\n', ' ').Replace('\t', ' ')}");
                });
                break;
            case ".jsonl":
                AtomicWrite(path, s =>
                {
                    using var w = new StreamWriter(s, new UTF8Encoding(false));
                    foreach (var r in images.Concat(texts))
                        w.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                        {
                            ["kind"] = r.Kind, [r.Kind == "image" ? "file" : "text"] = r.Source, ["embedding"] = r.Vector,
                        }));
                });
                break;
            default:
                throw new ArgumentException($"{path}: output must end in .safetensors, .npy or .jsonl");
        }
    }

    static float[] Flatten(IReadOnlyList<Row> rows) => rows.SelectMany(r => r.Vector).ToArray();

    /// <summary>NumPy format 1.0: magic, header dict padded to 64 bytes, then little-endian float32 rows.</summary>
    public static void WriteNpy(Stream s, float[] data, int rows, int cols)
    {
        var header = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {cols}), }}";
        int total = 10 + header.Length + 1;
        header = header.PadRight(header.Length + (64 - total % 64) % 64) + "\n";
        s.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y']);
        s.WriteByte(1); s.WriteByte(0);
        var len = BitConverter.GetBytes((ushort)header.Length);
        s.Write(len);
        s.Write(Encoding.ASCII.GetBytes(header));
        var bytes = new byte[data.Length * 4];
        Buffer.BlockCopy(data, 0, bytes, 0, bytes.Length);
        s.Write(bytes);
    }

    static void AtomicWrite(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var tmp = full + ".tmp";
        using (var fs = File.Create(tmp)) write(fs);
        File.Move(tmp, full, overwrite: true);
    }
}
