using System.CommandLine;
using System.Globalization;
using SharpClip.Generation.Studies;
using SharpClip.Generation.TextToImage;
using SharpClip.Pipelines;

namespace SharpClip.Cli;

/// <summary>The <c>eval generation</c> verb's flags and their translation into study options.</summary>
public sealed class GenerationStudyFlags
{
    public Option<string> Model { get; } = new("--model", "-m") { Description = "The text-to-image model studied: a DALL-E model folder or a Stable Diffusion 1.x checkpoint.", Required = true };
    public Option<string> Judge { get; } = new("--judge") { Description = "A separately trained CLIP model that grades the images (R-precision, CLIPScore).", Required = true };
    public Option<string?> RerankModel { get; } = new("--rerank-model") { Description = "The CLIP model that reranks the candidates; runs the reranking study (--candidates)." };
    public Option<bool> AllowSameJudge { get; } = new("--allow-same-judge") { Description = "Let --judge be the --rerank-model (it then only measures agreement with itself)." };
    public Option<string> Data { get; } = new("--data", "-d") { Description = "Held-out captioned data: emoji:val, a JSONL/CSV, a folder or tar shards; a JSONL 'group' field adds group R-precision.", Required = true };
    public Option<int> Captions { get; } = new("--captions") { Description = "Held-out captions drawn (seeded) from --data.", DefaultValueFactory = _ => 64 };
    public Option<string> Candidates { get; } = new("--candidates") { Description = "Candidate counts N compared by the reranking study; the largest is generated per caption.", DefaultValueFactory = _ => "1,2,4,8,16,32" };
    public Option<string?> Guidance { get; } = new("--guidance") { Description = "Guidance scales compared by the guidance study, e.g. 1,3,5,7.5 (Stable Diffusion)." };
    public Option<int> ImagesPerCaption { get; } = new("--images-per-caption") { Description = "Guidance study: images per caption and scale.", DefaultValueFactory = _ => 1 };
    public Option<int> Distractors { get; } = new("--distractors") { Description = "K: captions each image's own is ranked among (K - 1 drawn from the other held-out captions; chance 1/K).", DefaultValueFactory = _ => 8 };
    public Option<string?> Templates { get; } = PromptOptions.Templates("'{}' (the group name alone). Used for group R-precision: each group's prompts are averaged");
    public Option<long> Seed { get; } = new("--seed") { Description = "Seeds the caption draw, the distractors and the images.", DefaultValueFactory = _ => 0 };
    public Option<int?> Steps { get; } = new("--steps") { Description = "Stable Diffusion: denoising steps (default 50)." };
    public Option<string?> Sampler { get; } = new("--sampler") { Description = "Stable Diffusion: ddim (default), euler, euler-a or dpmpp-2m." };
    public Option<double?> Temperature { get; } = new("--temperature") { Description = "DALL-E: divide the token logits by this (default 1)." };
    public Option<int?> TopK { get; } = new("--top-k") { Description = "DALL-E: draw each image token from the k likeliest codes (default: all)." };
    public Option<double?> TopP { get; } = new("--top-p") { Description = "DALL-E: nucleus probability mass kept (default: all)." };
    public Option<string?> Size { get; } = new("--size") { Description = "Stable Diffusion: WxH in pixels, multiples of 8 (default: the model's)." };
    public Option<int> BatchSize { get; } = new("--batch-size") { Description = "Images per generator batch.", DefaultValueFactory = _ => 8 };
    public Option<string?> Vocab { get; } = new("--vocab") { Description = "CLIP's BPE vocabulary, for models that carry none (SD single files, CLIP weight files)." };
    public Option<string> Output { get; } = EvalFlags.Output();

    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { Model, Judge, RerankModel, AllowSameJudge, Data, Captions, Candidates, Guidance, ImagesPerCaption, Distractors, Templates,
                     Seed, Steps, Sampler, Temperature, TopK, TopP, Size, BatchSize, Vocab, Output })
            command.Options.Add(o);
    }

    /// <summary>The generator settings every study image is made with (prompt, count, seed and guidance are the study's).</summary>
    public TextToImageRequest Settings(ParseResult parse)
    {
        var (width, height) = GenerateFlags.ParseSize(parse.GetValue(Size));
        return new()
        {
            Prompt = "", Width = width, Height = height, Steps = parse.GetValue(Steps), Sampler = parse.GetValue(Sampler), Temperature = parse.GetValue(Temperature),
            TopK = parse.GetValue(TopK), TopP = parse.GetValue(TopP), BatchSize = parse.GetValue(BatchSize),
        };
    }

    public ClipPipeline LoadClip(ParseResult parse, string path) => ClipPipeline.Load(path, new ClipPipelineOptions { VocabPath = parse.GetValue(Vocab) });

    /// <summary>"1,2,4" → [1, 2, 4]; every entry a positive integer.</summary>
    public static IReadOnlyList<int> Counts(string value) =>
        [.. value.Split(',').Select(s => int.TryParse(s.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n
            : throw new ArgumentException($"--candidates: '{s}' is not a positive integer"))];

    /// <summary>"1,3,7.5" → [1, 3, 7.5]; every entry a number ≥ 1.</summary>
    public static IReadOnlyList<double> Scales(string value) =>
        [.. value.Split(',').Select(s => double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var g) && g >= 1 && double.IsFinite(g) ? g
            : throw new ArgumentException($"--guidance: '{s}' is not a scale ≥ 1 (1 turns guidance off)"))];

    /// <summary>A progress line per caption and stage on stderr, as the study reports it.</summary>
    public static IProgress<StudyProgress> Progress(string study) => new SyncProgress<StudyProgress>(p =>
        Console.Error.WriteLine(p.Caption == 0 ? $"{study}: {p.Stage} ({p.Text})" : $"{study} [{p.Caption}/{p.Captions}] {p.Stage}: {p.Text}"));
}
