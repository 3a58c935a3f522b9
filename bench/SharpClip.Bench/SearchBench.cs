using System.Diagnostics;
using System.Text.Json;
using SharpClip.Search;
using SharpClip.Search.Toy;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Bench;

/// <summary>
/// <c>dotnet run -c Release --project bench/SharpClip.Bench -- search [--quick]</c>: exact top-k query latency on 100k
/// and 1M random 512-d unit vectors, memory per million, index open (SQLite → memory) time, indexing images/s with the
/// toy encoder, and a memory-bandwidth reference measured in the same run. Writes artifacts/bench/search.json.
/// </summary>
public static class SearchBench
{
    const int Dim = 512, K = 10;

    public static int Run(string[] args)
    {
        bool quick = args.Contains("--quick");
        var report = new Dictionary<string, object>
        {
            ["cpu"] = CpuModel(), ["cpuFlags"] = CpuFlags(), ["torchThreads"] = torch.get_num_threads(), ["loadAverage"] = LoadAverage(), ["dimension"] = Dim, ["k"] = K,
        };
        Console.WriteLine($"CPU: {report["cpu"]} [{report["cpuFlags"]}], torch threads {report["torchThreads"]}, load average {LoadAverage()}");
        using (var warm = torch.ones(64, 64)) warm.mm(warm).sum().item<float>();   // libtorch's own memory must not count as index memory

        foreach (int n in quick ? new[] { 100_000 } : [100_000, 1_000_000])
        {
            long rssBefore = RssBytes();
            using var matrix = RandomMatrix(n, seed: n);
            long rssAfter = RssBytes();
            var queries = RandomRows(40, seed: 7);
            foreach (var q in queries.Take(3)) matrix.TopK(q, K);            // warm-up
            var times = queries.Skip(3).Select(q => Time(() => matrix.TopK(q, K))).Order().ToArray();
            double floor = BandwidthFloorMs(n);
            var r = new
            {
                rows = n, p50Ms = Pct(times, 0.5), p99Ms = Pct(times, 0.99), minMs = times[0],
                bytesPerMillion = matrix.AllocatedBytes * 1_000_000.0 / n, embeddingBytesPerMillion = (double)Dim * 4 * 1_000_000,
                rssDeltaPerMillion = (rssAfter - rssBefore) * 1_000_000.0 / n,
                readAllOnceMs = floor,
            };
            report[$"query{n}"] = r;
            Console.WriteLine($"query {n,9:N0} x {Dim}: p50 {r.p50Ms:F1} ms, p99 {r.p99Ms:F1} ms, min {r.minMs:F1} ms | reading the matrix once (sum) {floor:F1} ms | " +
                $"memory per million rows: {r.embeddingBytesPerMillion / 1e9:F2} GB of float32 embeddings, {r.bytesPerMillion / 1e9:F2} GB allocated at this size (RSS +{r.rssDeltaPerMillion / 1e9:F2} GB)");
        }

        string dir = Directory.CreateTempSubdirectory("sharpclip-bench-").FullName;
        try
        {
            int rows = quick ? 20_000 : 200_000;
            string indexPath = Path.Combine(dir, "open.db");
            double writeS = WriteRandomIndex(indexPath, rows);
            var openTimes = new List<double>();
            for (int i = 0; i < 3; i++)
            {
                var sw = Stopwatch.StartNew();
                using var engine = SearchEngine.Open(indexPath, encoder: null);
                openTimes.Add(sw.Elapsed.TotalMilliseconds);
            }
            double open = openTimes.Min();
            double readOnly;
            {
                using var idx = ImageIndex.Open(indexPath);
                var sw = Stopwatch.StartNew();
                long seen = 0;
                idx.ReadEmbeddings(0, (_, _) => seen++);
                readOnly = sw.Elapsed.TotalMilliseconds;
            }
            Console.WriteLine($"  of which reading rows from SQLite alone: {readOnly:F0} ms");
            report["indexOpen"] = new { rows, bestMs = open, sqliteReadMs = readOnly, msPerMillion = open * 1_000_000 / rows, fileBytes = new FileInfo(indexPath).Length, writeSeconds = writeS };
            Console.WriteLine($"index open (SQLite -> memory), {rows:N0} rows: {open:F0} ms (= {open * 1_000_000 / rows / 1000:F1} s per million); file {new FileInfo(indexPath).Length / 1e6:F0} MB");

            int images = quick ? 300 : 2000;
            string photos = Path.Combine(dir, "photos");
            Directory.CreateDirectory(photos);
            var rng = new Random(3);
            for (int i = 0; i < images; i++)
            {
                var rgb = new byte[64 * 64 * 3];
                rng.NextBytes(rgb);
                File.WriteAllBytes(Path.Combine(photos, $"{i:D5}.bmp"), ToyBmp.Encode(new ToyBmp.Bitmap(64, 64, rgb)));
            }
            using var encoder = new ToyColorEncoder(0);
            using var index = ImageIndex.Open(Path.Combine(dir, "toy.db"), create: true);
            var summary = Indexer.Run(index, encoder, ToyColorEncoder.ModelName, [photos]);
            var again = Indexer.Run(index, encoder, ToyColorEncoder.ModelName, [photos]);
            report["indexingToy"] = new { images, summary.Seconds, summary.ImagesPerSecond, noChangeRescanSeconds = again.Seconds };
            Console.WriteLine($"indexing {images} 64x64 BMPs with the toy encoder: {summary.ImagesPerSecond:F0} images/s (hash + decode + SQLite); " +
                $"re-scan with nothing changed: {again.Seconds * 1000:F0} ms");
        }
        finally { Directory.Delete(dir, true); }

        string outPath = Path.Combine("artifacts", "bench", "search.json");
        Directory.CreateDirectory(Path.GetDirectoryName(outPath)!);
        File.WriteAllText(outPath, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"wrote {outPath}");
        return 0;
    }

