using SharpClip.Data;
using SharpClip.Data.Loading;
using SharpClip.Generation.Dalle;
using SharpClip.Generation.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Bench;

/// <summary>
/// How well trained dVAEs reconstruct held-out images, to compare training settings: each image is encoded to its
/// argmax codes and decoded (what the transformer's samples go through), then per channel the mean absolute error in
/// [0, 1], the colour kept (the reconstruction's mean distance of each channel from the pixel's grey level over the
/// original's: 1 = all colour kept, 0 = grey or sepia), and the codebook use on those images (distinct codes and the
/// perplexity of their histogram). Usage: <c>dvae-quality --dvae DIR[,DIR…] [--data emoji:val] [--size 32] [--count 1000] [--out FILE]</c>.
/// </summary>
public static class DvaeQualityBench
{
    public static int Run(string[] args)
    {
        var folders = BenchSupport.Option(args, "--dvae", "").Split(',', StringSplitOptions.RemoveEmptyEntries);
        if (folders.Length == 0) { Console.Error.WriteLine("dvae-quality: --dvae DIR[,DIR…] is required"); return 1; }
        var data = BenchSupport.Option(args, "--data", "emoji:val");
        int size = BenchSupport.IntOption(args, "--size", 32), count = BenchSupport.IntOption(args, "--count", 1000);
        var output = BenchSupport.Option(args, "--out", Path.Combine("artifacts", "bench", $"dvae-quality-{DateTime.UtcNow:yyyyMMdd-HHmmss}.json"));

        using var images = HeldOut(data, size, count);   // [n, 3, s, s] in [0, 1]
        Console.WriteLine($"{images.shape[0]} images of {data} at {size} px; load average {BenchSupport.LoadAverage()}");
        Console.WriteLine($"{"dvae",-40} {"MAE R",6} {"MAE G",6} {"MAE B",6} {"colour kept",11} {"codes used",10} {"perplexity",10}");
        var rows = new List<object>();
        foreach (var folder in folders)
        {
            using var scope = torch.NewDisposeScope();
            using var dvae = DiscreteVae.Load(folder);
            using var codes = dvae.Encode(images);
            using var back = dvae.Decode(codes.Tokens);
            var mae = back.Image.sub(images).abs().mean([0, 2, 3]).data<float>().ToArray();
            double kept = Chroma(back.Image) / Chroma(images);
            using var histogram = codes.Tokens.flatten().bincount(null, dvae.VocabSize);
            var h = histogram.data<long>().ToArray();
            double total = h.Sum(), entropy = -h.Where(c => c > 0).Sum(c => c / total * Math.Log(c / total));
            int used = h.Count(c => c > 0);
            Console.WriteLine($"{folder,-40} {mae[0],6:F3} {mae[1],6:F3} {mae[2],6:F3} {kept,11:F2} {used,10} {Math.Exp(entropy),10:F1}");
            rows.Add(new { dvae = folder, mae_rgb = mae, colour_kept = kept, codes_used = used, perplexity = Math.Exp(entropy), vocab = dvae.VocabSize });
        }
        BenchSupport.WriteReport(output, new { suite = "dvae-quality", utc = DateTime.UtcNow, data, size, images = images.shape[0], rows });
        return 0;
    }

    // Mean over pixels and channels of |x_c − mean_c x|: how far from grey the pixels are.
    static double Chroma(Tensor image)
    {
        using var scope = torch.NewDisposeScope();
        return image.sub(image.mean([1], keepdim: true)).abs().mean().item<float>();
    }

    static Tensor HeldOut(string data, int size, int count)
    {
        var loader = new ClipDataLoader(ImageTextSources.Open(data), GenerativeRun.UnitPixelPipeline(size), c => [.. c.Select(_ => new long[1])],
            ClipLoaderOptions.ForEvaluation(64, size));
        var pixels = new List<float>();
        int n = 0;
        foreach (var batch in loader.ReadEpoch(0))
        {
            int take = Math.Min(batch.Count, count - n);
            pixels.AddRange(batch.Pixels.AsSpan(0, take * 3 * size * size).ToArray());
            n += take;
            if (n >= count) break;
        }
        return torch.tensor(pixels.ToArray(), [n, 3, size, size]);
    }
}
