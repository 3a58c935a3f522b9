using SharpClip.Text;

namespace SharpClip.Checkpoints;

/// <summary>
/// Where a checkpoint's tokenizer comes from: the vocabulary it carries (or the one given when it was read), else the
/// default vocabulary (<c>$CLIP_VOCAB</c>, or OpenAI's file beside the application). Paths and a number only, so it
/// outlives the checkpoint's tensors: a pipeline loads the tokenizer on first use, and an image-only job never needs one.
/// </summary>
/// <param name="Checkpoint">The checkpoint's path, named in errors.</param>
/// <param name="VocabPath">OpenAI's <c>bpe_simple_vocab_16e6.txt.gz</c>-style file, a Hugging Face <c>vocab.json</c>
/// when <paramref name="MergesPath"/> is set; null when the checkpoint carries none.</param>
/// <param name="MergesPath">Hugging Face's <c>merges.txt</c> paired with a <c>vocab.json</c>.</param>
/// <param name="ModelVocabSize">Token embeddings the model has: a larger vocabulary would index past them.</param>
public sealed record TokenizerSource(string Checkpoint, string? VocabPath, string? MergesPath, int ModelVocabSize)
{
    /// <summary>This source with the default vocabulary in place of a missing one.</summary>
    /// <exception cref="FileNotFoundException">the checkpoint carries no vocabulary, none was given and there is no default.</exception>
    public TokenizerSource Resolve() => VocabPath is not null ? this : this with
    {
        VocabPath = ClipTokenizer.FindDefaultVocab()
            ?? throw new FileNotFoundException($"{Checkpoint}: carries no tokenizer vocabulary; pass one (--vocab FILE, e.g. {ClipTokenizer.OpenAiVocabFileName}) or set {ClipTokenizer.VocabEnvironmentVariable}"),
        MergesPath = null,
    };

    /// <summary>Loads the tokenizer (see <see cref="Resolve"/>) and checks it fits the model.</summary>
    /// <exception cref="FileNotFoundException">no vocabulary (see <see cref="Resolve"/>).</exception>
    /// <exception cref="InvalidDataException">an unreadable vocabulary, or one with more tokens than the model embeds.</exception>
    public ClipTokenizer Load()
    {
        var files = Resolve();
        string vocab = files.VocabPath!;
        var tokenizer = files.MergesPath is { } merges ? new ClipTokenizer(BpeVocabulary.LoadHuggingFace(vocab, merges)) : ClipTokenizer.Load(vocab);
        if (tokenizer.VocabSize > ModelVocabSize)
            throw new InvalidDataException($"{vocab}: has {tokenizer.VocabSize} tokens but the model at {Checkpoint} embeds only {ModelVocabSize}");
        return tokenizer;
    }
}
