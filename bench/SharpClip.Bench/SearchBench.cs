using System.Diagnostics;
using System.Text.Json;
using SharpClip.Checkpoints;
using SharpClip.Modeling;
using SharpClip.Search;
using SharpClip.Demos.Toy;
using TorchSharp;
using static TorchSharp.torch;
using SharpClip.Vision;

namespace SharpClip.Bench;

/// <summary>
/// <c>dotnet run -c Release --project bench/SharpClip.Bench -- search [--quick] [--parts query,open,indexing]</c>:
/// exact top-k query latency on 100k and 1M random 512-d unit vectors for the two-stage search (int8 scan + exact
/// rescoring) and, interleaved query by query so both see the same machine load, the old TorchSharp float32 GEMM
/// scan; candidates rescored; the cost of the full exact fallback; memory per million; build and index-open time;
/// indexing images/s with the toy encoder and with a randomly initialised ViT-B/32 (same cost as real weights).
/// Writes artifacts/bench/search.json.
/// </summary>
public static class SearchBench
{
    const int Dim = 512, K = 10;

    public static int Run(string[] args)
    {
        bool quick = args.Contains("--quick");
        int partsAt = Array.IndexOf(args, "--parts");
        var parts = partsAt >= 0 && partsAt + 1 < args.Length ? args[partsAt + 1].Split(',') : ["query", "open", "indexing"];
        var report = new Dictionary<string, object>
        {
            ["cpu"] = CpuModel(), ["cpuFlags"] = CpuFlags(), ["torchThreads"] = torch.get_num_threads(), ["cores"] = Environment.ProcessorCount,
            ["loadAverageStart"] = BenchSupport.LoadAverage(), ["dimension"] = Dim, ["k"] = K, ["scanKernel"] = ScanPaths.Best.ToString(),
        };
        Console.WriteLine($"CPU: {report["cpu"]} [{report["cpuFlags"]}], {Environment.ProcessorCount} cores, torch threads {report["torchThreads"]}, " +
            $"int8 kernel {ScanPaths.Best}, load average {BenchSupport.LoadAverage()}");
        using (var warm = torch.ones(64, 64)) warm.mm(warm).sum().item<float>();   // libtorch's own memory must not count as index memory

        if (parts.Contains("query"))
        {
            foreach (int n in quick ? new[] { 100_000 } : [100_000, 1_000_000])
                report[$"query{n}"] = Queries(n, quick ? 30 : 100, anisotropic: false);
            report["query100000Anisotropic"] = Queries(100_000, 30, anisotropic: true);
        }

        string dir = Directory.CreateTempSubdirectory("sharpclip-bench-").FullName;
        try
        {
            if (parts.Contains("open")) report["indexOpen"] = IndexOpen(dir, quick ? 20_000 : 200_000);
            if (parts.Contains("indexing"))
            {
                report["indexingToy"] = IndexToy(dir, quick ? 300 : 2000);
                report["indexingVitB32"] = IndexVitB32(dir, quick ? 32 : 128);
            }
        }
        finally { Directory.Delete(dir, true); }

        report["loadAverageEnd"] = BenchSupport.LoadAverage();
        string outPath = Path.Combine("artifacts", "bench", "search.json");
        Directory.CreateDirectory(Path.GetDirectoryName(outPath)!);
        File.WriteAllText(outPath, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"wrote {outPath}");
        return 0;
    }

