using System.CommandLine;
using SharpClip.Generation.TextToImage;

namespace SharpClip.Cli.Commands;

/// <summary>
/// <c>sharpclip generate -m MODEL "a prompt" -o DIR [...]</c>: images from a caption with whatever generator the model
/// is (Stable Diffusion checkpoint or DALL-E folder), PNGs plus generation.json, optionally reranked by a CLIP model
/// (then also a contact sheet of every candidate in rank order).
/// </summary>
public static class GenerateCommand
{
    public static Command Create()
    {
        var flags = new GenerateFlags();
        var cmd = new Command("generate", "Generate images from a prompt with a Stable Diffusion checkpoint (text-to-image or img2img) or a DALL-E model folder; writes PNGs and a JSON of every parameter; --rerank-model keeps CLIP's best.");
        flags.AddTo(cmd);
        cmd.SetAction(parse => CliErrors.Guard(() =>
        {
            var request = flags.Request(parse);
            string output = parse.GetValue(flags.Output)!;
            using var ctrlC = new CtrlC();
            using var generator = TextToImageGenerators.Open(parse.GetValue(flags.Model)!, flags.LoadOptions(parse));
            generator.Resolve(request); // refuse bad sizes, samplers, strengths before loading a judge
            var rerank = flags.Rerank(parse, request.Count);
            try
            {
                TextToImageRunResult result;
                using (var progress = new ConsoleProgress(generator.ProgressUnit, generator.ProgressTotal(request)))
                    result = TextToImageRun.Run(generator, request, output, parse.GetValue(flags.InitImage), rerank, progress, ctrlC.Token);
                foreach (var image in result.Images)
                    Console.WriteLine(image.Cosine is { } c ? $"{image.File}  seed {image.Seed}  cosine {c:F4}" : $"{image.File}  seed {image.Seed}");
                if (result.ContactSheetPath is { } sheet) Console.WriteLine(sheet);
                Console.WriteLine(result.RecordPath);
                return 0;
            }
            finally
            {
                rerank?.Clip.Dispose();
            }
        }));
        return cmd;
    }
}
