using System.Diagnostics;
using System.Text.Json;
using SharpClip.Text;

namespace SharpClip.Bench;

/// <summary>
/// Tokenizer throughput: captions/s for 100k generated captions, on one core and on all cores, cold cache (a new
/// tokenizer) and warm. Captions are generated deterministically: varied templates and lengths, casing,
/// punctuation, numbers, some accented/CJK/emoji text, HTML entities and mojibake, a few too long for 77 tokens.
/// Usage: <c>tokenizer [--vocab FILE] [--count N] [--output FILE.json]</c>.
/// </summary>
public static class TokenizerBench
{
    public static int Run(string[] args)
    {
        string? vocab = Arg(args, "--vocab") ?? ClipTokenizer.FindDefaultVocab() ?? FindSharedVocab();
        if (vocab == null) { Console.Error.WriteLine("tokenizer bench: pass --vocab FILE or set CLIP_VOCAB"); return 1; }
        int count = int.Parse(Arg(args, "--count") ?? "100000");
        string output = Arg(args, "--output") ?? Path.Combine("runs", "bench", "tokenizer.json");

        var captions = Captions(count, seed: 1234);
        var sw = Stopwatch.StartNew();
        var vocabulary = BpeVocabulary.Load(vocab);
        double loadMs = sw.Elapsed.TotalMilliseconds;
        Console.WriteLine($"CPU: {Cpu()}, {Environment.ProcessorCount} logical cores; load average {BenchSupport.LoadAverage()}");
        Console.WriteLine($"vocabulary: {vocab} ({vocabulary.Count} ids), loaded in {loadMs:F0} ms");
        Console.WriteLine($"captions: {count}, mean {captions.Average(c => c.Length):F0} chars, {captions.Count(c => !c.All(char.IsAscii))} with non-ASCII");

        // Warm the JIT on a small separate batch.
        var warmup = new ClipTokenizer(vocabulary);
        foreach (var c in Captions(2000, seed: 99)) warmup.TokenizeOne(c, truncate: true);

        double Measure(string name, Action body)
        {
            GC.Collect();
            var t = Stopwatch.StartNew();
            body();
            double rate = count / t.Elapsed.TotalSeconds;
            Console.WriteLine($"{name,-40} {rate,12:N0} captions/s  ({t.Elapsed.TotalSeconds:F2} s)");
            return rate;
        }

        var results = new Dictionary<string, double>();
        var cold1 = new ClipTokenizer(vocabulary);
        results["one_core_cold_cache"] = Measure("one core, cold cache", () => { foreach (var c in captions) cold1.TokenizeOne(c, truncate: true); });
        results["one_core_warm_cache"] = Measure("one core, warm cache", () => { foreach (var c in captions) cold1.TokenizeOne(c, truncate: true); });
        var coldN = new ClipTokenizer(vocabulary);
        results["all_cores_cold_cache"] = Measure($"all {Environment.ProcessorCount} cores, cold cache (arrays)", () => coldN.TokenizeToArrays(captions, truncate: true));
        results["all_cores_warm_cache"] = Measure($"all {Environment.ProcessorCount} cores, warm cache (arrays)", () => coldN.TokenizeToArrays(captions, truncate: true));
        results["all_cores_warm_cache_tensor"] = Measure($"all {Environment.ProcessorCount} cores, warm cache (int64 tensor)", () =>
        {
            using var t = coldN.Tokenize(captions, truncate: true);
        });

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
        var report = new
        {
            suite = "tokenizer",
            unit = "captions/s",
            captions = count,
            cpu = Cpu(),
            logical_cores = Environment.ProcessorCount,
            load_average = BenchSupport.LoadAverage(),
            vocab_load_ms = loadMs,
            results,
        };
        File.WriteAllText(output, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"wrote {output}");
        return 0;
    }

