using System.CommandLine;
using System.Text.Json;

namespace SharpClip.Cli.Commands;

/// <summary><c>sharpclip similarity --model M --image I... --text T...</c>: the logits matrix of the reference's forward.</summary>
public static class SimilarityCommand
{
    public static Command Create()
    {
        var model = new ModelOptions();
        var images = new Option<string[]>("--image", "-i") { Description = "Image file (repeatable).", Required = true, AllowMultipleArgumentsPerToken = true };
        var texts = new Option<string[]>("--text", "-t") { Description = "Text (repeatable).", Required = true, AllowMultipleArgumentsPerToken = true };
        var json = new Option<bool>("--json") { Description = "Print JSON: logits_per_image [images][texts] and softmax probabilities over texts." };
        var cmd = new Command("similarity", "Print exp(logit_scale)·cosine between every image and every text, as CLIP's forward does.");
        model.AddTo(cmd);
        cmd.Options.Add(images);
        cmd.Options.Add(texts);
        cmd.Options.Add(json);
        cmd.SetAction(parse => CliErrors.Guard(() =>
        {
            var files = ImageInputs.Expand(parse.GetValue(images)!);
            var textList = parse.GetValue(texts)!;
            using var pipeline = model.Load(parse);
            var results = pipeline.EmbedImages(files);
            var bad = results.FirstOrDefault(r => !r.Succeeded);
            if (bad is not null) throw new InvalidDataException($"{bad.Source}: {bad.Error}");
            using var img = TorchSharp.torch.tensor(results.SelectMany(r => r.Vector!).ToArray(), [files.Count, pipeline.EmbeddingDimension]);
            using var txt = pipeline.EmbedTexts(textList);
            using var logits = pipeline.Logits(img, txt);
            using var probs = logits.softmax(-1);
            var l = logits.data<float>().ToArray();
            var p = probs.data<float>().ToArray();
            int t = textList.Length;
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    images = files, texts = textList,
                    logits_per_image = Enumerable.Range(0, files.Count).Select(i => l.Skip(i * t).Take(t)),
                    probs = Enumerable.Range(0, files.Count).Select(i => p.Skip(i * t).Take(t)),
                }, new JsonSerializerOptions { WriteIndented = true }));
                return 0;
            }
            Console.WriteLine("logits (rows: images, columns: texts; softmax over texts in brackets)");
            for (int j = 0; j < t; j++) Console.WriteLine($"  [{j}] {textList[j]}");
            for (int i = 0; i < files.Count; i++)
                Console.WriteLine($"{files[i]}\n   " + string.Join("  ", Enumerable.Range(0, t).Select(j => $"[{j}] {l[i * t + j],8:F3} ({p[i * t + j]:P1})")));
            return 0;
        }));
        return cmd;
    }
}
