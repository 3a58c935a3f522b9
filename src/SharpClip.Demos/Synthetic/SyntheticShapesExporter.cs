using System.Formats.Tar;
using System.Text.Json;
using System.Text;
using SharpClip.Data;
using SharpClip.Vision;

namespace SharpClip.Demos.Synthetic;

/// <summary>Layouts the synthetic set can be written in; each is readable by the matching source.</summary>
public enum SyntheticExportFormat
{
    /// <summary>images/*.png + captions.csv (image,caption + label columns; one row per caption).</summary>
    Csv,
    /// <summary>images/*.png + captions.jsonl ({"image", "captions": [...], labels}).</summary>
    Jsonl,
    /// <summary>images/*.png + a .txt sidecar per image (one caption per line).</summary>
    Folder,
    /// <summary>WebDataset shards shard-000000.tar… with key.png, key.txt and key.json (labels) members.</summary>
    Tar,
}

/// <summary>
/// Writes a synthetic split to disk as an ordinary dataset, so the same data can be used from the CLI, shared, or
/// read back through the file readers (which is also how the readers are tested end to end).
/// </summary>
public static class SyntheticShapesExporter
{
    /// <summary>
    /// Writes the split under <paramref name="directory"/> and returns what to pass to the matching source: the CSV or
    /// JSONL file, the folder, or a shard pattern like <c>dir/shard-{000000..000004}.tar</c>.
    /// </summary>
    public static string Export(SyntheticShapesSplit split, string directory, SyntheticExportFormat format,
                                int samplesPerShard = 1000, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(samplesPerShard, 1);
        Directory.CreateDirectory(directory);
        int size = split.Dataset.Options.ImageSize;
        return format switch
        {
            SyntheticExportFormat.Tar => WriteTar(split, directory, samplesPerShard, size, progress, cancellationToken),
            _ => WriteFiles(split, directory, format, size, progress, cancellationToken),
        };
    }

    private static string WriteFiles(SyntheticShapesSplit split, string dir, SyntheticExportFormat format, int size, IProgress<int>? progress, CancellationToken ct)
    {
        var images = Path.Combine(dir, "images");
        Directory.CreateDirectory(images);
        string index = format switch
        {
            SyntheticExportFormat.Csv => Path.Combine(dir, "captions.csv"),
            SyntheticExportFormat.Jsonl => Path.Combine(dir, "captions.jsonl"),
            _ => images,
        };
        using var writer = format is SyntheticExportFormat.Csv or SyntheticExportFormat.Jsonl ? new StreamWriter(index, false, new UTF8Encoding(false)) : null;
        if (format == SyntheticExportFormat.Csv) writer!.WriteLine("image,caption,shape,colour,size,position,count");
        for (int i = 0; i < split.Count; i++)
        {
            ct.ThrowIfCancellationRequested();
            var scene = split.Scene(i);
            var key = split.KeyOf(i);
            var rel = $"images/{key}.png";
            File.WriteAllBytes(Path.Combine(dir, rel), PngWriter.Encode(new RgbImage(size, size, split.Render(i))));
            var captions = split.Captions(i);
            switch (format)
            {
                case SyntheticExportFormat.Csv:
                    foreach (var c in captions)
                        writer!.WriteLine(string.Join(",", rel, Quote(c), ShapeVocabulary.Noun(scene.Shape), scene.Colour.Name,
                            ShapeVocabulary.SizeWord(scene.Size), Quote(ShapeVocabulary.PositionPhrase(scene.Position)), scene.Count));
                    break;
                case SyntheticExportFormat.Jsonl:
                    writer!.WriteLine(JsonSerializer.Serialize(Record(rel, captions, scene)));
                    break;
                default:
                    File.WriteAllLines(Path.Combine(images, key + ".txt"), captions);
                    break;
            }
            progress?.Report(i + 1);
        }
        return index;
    }

    private static string WriteTar(SyntheticShapesSplit split, string dir, int perShard, int size, IProgress<int>? progress, CancellationToken ct)
    {
        int shards = Math.Max(1, (split.Count + perShard - 1) / perShard);
        for (int s = 0; s < shards; s++)
        {
            var path = Path.Combine(dir, $"shard-{s:D6}.tar");
            var temp = path + ".tmp";
            using (var file = File.Create(temp))
            using (var tar = new TarWriter(file, TarEntryFormat.Pax, leaveOpen: false))
            {
                for (int i = s * perShard; i < Math.Min(split.Count, (s + 1) * perShard); i++)
                {
                    ct.ThrowIfCancellationRequested();
                    var key = split.KeyOf(i);
                    var scene = split.Scene(i);
                    var captions = split.Captions(i);
                    Add(tar, key + ".png", PngWriter.Encode(new RgbImage(size, size, split.Render(i))));
                    Add(tar, key + ".txt", Encoding.UTF8.GetBytes(string.Join("\n", captions)));
                    Add(tar, key + ".json", JsonSerializer.SerializeToUtf8Bytes(Record(null, captions, scene)));
                    progress?.Report(i + 1);
                }
            }
            File.Move(temp, path, overwrite: true);
        }
        return shards == 1 ? Path.Combine(dir, "shard-000000.tar") : Path.Combine(dir, $"shard-{{000000..{shards - 1:D6}}}.tar");
    }

    private static void Add(TarWriter tar, string name, byte[] data) =>
        tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data) });

    private static Dictionary<string, object> Record(string? image, IReadOnlyList<string> captions, ShapeScene scene)
    {
        var d = new Dictionary<string, object>();
        if (image is not null) d["image"] = image;
        d["captions"] = captions;
        d["shape"] = ShapeVocabulary.Noun(scene.Shape);
        d["colour"] = scene.Colour.Name;
        d["size"] = ShapeVocabulary.SizeWord(scene.Size);
        d["position"] = ShapeVocabulary.PositionPhrase(scene.Position);
        d["count"] = scene.Count;
        return d;
    }

    private static string Quote(string field) =>
        field.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + field.Replace("\"", "\"\"") + "\"" : field;
}
