using SharpClip.Generation.Dalle.Sampling;
using SharpClip.Generation.Dalle.Transformer;
using SharpClip.Generation.TextToImage;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Generation.Dalle;

/// <summary>
/// DALL-E behind the text-to-image seam: the transformer draws each candidate's image tokens after the caption (with
/// the key/value cache, <see cref="TextToImageRequest.BatchSize"/> candidates at a time) and the dVAE decoder turns
/// them into pixels. Candidate i draws from its own generator seeded <c>Seed + i</c>, so it comes out the same alone
/// or in any batch. DALL-E has no negative prompt, guidance, denoising steps, sampler or init image: a request
/// carrying one is refused rather than silently ignored.
/// </summary>
public sealed class DalleGenerator : ITextToImageGenerator
{
    /// <summary>The one "sampler": image tokens drawn left to right, row by row.</summary>
    public const string SamplerName = "autoregressive";

    DalleGenerator(DalleModel model, DiscreteVae dvae, string source)
    {
        Model = model;
        Dvae = dvae;
        Source = source;
    }

    public DalleModel Model { get; }

    DiscreteVae Dvae { get; }

    public string Kind => "dalle";

    public string Source { get; }

    public IReadOnlyList<string> Samplers => [SamplerName];

    /// <summary>The only size this model makes: its token grid times the dVAE's cell.</summary>
    public (int Width, int Height) DefaultSize => (Model.Config.ImageColumns * SizeMultiple, Model.Config.ImageRows * SizeMultiple);

    public int SizeMultiple => Dvae.Downsampling;

    public string ProgressUnit => "tokens";

    /// <summary>Loads a model folder written by <c>train-dalle</c>; one without its dVAE cannot make pixels and is refused.</summary>
    public static DalleGenerator Load(string folder)
    {
        var model = DalleModel.Load(folder);
        if (model.Dvae is not { } dvae)
        {
            model.Dispose();
            throw new InvalidDataException($"{folder}: no {DalleModel.DvaeFolder}/ folder; the dVAE decoder is needed to turn DALL-E's image tokens into pixels");
        }
        return new DalleGenerator(model, dvae, folder);
    }

    public IReadOnlyDictionary<string, object?> Resolve(TextToImageRequest request)
    {
        var options = Options(request);
        var (width, height) = DefaultSize;
        return new Dictionary<string, object?>
        {
            ["sampler"] = SamplerName,
            ["temperature"] = options.Temperature,
            ["top_k"] = options.TopK,
            ["top_p"] = options.TopP,
            ["kv_cache"] = options.UseCache,
            ["width"] = width,
            ["height"] = height,
            ["token_grid"] = new[] { Model.Config.ImageRows, Model.Config.ImageColumns },
            ["image_vocab"] = Model.Config.ImageVocabSize,
            ["text_length"] = Model.Config.TextLength,
        };
    }

    public int ProgressTotal(TextToImageRequest request) => checked(request.Count * Model.Config.ImageTokens);

    public IReadOnlyList<GeneratedImage> Generate(TextToImageRequest request, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        var options = Options(request);
        var config = Model.Config;
        var ids = DalleText.Tokenize(Model.Tokenizer, [request.Prompt], config.TextLength)[0];
        var images = new List<GeneratedImage>(request.Count);
        Model.Transformer.eval();
        for (int start = 0; start < request.Count; start += request.BatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = Math.Min(request.BatchSize, request.Count - start), before = start * config.ImageTokens;
            var seeds = Enumerable.Range(start, n).Select(i => request.Seed + i).ToArray();
            var generators = seeds.Select(s => new Generator((ulong)s)).ToArray();
            try
            {
                using var scope = NewDisposeScope();
                var text = torch.tensor(Enumerable.Repeat(ids, n).SelectMany(r => r).ToArray(), [n, config.TextLength]);   // [n, text_length]
                var tokens = DalleSampler.Sample(Model.Transformer, text, options, generators,
                    done => progress?.Report(before + done * n), cancellationToken);                                     // [n, rows·cols]
                using var decoded = Dvae.Decode(tokens.view(n, config.ImageRows, config.ImageColumns));                  // image [n, 3, h, w]
                var pixels = DiscreteVae.ToImages(decoded.Image);
                for (int i = 0; i < n; i++) images.Add(new GeneratedImage(start + i, seeds[i], pixels[i]));
            }
            finally
            {
                foreach (var g in generators) g.Dispose();
            }
        }
        return images;
    }

    SamplingOptions Options(TextToImageRequest request)
    {
        if (string.IsNullOrWhiteSpace(request.Prompt)) throw new ArgumentException("the prompt is empty");
        if (request.Count < 1) throw new ArgumentException($"the image count {request.Count} must be at least 1");
        if (request.BatchSize < 1) throw new ArgumentException($"the batch size {request.BatchSize} must be at least 1");
        if (request.Seed < 0) throw new ArgumentException($"seed {request.Seed} must be ≥ 0 for DALL-E (a generator seed is unsigned)");
        var refused = new List<string>();
        if (request.NegativePrompt.Length > 0) refused.Add("a negative prompt");
        if (request.Steps is not null) refused.Add("steps");
        if (request.GuidanceScale is not null) refused.Add("guidance");
        if (request.Sampler is { } s && s != SamplerName) refused.Add($"sampler '{s}'");
        if (request.Karras) refused.Add("Karras sigmas");
        if (request.InitImage is not null) refused.Add("an init image");
        if (request.ClipSkip is not null and not 1) refused.Add("clip skip");
        if (refused.Count > 0)
            throw new ArgumentException($"{string.Join(", ", refused)}: Stable Diffusion settings; a DALL-E model samples image tokens (use temperature, top-k, top-p)");
        var (width, height) = DefaultSize;
        if ((request.Width ?? width) != width || (request.Height ?? height) != height)
            throw new ArgumentException($"size {request.Width ?? width}x{request.Height ?? height}: this DALL-E model makes {width}x{height} only ({Model.Config.ImageColumns}x{Model.Config.ImageRows} tokens of {SizeMultiple} px)");
        return new SamplingOptions { Temperature = request.Temperature ?? 1.0, TopK = request.TopK, TopP = request.TopP, BatchSize = request.BatchSize }.Validate();
    }

    public void Dispose() => Model.Dispose();
}
