using System.CommandLine;
using System.Text;
using SharpClip.Text;

namespace SharpClip.Cli.Commands;

/// <summary><c>sharpclip tokenize [--vocab FILE] [--context-length N] [--truncate] [--] TEXT...</c>: one JSON array of ids per text.</summary>
public static class TokenizeCommand
{
    public static Command Create()
    {
        var vocab = new Option<string?>("--vocab")
        {
            Description = $"Vocabulary: OpenAI's {ClipTokenizer.OpenAiVocabFileName}, a Hugging Face tokenizer.json, vocab.json (with merges.txt beside it) or a folder. " +
                          $"Default: ${ClipTokenizer.VocabEnvironmentVariable}, else {ClipTokenizer.OpenAiVocabFileName} next to sharpclip.",
        };
        var contextLength = new Option<int>("--context-length")
        {
            Description = "Tokens per text, start and end tokens included.",
            DefaultValueFactory = _ => ClipTokenizer.DefaultContextLength,
        };
        var truncate = new Option<bool>("--truncate") { Description = "Cut texts that do not fit (the end token stays last) instead of failing." };
        var texts = new Argument<string[]>("TEXT") { Description = "Texts to tokenize (use -- before texts that start with '-').", Arity = ArgumentArity.OneOrMore };

        var cmd = new Command("tokenize", "Print CLIP token ids for each text as a JSON array, one line per text, in order.");
        cmd.Options.Add(vocab);
        cmd.Options.Add(contextLength);
        cmd.Options.Add(truncate);
        cmd.Arguments.Add(texts);
        cmd.SetAction(parseResult => CliErrors.Guard(() =>
        {
            var path = parseResult.GetValue(vocab) ?? ClipTokenizer.FindDefaultVocab()
                ?? throw new FileNotFoundException(
                    $"no vocabulary given: pass --vocab FILE (e.g. {ClipTokenizer.OpenAiVocabFileName}) or set {ClipTokenizer.VocabEnvironmentVariable}");
            var tokenizer = ClipTokenizer.Load(path);
            var rows = tokenizer.TokenizeToArrays(parseResult.GetValue(texts) ?? [], parseResult.GetValue(contextLength), parseResult.GetValue(truncate));
            var output = new StringBuilder();
            foreach (var row in rows) output.Append('[').AppendJoin(",", row).Append(']').Append('\n');
            Console.Out.Write(output.ToString());
            return 0;
        }));
        return cmd;
    }
}