    /// <summary>
    /// Old and new paths on the same n rows, alternating query by query. Rows are isotropic random unit vectors, or
    /// (<paramref name="anisotropic"/>) a harder, CLIP-like mix (see <see cref="Anisotropic"/>): outlier dimensions
    /// coarsen every row's int8 step and top scores sit in a denser band, so the bound keeps more candidates.
    /// </summary>
    static object Queries(int n, int timed, bool anisotropic)
    {
        string loadBefore = BenchSupport.LoadAverage();
        long rssBefore = RssBytes();
        double buildMs;
        using var matrix = new EmbeddingMatrix(Dim);
        using var legacy = new LegacyTorchTopK(Dim);
        {
            torch.manual_seed(n);
            const int chunk = 16384;
            var buffer = new float[chunk * Dim];
            var build = new Stopwatch();
            for (int start = 0; start < n; start += chunk)
            {
                int c = Math.Min(chunk, n - start);
                using var scope = torch.NewDisposeScope();
                var x = torch.randn(c, Dim);
                if (anisotropic) x = Anisotropic(x, forQueries: false);
                x = (x / x.norm(1, keepdim: true)).contiguous();
                x.data<float>().CopyTo(buffer, 0, 0);
                build.Start();
                for (int i = 0; i < c; i++) matrix.Upsert(start + i, buffer.AsSpan(i * Dim, Dim));
                build.Stop();
                legacy.Append(x);
            }
            buildMs = build.Elapsed.TotalMilliseconds;
        }
        long rssAfter = RssBytes();     // both copies: the new matrix's share is reported from its own allocation

        var queries = RandomRows(timed + 3, seed: 7);
        if (anisotropic)
            using (var scope = torch.NewDisposeScope())
            {
                torch.manual_seed(8);
                var qx = Anisotropic(torch.randn(timed + 3, Dim), forQueries: true);
                qx = (qx / qx.norm(1, keepdim: true)).contiguous();
                var flat = qx.data<float>().ToArray();
                queries = Enumerable.Range(0, timed + 3).Select(i => flat.AsSpan(i * Dim, Dim).ToArray()).ToArray();
            }
        foreach (var q in queries.Take(3)) { matrix.TopK(q, K); legacy.TopK(q, K); }   // warm-up
        // Blocks of 10 queries per path, alternating which path goes first, with each block's first query untimed:
        // both paths see the same machine load over the run, and neither is timed while the other's threads are
        // still busy (libtorch's OpenMP workers spin for a few ms after each product).
        var newMs = new List<double>();
        var oldMs = new List<double>();
        var rescored = new List<int>();
        int differing = 0, fallbacks = 0;
        var timedQueries = queries.Skip(3).ToArray();
        const int Block = 10;
        for (int b0 = 0, round = 0; b0 < timedQueries.Length; b0 += Block, round++)
        {
            var block = timedQueries.Skip(b0).Take(Block).ToArray();
            var oldResults = new IReadOnlyList<ScoredId>[block.Length];
            var newResults = new IReadOnlyList<ScoredId>[block.Length];
            void RunOld()
            {
                for (int i = 0; i < block.Length; i++)
                {
                    double ms = Time(() => oldResults[i] = legacy.TopK(block[i], K));
                    if (i > 0) oldMs.Add(ms);
                }
            }
            void RunNew()
            {
                for (int i = 0; i < block.Length; i++)
                {
                    double ms = Time(() => newResults[i] = matrix.TopK(block[i], K));
                    if (i > 0) newMs.Add(ms);
                    rescored.Add(matrix.LastScan.Rescored);
                    if (matrix.LastScan.FullExactScan) fallbacks++;
                }
            }
            if (round % 2 == 0) { RunOld(); RunNew(); } else { RunNew(); RunOld(); }
            for (int i = 0; i < block.Length; i++)
                if (!oldResults[i].Select(x => x.Id).SequenceEqual(newResults[i].Select(x => x.Id))) differing++;
        }

        // the same scan with the AVX2 kernel (what AVX2-only machines run), and the full exact fallback's cost
        var otherKernels = new Dictionary<string, double>();
        foreach (var path in ScanPaths.Supported.Where(p => p is ScanPath.Avx2 or ScanPath.Avx512))
        {
            matrix.Path = path;
            otherKernels[path.ToString()] = Median(queries.Skip(3).Take(15).Select(q => Time(() => matrix.TopK(q, K))));
        }
        matrix.Path = ScanPaths.Best;
        matrix.MaxCandidates = 0;
        double fullExact = Median(queries.Skip(3).Take(7).Select(q => Time(() => matrix.TopK(q, K))));
        matrix.MaxCandidates = null;
        // What an app sees: the query is embedded by libtorch just before the scan, whose OpenMP workers keep spinning
        // for a while and compete with the scan's threads. A product of the size of a text tower's work stands in.
        double afterTorch;
        using (var a = torch.randn(77, 512))
        using (var w = torch.randn(512, 2048))
            afterTorch = Median(queries.Skip(3).Take(15).Select(q =>
            {
                using (torch.NewDisposeScope()) torch.mm(a, w).sum().item<float>();
                return Time(() => matrix.TopK(q, K));
            }));
        double floor = BandwidthFloorMs(n, Dim * 4);
        double floorInt8 = Int8ReadFloorMs(n);

