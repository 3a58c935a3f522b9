using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SharpClip.Training;

/// <summary>
/// A run's <c>metrics.jsonl</c>: one JSON object per line (a step's loss/lr/..., or an evaluation), appended and
/// flushed as it happens, so a crashed run keeps everything up to its last step and any tool can tail or plot it.
/// </summary>
public sealed class MetricsLog : IDisposable
{
    public const string FileName = "metrics.jsonl";
    readonly StreamWriter _writer;

    MetricsLog(StreamWriter writer, string path)
    {
        _writer = writer;
        Path = path;
    }

    public string Path { get; }

    /// <summary>
    /// Opens the log of a run folder. A fresh run starts an empty file; a resumed run keeps the lines up to
    /// <paramref name="resumedStep"/> and drops later ones (steps the interrupted run made after its last checkpoint,
    /// which the resumed run is about to redo).
    /// </summary>
    public static MetricsLog Open(string runDirectory, long? resumedStep)
    {
        var path = System.IO.Path.Combine(runDirectory, FileName);
        var kept = new List<string>();
        if (resumedStep is { } step && File.Exists(path))
            foreach (var line in File.ReadAllLines(path))
            {
                if (line.Length == 0) continue;
                try
                {
                    if ((long?)JsonNode.Parse(line)?["step"] is { } s && s <= step) kept.Add(line);
                }
                catch (JsonException) { } // a line cut short by a crash
            }
        File.WriteAllLines(path, kept, new UTF8Encoding(false));
        var writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read), new UTF8Encoding(false)) { AutoFlush = true };
        return new MetricsLog(writer, path);
    }

    /// <summary>Appends one record (a line of compact JSON).</summary>
    public void Append(JsonObject record) => _writer.WriteLine(record.ToJsonString());

    /// <summary>Reads every record of a log (for tests, plots and reports).</summary>
    public static IReadOnlyList<JsonObject> Read(string path) =>
        [.. File.ReadLines(path).Where(l => l.Length > 0).Select(l => JsonNode.Parse(l)!.AsObject())];

    public void Dispose() => _writer.Dispose();
}
