using System.CommandLine;
using System.Globalization;
using SharpClip.Generation.TextToImage;
using SharpClip.Pipelines;
using SharpClip.Runtime;
using SharpClip.Vision;

namespace SharpClip.Cli;

/// <summary>The <c>generate</c> verb's flags and their translation into a <see cref="TextToImageRequest"/>.</summary>
public sealed class GenerateFlags
{
    public Argument<string> Prompt { get; } = new("PROMPT") { Description = "What the image should show." };
    public Option<string> Model { get; } = new("--model", "-m") { Description = "A text-to-image model: a Stable Diffusion 1.x/2.x checkpoint (.safetensors or .ckpt, or a diffusers folder) or a DALL-E model folder (from train-dalle).", Required = true };
    public Option<string> Output { get; } = new("--output", "-o") { Description = "Folder for the PNGs and generation.json.", Required = true };
    public Option<string?> Vocab { get; } = new("--vocab") { Description = "CLIP's BPE vocabulary (bpe_simple_vocab_16e6.txt.gz) when $CLIP_VOCAB is not set." };
    public Option<string> Negative { get; } = new("--negative") { Description = "Stable Diffusion: what the image should not show.", DefaultValueFactory = _ => "" };
    public Option<int?> Steps { get; } = new("--steps") { Description = "Stable Diffusion: denoising steps (default 50)." };
    public Option<double?> Guidance { get; } = new("--guidance") { Description = "Stable Diffusion: classifier-free guidance scale (default 7.5; 1 = off)." };
    public Option<string?> Sampler { get; } = new("--sampler") { Description = "Stable Diffusion: ddim (the reference's, default), euler, euler-a or dpmpp-2m." };
    public Option<bool> Karras { get; } = new("--karras") { Description = "Stable Diffusion: Karras sigma spacing for euler, euler-a and dpmpp-2m." };
    public Option<double?> Temperature { get; } = new("--temperature") { Description = "DALL-E: divide the token logits by this (default 1; lower is sharper, higher more varied)." };
    public Option<int?> TopK { get; } = new("--top-k") { Description = "DALL-E: draw each image token from the k likeliest codes (default: all)." };
    public Option<double?> TopP { get; } = new("--top-p") { Description = "DALL-E: draw each image token from the likeliest codes holding this probability, in (0, 1] (default: all)." };
    public Option<long> Seed { get; } = new("--seed") { Description = "Seed of the first image; image i uses seed + i (recorded per image), whatever --batch-size.", DefaultValueFactory = _ => 0 };
    public Option<string?> Size { get; } = new("--size") { Description = "WxH in pixels, multiples of 8 (default: the model's, 512x512 for SD 1.x; the init image's size with --init-image). A DALL-E model makes one size only." };
    public Option<string?> InitImage { get; } = new("--init-image") { Description = "Stable Diffusion img2img: the image to start from (resized to --size when given)." };
    public Option<double> Strength { get; } = new("--strength") { Description = "img2img: how much to change the init image, in (0, 1].", DefaultValueFactory = _ => 0.75 };
    public Option<int> Count { get; } = new("-n", "--count") { Description = "Images to generate.", DefaultValueFactory = _ => 1 };
    public Option<int> BatchSize { get; } = new("--batch-size") { Description = "Images per model batch, U-Net or transformer (memory vs. speed; the same seeds, but batched float sums may change a pixel by a level).", DefaultValueFactory = _ => 1 };
    public Option<int?> ClipSkip { get; } = new("--clip-skip") { Description = "Stable Diffusion: condition on the K-th text layer from the last (default: the model's, 1 for SD 1.x and diffusers folders, 2 = the penultimate for SD 2.x single files)." };
    public Option<string?> Prediction { get; } = new("--prediction") { Description = "Stable Diffusion: what the U-Net predicts, epsilon or v (SD 2.x 768-v); default: a diffusers folder's scheduler config, else epsilon." };
    public Option<string?> RerankModel { get; } = new("--rerank-model") { Description = "A CLIP model that scores the images against the prompt; keeps the best --keep and writes contact-sheet.png of all in rank order." };
    public Option<int?> Keep { get; } = new("--keep") { Description = "With --rerank-model: images to keep (default: all, best first)." };
    public Option<string> Precision { get; } = new("--precision") { Description = "Stable Diffusion: fp32 (the reference's numbers), bf16 (about 3.7x faster per step on CPUs with avx512_bf16, slower without; images differ slightly) or auto (bf16 where the CPU has it). DALL-E: fp32.", DefaultValueFactory = _ => "fp32" };

    public void AddTo(Command command)
    {
        command.Arguments.Add(Prompt);
        foreach (var o in new Option[] { Model, Output, Vocab, Negative, Steps, Guidance, Sampler, Karras, Temperature, TopK, TopP, Seed, Size, InitImage, Strength,
                     Count, BatchSize, ClipSkip, Prediction, RerankModel, Keep, Precision })
            command.Options.Add(o);
    }

    public TextToImageLoadOptions LoadOptions(ParseResult parse) => new()
    {
        VocabPath = parse.GetValue(Vocab), Prediction = parse.GetValue(Prediction),
        Precision = ComputeTarget.ParsePrecision(parse.GetValue(Precision)!, "--precision"),
    };

    /// <summary>The request the flags describe; an unreadable init image or a malformed --size is one clear error.</summary>
    public TextToImageRequest Request(ParseResult parse)
    {
        var (width, height) = ParseSize(parse.GetValue(Size));
        RgbImage? init = null;
        if (parse.GetValue(InitImage) is { } path)
        {
            if (!File.Exists(path)) throw new FileNotFoundException($"--init-image {path}: no such file", path);
            init = ImageDecoder.Decode(path).ToRgb();
            width ??= init.Width;
            height ??= init.Height;
        }
        return new TextToImageRequest
        {
            Prompt = parse.GetValue(Prompt)!, NegativePrompt = parse.GetValue(Negative)!, Count = parse.GetValue(Count), BatchSize = parse.GetValue(BatchSize),
            Seed = parse.GetValue(Seed), Steps = parse.GetValue(Steps), GuidanceScale = parse.GetValue(Guidance), Sampler = parse.GetValue(Sampler),
            Karras = parse.GetValue(Karras), Width = width, Height = height, InitImage = init, Strength = parse.GetValue(Strength),
            ClipSkip = parse.GetValue(ClipSkip), Temperature = parse.GetValue(Temperature), TopK = parse.GetValue(TopK), TopP = parse.GetValue(TopP),
        };
    }

    /// <summary>The CLIP judge and how many to keep; null without --rerank-model.</summary>
    public RerankSettings? Rerank(ParseResult parse, int count)
    {
        if (parse.GetValue(RerankModel) is not { } path)
            return parse.GetValue(Keep) is null ? null : throw new ArgumentException("--keep needs --rerank-model");
        var clip = ClipPipeline.Load(path, new ClipPipelineOptions { VocabPath = parse.GetValue(Vocab) });
        return new RerankSettings(clip, path, parse.GetValue(Keep) ?? count);
    }

    /// <summary>"512x512" → (512, 512); null → (null, null).</summary>
    public static (int? Width, int? Height) ParseSize(string? size)
    {
        if (size is null) return (null, null);
        var parts = size.ToLowerInvariant().Split('x');
        if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int w)
                              && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int h) && w > 0 && h > 0)
            return (w, h);
        throw new ArgumentException($"--size {size}: expected WIDTHxHEIGHT in pixels, e.g. 512x512");
    }
}
