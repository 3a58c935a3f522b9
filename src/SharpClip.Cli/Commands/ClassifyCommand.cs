using SharpClip.ZeroShot;
using System.CommandLine;
using System.Text.Json;
using SharpClip.Evaluation;

namespace SharpClip.Cli.Commands;

/// <summary>
/// <c>sharpclip classify --model M --labels "a,b,c" | --labels-file F [--templates imagenet|FILE] IMAGE...</c>:
/// zero-shot classification with prompt ensembling; top-k classes with probabilities per image.
/// </summary>
public static class ClassifyCommand
{
    public static Command Create()
    {
        var model = new ModelOptions();
        var labels = new Option<string?>("--labels") { Description = "Comma-separated class names." };
        var labelsFile = new Option<string?>("--labels-file") { Description = "Class names, one per line." };
        var templates = new Option<string?>("--templates")
        {
            Description = "Prompt templates with {} for the class: 'imagenet' (the paper's 80, from clip_prompts.json), a JSON/text file, or one template inline. Default: 'a photo of a {}.'",
        };
        var dataset = new Option<string?>("--dataset") { Description = "Which dataset's templates to use from a multi-dataset prompts file (default ImageNet)." };
        var top = new Option<int>("--top", "-k") { Description = "Classes shown per image.", DefaultValueFactory = _ => 5 };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a table." };
        var images = new Argument<string[]>("IMAGE") { Description = "Image files or folders.", Arity = ArgumentArity.OneOrMore };
        var cmd = new Command("classify", "Zero-shot classification: which of the given labels fits each image best.");
        model.AddTo(cmd);
        cmd.Options.Add(labels);
        cmd.Options.Add(labelsFile);
        cmd.Options.Add(templates);
        cmd.Options.Add(dataset);
        cmd.Options.Add(top);
        cmd.Options.Add(json);
        cmd.Arguments.Add(images);
        cmd.SetAction(parse => CliErrors.Guard(() =>
        {
            var classNames = ReadLabels(parse.GetValue(labels), parse.GetValue(labelsFile));
            var prompts = ResolveTemplates(parse.GetValue(templates), parse.GetValue(dataset));
            var files = ImageInputs.Expand(parse.GetValue(images) ?? []);
            int k = Math.Clamp(parse.GetValue(top), 1, classNames.Count);

            using var pipeline = model.Load(parse);
            using var classifier = pipeline.BuildClassifier(classNames, prompts);
            IReadOnlyList<Pipelines.EmbeddingResult> results;
            using (var progress = new ConsoleProgress("images", files.Count)) results = pipeline.EmbedImages(files, true, progress);
            var good = results.Where(r => r.Succeeded).ToList();
            var output = new List<object>();
            if (good.Count > 0)
            {
                using var features = TorchSharp.torch.tensor(good.SelectMany(r => r.Vector!).ToArray(), [good.Count, pipeline.EmbeddingDimension]);
                using var probs = classifier.Predict(features);
                var p = probs.data<float>().ToArray();
                for (int i = 0; i < good.Count; i++)
                {
                    var row = Enumerable.Range(0, classNames.Count).Select(c => (Label: classNames[c], P: p[i * classNames.Count + c]))
                        .OrderByDescending(x => x.P).Take(k).ToList();
                    output.Add(new { file = good[i].Source, top = row.Select(x => new { label = x.Label, probability = x.P }) });
                    if (!parse.GetValue(json))
                    {
                        Console.WriteLine(good[i].Source);
                        foreach (var (label, prob) in row) Console.WriteLine($"  {prob,7:P2}  {label}");
                    }
                }
            }
            foreach (var f in results.Where(r => !r.Succeeded)) Console.Error.WriteLine($"skipped {f.Source}: {f.Error}");
            if (parse.GetValue(json))
                Console.WriteLine(JsonSerializer.Serialize(new { templates = prompts.Templates.Count, classes = classNames.Count, results = output },
                    new JsonSerializerOptions { WriteIndented = true }));
            return results.Any(r => !r.Succeeded) ? EmbedCommand.SomeInputsFailed : 0;
        }));
        return cmd;
    }

    internal static List<string> ReadLabels(string? inline, string? file)
    {
        if ((inline is null) == (file is null)) throw new ArgumentException("give exactly one of --labels \"a,b,c\" or --labels-file FILE");
        var names = inline is not null
            ? inline.Split(',').Select(s => s.Trim())
            : File.Exists(file) ? File.ReadAllLines(file!).Select(s => s.Trim()) : throw new FileNotFoundException($"{file}: no such labels file", file);
        var list = names.Where(s => s.Length > 0).ToList();
        if (list.Count < 2) throw new ArgumentException($"{(inline is not null ? "--labels" : file)}: need at least two class names, got {list.Count}");
        var dup = list.GroupBy(s => s).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new ArgumentException($"{(inline is not null ? "--labels" : file)}: class '{dup.Key}' appears twice");
        return list;
    }

    /// <summary>'imagenet' → the paper's prompts file (CLIP_PROMPTS or shared/prompts/clip_prompts.json); a file; or one inline template.</summary>
    internal static PromptTemplates ResolveTemplates(string? value, string? dataset)
    {
        if (value is null) return PromptTemplates.PhotoOf;
        if (value.Equals("imagenet", StringComparison.OrdinalIgnoreCase))
        {
            var file = FindPromptsFile() ?? throw new FileNotFoundException(
                "--templates imagenet needs the CLIP paper's prompts file clip_prompts.json: set CLIP_PROMPTS to its path or pass --templates FILE");
            return PromptTemplates.Load(file, dataset ?? "ImageNet");
        }
        if (File.Exists(value)) return PromptTemplates.Load(value, dataset);
        if (value.Contains("{}")) return new PromptTemplates([value]);
        throw new FileNotFoundException($"--templates {value}: not 'imagenet', not a file, and not a template containing {{}}");
    }

    static string? FindPromptsFile()
    {
        if (Environment.GetEnvironmentVariable("CLIP_PROMPTS") is { Length: > 0 } env) return env;
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "shared", "prompts", "clip_prompts.json");
                if (File.Exists(candidate)) return candidate;
            }
        return null;
    }
}
