using System.CommandLine;
using SharpClip.Export;

namespace SharpClip.Cli.Commands;

/// <summary><c>sharpclip embed --model M (IMAGE|FOLDER)... [--text T]... --output FILE</c>: image and text embeddings to a file.</summary>
public static class EmbedCommand
{
    public static Command Create()
    {
        var model = new ModelOptions();
        var images = new Argument<string[]>("IMAGE") { Description = "Image files or folders (walked recursively).", Arity = ArgumentArity.ZeroOrMore };
        var texts = new Option<string[]>("--text", "-t") { Description = "A text to embed (repeatable).", AllowMultipleArgumentsPerToken = true };
        var output = new Option<string>("--output", "-o") { Description = ".safetensors (image_embeddings [N,D], text_embeddings [M,D]), .npy or .jsonl.", Required = true };
        var raw = new Option<bool>("--raw") { Description = "Write the projections as they are, without L2 normalisation." };
        var truncate = new Option<bool>("--truncate") { Description = "Cut texts longer than the context instead of failing." };
        var cmd = new Command("embed", "Embed images and texts with a CLIP model and write the embeddings.");
        model.AddTo(cmd);
        cmd.Arguments.Add(images);
        cmd.Options.Add(texts);
        cmd.Options.Add(output);
        cmd.Options.Add(raw);
        cmd.Options.Add(truncate);
        cmd.SetAction(parse => CliErrors.Guard(() =>
        {
            var files = ImageInputs.Expand(parse.GetValue(images) ?? []);
            var textList = parse.GetValue(texts) ?? [];
            if (files.Count == 0 && textList.Length == 0) throw new ArgumentException("nothing to embed: give images, folders or --text");
            string outPath = parse.GetValue(output)!;
            if (Path.GetExtension(outPath).ToLowerInvariant() is not (".safetensors" or ".npy" or ".jsonl"))
                throw new ArgumentException($"--output {outPath}: the extension must be .safetensors, .npy or .jsonl");
            bool normalize = !parse.GetValue(raw);

            using var pipeline = model.Load(parse);
            var textRows = new List<EmbeddingWriter.Row>();
            if (textList.Length > 0)
            {
                using var t = pipeline.EmbedTexts(textList, normalize, parse.GetValue(truncate));
                var flat = t.data<float>().ToArray();
                int d = pipeline.EmbeddingDimension;
                for (int i = 0; i < textList.Length; i++) textRows.Add(new("text", textList[i], flat.AsSpan(i * d, d).ToArray()));
            }
            var results = Array.Empty<Pipelines.EmbeddingResult>() as IReadOnlyList<Pipelines.EmbeddingResult>;
            if (files.Count > 0)
            {
                using var progress = new ConsoleProgress("images", files.Count);
                results = pipeline.EmbedImages(files, normalize, progress);
            }
            var failed = results.Where(r => !r.Succeeded).ToList();
            foreach (var f in failed) Console.Error.WriteLine($"skipped {f.Source}: {f.Error}");
            var imageRows = results.Where(r => r.Succeeded).Select(r => new EmbeddingWriter.Row("image", r.Source, r.Vector!)).ToList();
            EmbeddingWriter.Write(outPath, imageRows, textRows);
            Console.Error.WriteLine($"wrote {imageRows.Count} image and {textRows.Count} text embeddings ({pipeline.EmbeddingDimension}-d) to {outPath}" +
                                    (failed.Count > 0 ? $"; {failed.Count} image(s) failed" : ""));
            return failed.Count > 0 ? ExitCodes.SomeInputsFailed : ExitCodes.Success;
        }));
        return cmd;
    }
}
