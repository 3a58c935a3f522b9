using System.CommandLine;
using System.Text.Json;
using SharpClip.Scoring;
using SharpClip.ZeroShot;

namespace SharpClip.Cli.Commands;

/// <summary>
/// <c>sharpclip classify --model M --labels "a,b,c" | --labels-file F [--templates imagenet|FILE] IMAGE...</c>:
/// zero-shot classification with prompt ensembling (<see cref="FileClassifier"/>); top-k classes with probabilities per image.
/// </summary>
public static class ClassifyCommand
{
    public static Command Create()
    {
        var model = new ModelOptions();
        var labels = new LabelOptions();
        var templates = PromptOptions.Templates("'a photo of a {}.'");
        var dataset = PromptOptions.RetiredDatasetPicker("--dataset");
        var top = new Option<int>("--top", "-k") { Description = "Classes shown per image.", DefaultValueFactory = _ => 5 };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a table." };
        var images = new Argument<string[]>("IMAGE") { Description = "Image files or folders.", Arity = ArgumentArity.OneOrMore };
        var cmd = new Command("classify", "Zero-shot classification: which of the given labels fits each image best.");
        model.AddTo(cmd);
        labels.AddTo(cmd);
        foreach (var o in new Option[] { templates, dataset, top, json }) cmd.Options.Add(o);
        cmd.Arguments.Add(images);
        cmd.SetAction(parse => CliErrors.Guard(() =>
        {
            var classNames = labels.Read(parse);
            var prompts = PromptTemplates.Resolve(parse.GetValue(templates), parse.GetValue(dataset)) ?? PromptTemplates.PhotoOf;
            var files = ImageInputs.Expand(parse.GetValue(images) ?? []);

            using var pipeline = model.Load(parse);
            ClassificationResult result;
            using (var progress = new ConsoleProgress("images", files.Count))
                result = FileClassifier.Classify(pipeline, files, classNames, prompts, parse.GetValue(top), progress);
            if (!parse.GetValue(json))
                foreach (var image in result.Images)
                {
                    Console.WriteLine(image.Source);
                    foreach (var c in image.Top) Console.WriteLine($"  {c.Probability,7:P2}  {c.Label}");
                }
            foreach (var f in result.Failed) Console.Error.WriteLine($"skipped {f.Source}: {f.Error}");
            if (parse.GetValue(json))
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    templates = result.TemplateCount, classes = result.ClassCount,
                    results = result.Images.Select(i => new { file = i.Source, top = i.Top.Select(c => new { label = c.Label, probability = c.Probability }) }),
                }, new JsonSerializerOptions { WriteIndented = true }));
            return result.Failed.Count > 0 ? ExitCodes.SomeInputsFailed : ExitCodes.Success;
        }));
        return cmd;
    }
}