        var newSorted = newMs.Order().ToArray();
        var oldSorted = oldMs.Order().ToArray();
        var r = new
        {
            rows = n, anisotropic, queries = timed, timedPerPath = newMs.Count, loadAverageBefore = loadBefore, loadAverageAfter = BenchSupport.LoadAverage(),
            twoStage = new { p50Ms = Pct(newSorted, 0.5), p99Ms = Pct(newSorted, 0.99), minMs = newSorted[0], kernel = ScanPaths.Best.ToString() },
            oldTorchFloat32 = new { p50Ms = Pct(oldSorted, 0.5), p99Ms = Pct(oldSorted, 0.99), minMs = oldSorted[0] },
            twoStageP50ByKernelMs = otherKernels,
            fullExactFallbackP50Ms = fullExact,
            twoStageRightAfterTorchP50Ms = afterTorch,
            rescored = new { median = Median(rescored.Select(x => (double)x)), max = rescored.Max(), fullScans = fallbacks },
            queriesWhereOldAndNewIdsDiffer = differing,
            memory = new
            {
                bytesPerMillion = matrix.AllocatedBytes * 1e6 / n,
                float32BytesPerMillion = (matrix.AllocatedBytes - matrix.CompactBytes) * 1e6 / n,
                compactBytesPerMillion = matrix.CompactBytes * 1e6 / n,
                oldBytesPerMillion = Dim * 4.0 * 1e6,
                rssDeltaBothPathsPerMillion = (rssAfter - rssBefore) * 1e6 / n,
            },
            buildMsPerMillion = buildMs * 1e6 / n,
            readFloat32OnceMs = floor,
            readInt8OnceMs = floorInt8,
        };
        Console.WriteLine($"query {n,9:N0} x {Dim}{(anisotropic ? " ANISOTROPIC" : "")}, k={K}, {timed} queries, load average {loadBefore} -> {r.loadAverageAfter}");
        Console.WriteLine($"  two-stage ({r.twoStage.kernel}): p50 {r.twoStage.p50Ms:F1} ms, p99 {r.twoStage.p99Ms:F1} ms, min {r.twoStage.minMs:F1} ms; " +
            $"rescored median {r.rescored.median:F0}, max {r.rescored.max}, full scans {fallbacks}");
        Console.WriteLine($"  old torch fp32:  p50 {r.oldTorchFloat32.p50Ms:F1} ms, p99 {r.oldTorchFloat32.p99Ms:F1} ms, min {r.oldTorchFloat32.minMs:F1} ms " +
            $"(alternating blocks with the above); speed-up at p50 {r.oldTorchFloat32.p50Ms / r.twoStage.p50Ms:F1}x; queries whose ids differ: {differing}");
        Console.WriteLine($"  p50 by kernel: {string.Join(", ", otherKernels.Select(kv => $"{kv.Key} {kv.Value:F1} ms"))}; full exact fp32 scan (fallback) p50 {fullExact:F1} ms; right after a libtorch product p50 {afterTorch:F1} ms");
        Console.WriteLine($"  reading once (sum): fp32 {floor:F1} ms, int8 {floorInt8:F1} ms | memory per million rows: {r.memory.bytesPerMillion / 1e9:F2} GB " +
            $"(fp32 {r.memory.float32BytesPerMillion / 1e9:F2} + int8 copy {r.memory.compactBytesPerMillion / 1e9:F2}; old path {r.memory.oldBytesPerMillion / 1e9:F2}) | " +
            $"build {r.buildMsPerMillion / 1000:F2} s per million");
        return r;
    }

