using SharpClip.Vision;
using System.Diagnostics;
using System.Text.Json;
using SharpClip.Data;
using SharpClip.Data.Loading;
using SharpClip.Data.Sources;
using SharpClip.Demos.Synthetic;

namespace SharpClip.Bench;

/// <summary>
/// Data-layer throughput: synthetic rendering, the loader over the synthetic set (with a stand-in pipeline that only
/// converts bytes to CHW floats, so the figure is the loader's own overhead plus rendering), tar shard reading and CSV
/// parsing. Also writes a contact sheet of training samples to look at.
/// Usage: <c>dotnet run -c Release --project bench/SharpClip.Bench -- data [--size 64] [--samples 4096] [--out file.json]</c>
/// </summary>
public static class DataBench
{
    public static int Run(string[] args)
    {
        string Option(string name, string fallback) => BenchSupport.Option(args, name, fallback);
        int size = int.Parse(Option("--size", "64"));
        int samples = int.Parse(Option("--samples", "4096"));
        var output = Option("--out", Path.Combine("artifacts", "bench", $"data-{DateTime.UtcNow:yyyyMMdd-HHmmss}.json"));
        var results = new Dictionary<string, object>
        {
            ["cores"] = Environment.ProcessorCount, ["image_size"] = size, ["samples"] = samples,
        };
        var data = new SyntheticShapes(new SyntheticShapesOptions { ImageSize = size, TrainCount = samples });
        var train = data.Split(SyntheticSplit.Train);
        Console.WriteLine($"cores {Environment.ProcessorCount}, image {size}px, {samples} samples");

        // 1. Rendering, one thread.
        var sw = Stopwatch.StartNew();
        int rendered = Math.Min(samples, 2000);
        for (int i = 0; i < rendered; i++) train.Render(i);
        double renderPerS = rendered / sw.Elapsed.TotalSeconds;
        Console.WriteLine($"render (1 thread)            {renderPerS,10:F0} images/s");
        results["render_images_per_s_1_thread"] = renderPerS;

        // 2. Loader over the synthetic set, all cores.
        var options = new ClipLoaderOptions { BatchSize = 64, ImageSize = size, Workers = Environment.ProcessorCount };
        var loader = new ClipDataLoader(train, ToChw, Tokens, options);
        long peakManaged = 0;
        sw.Restart();
        int delivered = 0;
        foreach (var batch in loader.ReadEpoch(0))
        {
            delivered += batch.Count;
            peakManaged = Math.Max(peakManaged, GC.GetTotalMemory(false));
        }
        double loaderPerS = delivered / sw.Elapsed.TotalSeconds;
        Console.WriteLine($"loader (render+convert)      {loaderPerS,10:F0} samples/s  peak in flight {loader.PeakInFlight}/{options.InFlightLimit}, peak managed heap {peakManaged / 1048576.0:F0} MiB");
        results["loader_samples_per_s"] = loaderPerS;
        results["loader_peak_in_flight"] = loader.PeakInFlight;
        results["loader_peak_managed_mib"] = peakManaged / 1048576.0;

        var scratch = Path.Combine(Path.GetTempPath(), "sharpclip-databench-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            // 3. Tar shards: export, then stream them back (reading only; no decoding).
            var pattern = SyntheticShapesExporter.Export(train, Path.Combine(scratch, "tar"), SyntheticExportFormat.Tar, samplesPerShard: 1024);
            long tarBytes = Directory.EnumerateFiles(Path.Combine(scratch, "tar")).Sum(f => new FileInfo(f).Length);
            sw.Restart();
            int read = new TarShardSource(pattern).ReadAll().Count();
            double tarPerS = read / sw.Elapsed.TotalSeconds;
            Console.WriteLine($"tar shards read              {tarPerS,10:F0} samples/s  ({tarBytes / sw.Elapsed.TotalSeconds / 1048576.0:F0} MiB/s)");
            results["tar_samples_per_s"] = tarPerS;

            // 4. CSV parsing: 200k quoted rows pointing at one image.
            Directory.CreateDirectory(scratch);
            File.WriteAllBytes(Path.Combine(scratch, "x.png"), [0]);
            var csv = Path.Combine(scratch, "big.csv");
            using (var w = new StreamWriter(csv))
            {
                w.WriteLine("image,caption");
                for (int i = 0; i < 200_000; i++) w.WriteLine($"x.png,\"caption number {i}, with a comma and \"\"quotes\"\"\"");
            }
            sw.Restart();
            int rows = new CsvSource(csv).ReadAll().Sum(s => s.Captions.Count);
            double csvPerS = rows / sw.Elapsed.TotalSeconds;
            Console.WriteLine($"CSV rows parsed              {csvPerS,10:F0} rows/s");
            results["csv_rows_per_s"] = csvPerS;
        }
        finally
        {
            try { Directory.Delete(scratch, true); } catch (IOException) { }
        }

        // 5. Contact sheet: 8x8 training samples.
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
        var sheet = Path.ChangeExtension(output, ".png");
        File.WriteAllBytes(sheet, ContactSheet(train, 8, size));
        File.WriteAllLines(Path.ChangeExtension(output, ".txt"), Enumerable.Range(0, 64).Select(i => $"{i,2}: {string.Join(" | ", train.Captions(i))}"));
        File.WriteAllText(output, JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"wrote {output}, {sheet}");
        return 0;
    }

    private static float[]? ToChw(ImageTextSample s, Random _)
    {
        var raw = (RawRgbImage)s.Image;
        int hw = raw.Width * raw.Height;
        var px = raw.RgbHwc;
        var chw = new float[3 * hw];
        for (int i = 0; i < hw; i++)
            for (int c = 0; c < 3; c++)
                chw[c * hw + i] = px[i * 3 + c] / 255f;
        return chw;
    }

    private static long[][] Tokens(IReadOnlyList<string> captions) =>
        captions.Select(c => { var t = new long[77]; for (int i = 0; i < Math.Min(77, c.Length); i++) t[i] = c[i]; return t; }).ToArray();

    private static byte[] ContactSheet(SyntheticShapesSplit split, int n, int size)
    {
        int side = n * size;
        var sheet = new byte[side * side * 3];
        for (int k = 0; k < n * n; k++)
        {
            var img = split.Render(k);
            int ox = k % n * size, oy = k / n * size;
            for (int y = 0; y < size; y++)
                Array.Copy(img, y * size * 3, sheet, ((oy + y) * side + ox) * 3, size * 3);
        }
        return PngWriter.Encode(new RgbImage(side, side, sheet));
    }
}