    /// <summary>Deterministic, varied captions in the style of web alt-text.</summary>
    public static List<string> Captions(int count, int seed)
    {
        string[] adjectives = ["small", "large", "old", "bright", "dark", "vintage", "colorful", "blurry", "close-up", "aerial", "smiling", "wet", "snowy", "rusty", "golden", "tiny"];
        string[] subjects = ["cat", "dog", "woman", "man", "child", "bicycle", "car", "lighthouse", "bowl of ramen", "mountain", "skyscraper", "tree", "horse", "coffee cup", "train station", "sailboat", "guitar", "pizza", "robot", "bird"];
        string[] actions = ["sitting on", "running along", "parked near", "standing in front of", "floating above", "lying under", "painted on", "reflected in", "walking through", "waiting at"];
        string[] places = ["the beach", "a busy city street", "the kitchen table", "a snowy forest", "an old wooden bridge", "the harbour at night", "a field of sunflowers", "the subway platform", "a desert road", "the living room"];
        string[] styles = ["a photo of", "an oil painting of", "a sketch of", "a 3D render of", "a black and white photograph of", "a watercolor of", "a screenshot of", "stock photo:", "IMG_{0}.JPG", "#tbt"];
        string[] extras = ["café", "crème brûlée", "Zürich", "東京タワー", "北京", "서울", "Москва", "Αθήνα", "😀", "👍🏽", "🇫🇷", "naïve", "ﬁsh", "ＡＢＣ", "“quoted”", "it’s", "&amp;", "&quot;", "Ã©tÃ©", "doesnâ€™t", "½ price", "x²", "—", "…"];
        var rnd = new Random(seed);
        var result = new List<string>(count);
        for (int i = 0; i < count; i++)
        {
            var parts = new List<string> { string.Format(styles[rnd.Next(styles.Length)], rnd.Next(1000, 9999)) };
            int clauses = rnd.Next(1, rnd.Next(10) == 0 ? 12 : 4);
            for (int k = 0; k < clauses; k++)
            {
                if (k > 0) parts.Add(rnd.Next(3) == 0 ? "with" : "and");
                parts.Add("a");
                if (rnd.Next(2) == 0) parts.Add(adjectives[rnd.Next(adjectives.Length)]);
                parts.Add(subjects[rnd.Next(subjects.Length)]);
                parts.Add(actions[rnd.Next(actions.Length)]);
                parts.Add(places[rnd.Next(places.Length)]);
                if (rnd.Next(5) == 0) parts.Add($"in {rnd.Next(1950, 2025)}");
            }
            if (rnd.Next(8) == 0) parts.Insert(rnd.Next(parts.Count), extras[rnd.Next(extras.Length)]);
            var caption = string.Join(' ', parts);
            caption = rnd.Next(6) switch
            {
                0 => caption.ToUpperInvariant(),
                1 => char.ToUpperInvariant(caption[0]) + caption[1..] + ".",
                2 => caption + "!",
                _ => caption,
            };
            result.Add(caption);
        }
        return result;
    }

    static string? Arg(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    static string? FindSharedVocab()
    {
        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir != null; dir = dir.Parent)
        {
            var p = Path.Combine(dir.FullName, "shared", "vocab", ClipTokenizer.OpenAiVocabFileName);
            if (File.Exists(p)) return p;
            p = Path.Combine(dir.FullName, "..", "shared", "vocab", ClipTokenizer.OpenAiVocabFileName);
            if (File.Exists(p)) return Path.GetFullPath(p);
        }
        return null;
    }

    static string Cpu()
    {
        try
        {
            var lines = File.ReadAllLines("/proc/cpuinfo");
            var model = lines.FirstOrDefault(l => l.StartsWith("model name"))?.Split(':', 2)[1].Trim() ?? "unknown";
            var flags = lines.FirstOrDefault(l => l.StartsWith("flags"))?.Split(':', 2)[1].Split(' ') ?? [];
            var notable = new[] { "avx2", "avx512f", "avx512_bf16", "amx_bf16" }.Where(flags.Contains);
            return $"{model} [{string.Join(" ", notable)}]";
        }
        catch (IOException) { return System.Runtime.InteropServices.RuntimeInformation.OSArchitecture.ToString(); }
    }

}
