using System.CommandLine;
using SharpClip.Checkpoints;
using SharpClip.Generation.Diffusion;
using SharpClip.Text;

namespace SharpClip.Cli.Commands;

/// <summary><c>sharpclip convert SRC DST [--format sharpclip|huggingface] [--vocab F]</c>: any readable checkpoint to a model folder
/// (a Stable Diffusion checkpoint to a diffusers folder, SharpClip's folder for it).</summary>
public static class ConvertCommand
{
    public static Command Create()
    {
        var source = new Argument<string>("SRC") { Description = "Checkpoint to read (any supported format)." };
        var destination = new Argument<string>("DST") { Description = "Folder to write." };
        var format = new Option<string>("--format") { Description = "sharpclip (native folder) or huggingface (transformers CLIPModel folder; ViT only).", DefaultValueFactory = _ => "sharpclip" };
        var vocab = new Option<string?>("--vocab") { Description = "Vocabulary to bundle when the source carries none." };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace DST if it exists." };
        var prediction = new Option<string?>("--prediction") { Description = "Stable Diffusion: what the U-Net predicts, epsilon or v (a single file does not say), recorded in the folder." };
        var cmd = new Command("convert", "Convert a checkpoint into a SharpClip model folder (or a Hugging Face folder).");
        cmd.Arguments.Add(source);
        cmd.Arguments.Add(destination);
        cmd.Options.Add(format);
        cmd.Options.Add(vocab);
        cmd.Options.Add(overwrite);
        cmd.Options.Add(prediction);
        cmd.SetAction(parse => CliErrors.Guard(() =>
        {
            string src = parse.GetValue(source)!, dst = parse.GetValue(destination)!;
            if (StableDiffusionCheckpoint.Recognizes(src))
                return DiffusionConvert.Run(src, dst, parse.GetValue(vocab), parse.GetValue(prediction), parse.GetValue(overwrite));
            using var ckpt = CheckpointLoader.Read(src, new CheckpointReadOptions { VocabPath = parse.GetValue(vocab) });
            var config = ckpt.ResolvedConfig;
            var pre = ckpt.ResolvedPreprocessing;
            switch (parse.GetValue(format)!.ToLowerInvariant())
            {
                case "sharpclip":
                    ClipModelFolder.Write(dst, config, ckpt.StateDict, ckpt.VocabPath, pre, ckpt.MergesPath, parse.GetValue(overwrite));
                    break;
                case "huggingface" or "hf":
                    // An OpenAI vocabulary is written out as transformers' tokenizer files; a Hugging Face one is copied.
                    var openAiVocabulary = ckpt.VocabPath is not null && ckpt.MergesPath is null ? BpeVocabulary.Load(ckpt.VocabPath) : null;
                    HuggingFaceClipFolder.Write(dst, config, ckpt.StateDict, pre, ckpt.MergesPath is null ? null : ckpt.VocabPath, ckpt.MergesPath,
                        parse.GetValue(overwrite), openAiVocabulary);
                    break;
                default:
                    throw new ArgumentException($"--format {parse.GetValue(format)}: expected sharpclip or huggingface");
            }
            Console.WriteLine($"{src} ({ckpt.SourceFormat}) -> {dst}");
            if (ckpt.VocabPath is null) Console.Error.WriteLine("note: no vocabulary bundled; text verbs will need --vocab (pass --vocab to convert to bundle one)");
            return 0;
        }));
        return cmd;
    }
}