    static object IndexOpen(string dir, int rows)
    {
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
        long fileBytes = new FileInfo(indexPath).Length;
        Console.WriteLine($"index open (SQLite -> memory, int8 codes built), {rows:N0} rows: {open:F0} ms (= {open * 1_000_000 / rows / 1000:F1} s per million), " +
            $"of which reading rows from SQLite alone {readOnly:F0} ms; file {fileBytes / 1e6:F0} MB");
        return new { rows, bestMs = open, sqliteReadMs = readOnly, msPerMillion = open * 1_000_000 / rows, fileBytes, writeSeconds = writeS };
    }

    static object IndexToy(string dir, int images)
    {
        string photos = Path.Combine(dir, "photos");
        Directory.CreateDirectory(photos);
        var rng = new Random(3);
        for (int i = 0; i < images; i++)
        {
            var rgb = new byte[64 * 64 * 3];
            rng.NextBytes(rgb);
            File.WriteAllBytes(Path.Combine(photos, $"{i:D5}.bmp"), BmpThumbnail.Encode(new RgbImage(64, 64, rgb), 64));
        }
        using var encoder = new ToyColorEncoder(0);
        using var index = ImageIndex.Open(Path.Combine(dir, "toy.db"), create: true);
        var summary = Indexer.Run(index, encoder, ToyColorEncoder.ModelName, [photos]);
        var again = Indexer.Run(index, encoder, ToyColorEncoder.ModelName, [photos]);
        Console.WriteLine($"indexing {images} 64x64 BMPs with the toy encoder: {summary.ImagesPerSecond:F0} images/s (hash + decode + SQLite); " +
            $"re-scan with nothing changed: {again.Seconds * 1000:F0} ms");
        return new { images, summary.Seconds, summary.ImagesPerSecond, noChangeRescanSeconds = again.Seconds };
    }

