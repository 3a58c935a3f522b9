using SharpClip.Files;
using SharpClip.Generation.Dalle.Sampling;
using SharpClip.Generation.Dalle.Transformer;
using SharpClip.Modeling;
using SharpClip.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Generation.Dalle;

/// <summary>
/// A trained DALL-E: the transformer, the caption tokenizer it was trained with and (when the folder has one) the
/// dVAE that turns its tokens into pixels. A model folder holds <c>dalle_config.json</c>, <c>dalle.safetensors</c>,
/// <c>bpe_vocab.txt.gz</c> and <c>dvae/</c> (<c>encoder.safetensors</c>, <c>decoder.safetensors</c>).
/// </summary>
/// <example>
/// <code>
/// using var dalle = DalleModel.Load("runs/dalle");
/// using var tokens = dalle.Sample(["a red circle"], 8, new SamplingOptions { TopK = 64 }, new torch.Generator(42));
/// using var images = dalle.Dvae!.Decode(tokens);     // images.Image: [8, 3, 32, 32]
/// </code>
/// </example>
public sealed class DalleModel : IDisposable
{
    public const string ConfigFile = "dalle_config.json";
    public const string WeightsFile = "dalle.safetensors";
    public const string VocabFile = "bpe_vocab.txt.gz";
    public const string DvaeFolder = "dvae";

    public DalleModel(DalleTransformer transformer, ClipTokenizer tokenizer, DiscreteVae? dvae)
    {
        if (tokenizer.VocabSize != transformer.Config.TextVocabSize)
            throw new ArgumentException($"the tokenizer has {tokenizer.VocabSize} tokens, the transformer was built for {transformer.Config.TextVocabSize}");
        if (dvae is not null && dvae.VocabSize != transformer.Config.ImageVocabSize)
            throw new ArgumentException($"the dVAE has {dvae.VocabSize} codes, the transformer was built for {transformer.Config.ImageVocabSize}");
        Transformer = transformer;
        Tokenizer = tokenizer;
        Dvae = dvae;
    }

    public DalleTransformer Transformer { get; }
    public ClipTokenizer Tokenizer { get; }
    public DiscreteVae? Dvae { get; }
    public DalleConfig Config => Transformer.Config;

    /// <summary>Whether <paramref name="folder"/> looks like a DALL-E model folder (for verbs that take several kinds of model).</summary>
    public static bool IsModelFolder(string folder) => File.Exists(Path.Combine(folder, ConfigFile));

    /// <summary>Loads a model folder; every problem is one error naming the file (and key).</summary>
    public static DalleModel Load(string folder)
    {
        if (!IsModelFolder(folder)) throw new FileNotFoundException($"{folder}: not a DALL-E model folder (no {ConfigFile})");
        var config = DalleConfig.Load(Path.Combine(folder, ConfigFile));
        var vocab = Path.Combine(folder, VocabFile);
        if (!File.Exists(vocab)) throw new FileNotFoundException($"{folder}: no {VocabFile}");
        var tokenizer = ClipTokenizer.Load(vocab);
        var transformer = UninitializedWeights.Build(() => new DalleTransformer(config));
        try
        {
            var weights = Path.Combine(folder, WeightsFile);
            if (!File.Exists(weights)) throw new FileNotFoundException($"{folder}: no {WeightsFile}");
            using (var file = SafeTensorsFile.Open(weights))
            {
                StateDictLoader.Load(transformer, StateDictLoader.Entries(file), key => file.ReadTensor(key), weights);   // shapes from the header
            }
            transformer.eval();
            var dvaeFolder = Path.Combine(folder, DvaeFolder);
            var dvae = Directory.Exists(dvaeFolder) ? DiscreteVae.Load(dvaeFolder) : null;
            try { return new DalleModel(transformer, tokenizer, dvae); }
            catch (ArgumentException e)
            {
                dvae?.Dispose();
                throw new InvalidDataException($"{folder}: {e.Message}", e);
            }
        }
        catch
        {
            transformer.Dispose();
            throw;
        }
    }

    /// <summary>Writes a model folder's transformer files (config, weights, vocabulary); the dVAE is written by its trainer.</summary>
    public static void WriteFolder(string folder, DalleConfig config, IReadOnlyDictionary<string, Tensor> weights, BpeVocabulary vocabulary)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, ConfigFile), config.ToJson() + "\n");
        SafeTensorsWriter.Write(Path.Combine(folder, WeightsFile), weights);
        vocabulary.SaveOpenAi(Path.Combine(folder, VocabFile));
    }

    /// <summary>
    /// <paramref name="candidatesPerCaption"/> token grids for each caption, decoded in batches of
    /// <see cref="SamplingOptions.BatchSize"/> sequences with the key/value cache. Candidates of caption c are rows
    /// c·n … c·n + n − 1. The generator is the only randomness: the same seed and options give the same tokens.
    /// </summary>
    /// <returns>[captions · n, rows, columns] int64 image codes (decode them with <see cref="Dvae"/>).</returns>
    public Tensor Sample(IReadOnlyList<string> captions, int candidatesPerCaption, SamplingOptions options, Generator generator,
        IProgress<SamplingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (captions.Count == 0) throw new ArgumentException("no captions");
        ArgumentOutOfRangeException.ThrowIfLessThan(candidatesPerCaption, 1);
        options.Validate();
        var ids = DalleText.Tokenize(Tokenizer, captions, Config.TextLength);
        var rows = captions.SelectMany((_, c) => Enumerable.Repeat(ids[c], candidatesPerCaption)).ToArray();
        long total = (long)rows.Length * Config.ImageTokens, done = 0;
        Transformer.eval();
        using var scope = NewDisposeScope();
        var batches = new List<Tensor>();
        for (int start = 0; start < rows.Length; start += options.BatchSize)
        {
            int n = Math.Min(options.BatchSize, rows.Length - start);
            var text = torch.tensor(rows.Skip(start).Take(n).SelectMany(r => r).ToArray(), [n, Config.TextLength]);
            long before = done;
            batches.Add(DalleSampler.Sample(Transformer, text, options, generator,
                tokens => progress?.Report(new SamplingProgress(before + (long)tokens * n, total)), cancellationToken));
            done += (long)n * Config.ImageTokens;
        }
        return torch.cat(batches, 0).view(rows.Length, Config.ImageRows, Config.ImageColumns).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        Transformer.Dispose();
        Dvae?.Dispose();
    }
}
