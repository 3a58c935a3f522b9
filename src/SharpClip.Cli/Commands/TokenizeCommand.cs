using System.CommandLine;
using System.Text;
using SharpClip.Checkpoints;
using SharpClip.Text;

namespace SharpClip.Cli.Commands;

/// <summary>
/// <c>sharpclip tokenize [-m MODEL | --vocab FILE] [--context-length N] [--truncate] [--] TEXT...</c>: one JSON array of
/// ids per text, with a model's own tokenizer and context length or a vocabulary file's.
/// </summary>
public static class TokenizeCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model", "-m") { Description = "Tokenize as this model does: its vocabulary (or --vocab) and its context length." };
        var vocab = new Option<string?>("--vocab")
        {
            Description = $"Vocabulary: OpenAI's {ClipTokenizer.OpenAiVocabFileName}, a Hugging Face tokenizer.json, vocab.json (with merges.txt beside it) or a folder. " +
                          $"Default: the model's, else ${ClipTokenizer.VocabEnvironmentVariable}, else {ClipTokenizer.OpenAiVocabFileName} next to sharpclip.",
        };
        var contextLength = new Option<int?>("--context-length")
        {
            Description = $"Tokens per text, start and end tokens included. Default: the model's, else {ClipTokenizer.DefaultContextLength}.",
        };
        var truncate = new Option<bool>("--truncate") { Description = "Cut texts that do not fit (the end token stays last) instead of failing." };
        var texts = new Argument<string[]>("TEXT") { Description = "Texts to tokenize (use -- before texts that start with '-').", Arity = ArgumentArity.OneOrMore };

        var cmd = new Command("tokenize", "Print CLIP token ids for each text as a JSON array, one line per text, in order.");
        foreach (var o in new Option[] { model, vocab, contextLength, truncate }) cmd.Options.Add(o);
        cmd.Arguments.Add(texts);
        cmd.SetAction(parseResult => CliErrors.Guard(() =>
        {
            var (tokenizer, modelContext) = Load(parseResult.GetValue(model), parseResult.GetValue(vocab));
            int context = parseResult.GetValue(contextLength) ?? modelContext ?? ClipTokenizer.DefaultContextLength;
            var rows = tokenizer.TokenizeToArrays(parseResult.GetValue(texts) ?? [], context, parseResult.GetValue(truncate));
            var output = new StringBuilder();
            foreach (var row in rows) output.Append('[').AppendJoin(",", row).Append(']').Append('\n');
            Console.Out.Write(output.ToString());
            return 0;
        }));
        return cmd;
    }

    /// <summary>The model's tokenizer and context length (checked against its embeddings), or a vocabulary file's tokenizer.</summary>
    static (ClipTokenizer Tokenizer, int? ContextLength) Load(string? model, string? vocab)
    {
        if (model is not null)
        {
            using var checkpoint = CheckpointLoader.Read(model, new CheckpointReadOptions { VocabPath = vocab });
            return (checkpoint.TokenizerSource.Load(), checkpoint.ResolvedConfig.ContextLength);
        }
        var path = vocab ?? ClipTokenizer.FindDefaultVocab()
            ?? throw new FileNotFoundException(
                $"no vocabulary given: pass -m MODEL, --vocab FILE (e.g. {ClipTokenizer.OpenAiVocabFileName}) or set {ClipTokenizer.VocabEnvironmentVariable}");
        return (ClipTokenizer.Load(path), null);
    }
}