    static EmbeddingMatrix RandomMatrix(int n, int seed)
    {
        var m = new EmbeddingMatrix(Dim);
        torch.manual_seed(seed);
        const int chunk = 16384;
        var buffer = new float[chunk * Dim];
        for (int start = 0; start < n; start += chunk)
        {
            int c = Math.Min(chunk, n - start);
            using (var scope = torch.NewDisposeScope())
            {
                var x = torch.randn(c, Dim);
                (x / x.norm(1, keepdim: true)).contiguous().data<float>().CopyTo(buffer, 0, 0);
            }
            for (int i = 0; i < c; i++) m.Upsert(start + i, buffer.AsSpan(i * Dim, Dim));
        }
        return m;
    }

    static float[][] RandomRows(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => Vectors.Normalize(Enumerable.Range(0, Dim).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray())).ToArray();
    }

    /// <summary>
    /// Median time to read n x 512 float32 values once (<c>sum</c> of one contiguous tensor of the same size): the
    /// memory-bandwidth floor of any exact float32 scan on this machine, measured in the same run as the queries.
    /// </summary>
    static double BandwidthFloorMs(int n)
    {
        using var x = torch.rand(n, Dim);
        var times = new List<double>();
        for (int i = 0; i < 9; i++)
            times.Add(Time(() =>
            {
                using var s = x.sum();
                s.item<float>();
            }));
        return times.Order().ElementAt(times.Count / 2);
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "malloc_trim")]
    static extern int MallocTrim(nuint pad);

    static double WriteRandomIndex(string path, int rows)
    {
        var sw = Stopwatch.StartNew();
        using var index = ImageIndex.Open(path, create: true);
        var tx = index.BeginWrite();
        index.WriteMetadata(tx, new IndexMetadata("bench-random", "bench-random", Dim, EmbeddingPrecision.Float32, DateTime.UtcNow));
        index.EndWrite(tx, true);
        var rng = new Random(11);
        var v = new float[Dim];
        var hash = new byte[32];
        var now = DateTime.UtcNow;
        for (int start = 0; start < rows; start += 10_000)
        {
            tx = index.BeginWrite();
            long seq = index.NextSeq(tx);
            for (int i = start; i < Math.Min(rows, start + 10_000); i++)
            {
                for (int j = 0; j < Dim; j++) v[j] = (float)(rng.NextDouble() * 2 - 1);
                rng.NextBytes(hash);
                index.UpsertImage(tx, seq++, $"/bench/{i:D7}.jpg", 1000, 1, hash, 640, 480, null, 0, EmbeddingCodec.Encode(Vectors.Normalize(v), EmbeddingPrecision.Float32), now);
            }
            index.EndWrite(tx, true);
        }
        return sw.Elapsed.TotalSeconds;
    }

    static double Time(Action a)
    {
        var sw = Stopwatch.StartNew();
        a();
        return sw.Elapsed.TotalMilliseconds;
    }

    static double Pct(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    static long RssBytes()
    {
        System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        if (OperatingSystem.IsLinux()) MallocTrim(0);   // give freed native heap back so RSS shows what is live
        foreach (var line in File.Exists("/proc/self/status") ? File.ReadLines("/proc/self/status") : [])
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        return 0;
    }

    static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

    static string CpuModel() => File.Exists("/proc/cpuinfo")
        ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?"
        : "?";

    static string CpuFlags()
    {
        if (!File.Exists("/proc/cpuinfo")) return "";
        var flags = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal))?.Split(':', 2)[1].Split(' ') ?? [];
        return string.Join(' ', flags.Where(f => f is "avx2" or "fma" or "avx512f" or "avx512_bf16" or "amx_bf16"));
    }
}