    /// <summary>
    /// A randomly initialised ViT-B/32 saved as a SharpClip model folder and indexed through the real encoder
    /// (<see cref="ClipImageTextEncoder"/>): decode + preprocess + forward + SQLite on 640x480 JPEGs. Random weights
    /// cost exactly what trained ones do.
    /// </summary>
    static object IndexVitB32(string dir, int images)
    {
        string loadBefore = BenchSupport.LoadAverage();
        string modelDir = Path.Combine(dir, "vit-b-32-random");
        var config = ClipPresets.Get("ViT-B/32");
        torch.manual_seed(0);
        using (var model = new ClipModel(config))
        using (var scope = torch.NewDisposeScope())
        {
            var weights = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach());
            ClipModelFolder.Write(modelDir, config, weights, vocabPath: null, PreprocessingInfo.ForResolution(config.ImageResolution));
        }
        string photos = Path.Combine(dir, "jpegs");
        Directory.CreateDirectory(photos);
        var rng = new Random(5);
        const int w = 640, h = 480;
        for (int i = 0; i < images; i++)
        {
            // smooth colour gradients with noise: compresses like a photo, not like white noise
            var rgb = new byte[w * h * 3];
            int r0 = rng.Next(256), g0 = rng.Next(256), b0 = rng.Next(256);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    int o = (y * w + x) * 3, noise = rng.Next(-12, 13);
                    rgb[o] = (byte)Math.Clamp(r0 + x * 96 / w + noise, 0, 255);
                    rgb[o + 1] = (byte)Math.Clamp(g0 + y * 96 / h + noise, 0, 255);
                    rgb[o + 2] = (byte)Math.Clamp(b0 + (x + y) * 64 / (w + h) + noise, 0, 255);
                }
            using var image = NetVips.Image.NewFromMemory(rgb, w, h, 3, NetVips.Enums.BandFormat.Uchar);
            File.WriteAllBytes(Path.Combine(photos, $"{i:D4}.jpg"), image.JpegsaveBuffer(q: 90));
        }
        using var encoder = ClipImageTextEncoder.Open(modelDir);
        using var index = ImageIndex.Open(Path.Combine(dir, "vit.db"), create: true);
        var summary = Indexer.Run(index, encoder, modelDir, [photos]);
        string loadAfter = BenchSupport.LoadAverage();
        Console.WriteLine($"indexing {images} 640x480 JPEGs with a random ViT-B/32 (batch {new IndexerOptions().BatchSize}, fp32, " +
            $"torch threads {torch.get_num_threads()}): {summary.ImagesPerSecond:F1} images/s, {summary.Embedded} embedded in {summary.Seconds:F1} s; " +
            $"load average {loadBefore} -> {loadAfter}");
        return new { images, width = w, height = h, summary.Embedded, summary.Failed, summary.Seconds, summary.ImagesPerSecond, loadAverageBefore = loadBefore, loadAverageAfter = loadAfter };
    }

    /// <summary>
    /// Gaussian rows [n, D] -> a shared unit mean direction + spreads decaying as (j+1)^-0.3 (total variance ~1) +
    /// two outlier dimensions with spread 0.3. Queries get a different mean that shares 40% of the rows' direction
    /// (like CLIP's text/image gap). Random rows then have cosine ~0.5 with each other, as CLIP image embeddings do.
    /// </summary>
    static Tensor Anisotropic(Tensor gaussian, bool forQueries)
    {
        var generator = new torch.Generator(17);
        var mean = torch.randn([1, Dim], generator: generator);
        mean = mean / mean.norm();
        if (forQueries)
        {
            var other = torch.randn([1, Dim], generator: generator);
            mean = 0.4 * mean + 0.9 * other / other.norm();
        }
        var spread = torch.pow(torch.arange(1, Dim + 1, dtype: ScalarType.Float32), -0.3f).unsqueeze(0);   // [1, D]
        spread = spread / spread.pow(2).sum().sqrt();
        spread[0, 0] = 0.3f;
        spread[0, 1] = 0.3f;
        return mean + gaussian * spread;
    }

    static double Median(IEnumerable<double> xs)
    {
        var s = xs.Order().ToArray();
        return s.Length == 0 ? double.NaN : s[s.Length / 2];
    }

    static float[][] RandomRows(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => Vectors.Normalize(Enumerable.Range(0, Dim).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray())).ToArray();
    }

    /// <summary>
    /// Median time to read n x 512 int8 codes once on every core (an OR over 32-byte vectors, nothing else): the
    /// memory-bandwidth floor of the first stage, measured in the same run. (libtorch's int8 <c>sum</c> widens to
    /// int64 and is compute-bound, so it cannot serve as the floor.)
    /// </summary>
    static unsafe double Int8ReadFloorMs(int n)
    {
        long bytes = (long)n * Dim;
        var buffer = new AlignedBuffer<sbyte>(bytes);
        new Span<sbyte>(buffer.Pointer, (int)Math.Min(bytes, int.MaxValue)).Fill(1);
        if (bytes > int.MaxValue) new Span<sbyte>(buffer.Pointer + int.MaxValue, (int)(bytes - int.MaxValue)).Fill(1);
        int parts = Environment.ProcessorCount * 8;
        var times = new List<double>();
        for (int i = 0; i < 9; i++)
            times.Add(Time(() => Parallel.For(0, parts, p =>
            {
                byte* start = (byte*)buffer.Pointer + bytes * p / parts, end = (byte*)buffer.Pointer + bytes * (p + 1) / parts;
                var acc = System.Runtime.Intrinsics.Vector256<byte>.Zero;
                for (byte* b = start; b + 32 <= end; b += 32) acc |= System.Runtime.Intrinsics.Vector256.Load(b);
                if (acc == System.Runtime.Intrinsics.Vector256<byte>.Zero) throw new InvalidOperationException("unreachable: the buffer is all ones");
            })));
        return times.Order().ElementAt(times.Count / 2);
    }

    /// <summary>
    /// Median time to read n x 512 float32 once (<c>sum</c> of one contiguous tensor): the memory-bandwidth floor of
    /// any exact float32 scan, measured in the same run.
    /// </summary>
    static double BandwidthFloorMs(int n, int bytesPerRow)
    {
        using var x = torch.rand(n, bytesPerRow / 4);
        var times = new List<double>();
        for (int i = 0; i < 9; i++)
            times.Add(Time(() =>
            {
                using var s = x.sum();
                s.ToDouble();
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
