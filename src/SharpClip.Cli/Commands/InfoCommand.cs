using System.CommandLine;
using System.Text.Json;
using SharpClip.Checkpoints;
using SharpClip.Generation.Description;

namespace SharpClip.Cli.Commands;

/// <summary><c>sharpclip info MODEL</c> (or <c>-m MODEL</c>, as every verb takes a model): what a checkpoint is — format, architecture, parameters, dtype, preprocessing;
/// for a text-to-image model (Stable Diffusion, DALL-E, dVAE) its parts as <see cref="GenerativeModelDescription"/> says.</summary>
public static class InfoCommand
{
    public static Command Create()
    {
        var modelPath = new Argument<string?>("MODEL") { Description = "A model folder or weight file.", Arity = ArgumentArity.ZeroOrOne };
        var model = new Option<string?>("--model", "-m") { Description = "The model, as the other verbs take it (instead of MODEL)." };
        var json = new Option<bool>("--json") { Description = "Print JSON." };
        var cmd = new Command("info", "Describe a CLIP checkpoint, a Stable Diffusion checkpoint, a DALL-E model folder or a dVAE without running it.");
        cmd.Arguments.Add(modelPath);
        cmd.Options.Add(model);
        cmd.Options.Add(json);
        cmd.SetAction(parse => CliErrors.Guard(() =>
        {
            string? given = parse.GetValue(modelPath), option = parse.GetValue(model);
            if ((given is null) == (option is null)) throw new ArgumentException("give the model once: sharpclip info MODEL, or sharpclip info -m MODEL");
            var path = (given ?? option)!;
            if (GenerativeModelDescription.Describe(path) is { } generative) return GenerativeInfoPrinter.Print(generative, parse.GetValue(json));
            using var ckpt = CheckpointLoader.Read(path);
            var config = ckpt.ResolvedConfig;
            var dtypes = ckpt.StateDict.Values.Where(t => TorchSharp.torch.is_floating_point(t)).GroupBy(t => t.dtype)
                .ToDictionary(g => g.Key.ToString(), g => g.Sum(t => t.numel()));
            var pre = ckpt.ResolvedPreprocessing;
            var info = new
            {
                path, format = ckpt.SourceFormat,
                architecture = config.IsVisionTransformer ? $"ViT (patch {config.VisionPatchSize}, {config.VisionLayers[0]} layers, width {config.VisionWidth})"
                                                           : $"ModifiedResNet (stages {string.Join("-", config.VisionLayers)}, width {config.VisionWidth})",
                config, parameters = ckpt.ParameterCount, stored_dtypes = dtypes, preprocessing = pre.Summary(),
                vocabulary = ckpt.VocabPath, config_declared = ckpt.Config is not null, dropped_keys = ckpt.DroppedKeys,
            };
            if (parse.GetValue(json)) { Console.WriteLine(JsonSerializer.Serialize(info, new JsonSerializerOptions { WriteIndented = true })); return 0; }
            Console.WriteLine($"{path}\n  format        {info.format}{(info.config_declared ? "" : " (architecture inferred from shapes)")}");
            Console.WriteLine($"  architecture  {info.architecture}, {config.Activation}");
            Console.WriteLine($"  text          {config.TextLayers} layers, width {config.TextWidth}, {config.TextHeads} heads, context {config.ContextLength}, vocab {config.VocabSize}");
            Console.WriteLine($"  embedding     {config.EmbedDim}-d, image {config.ImageResolution}×{config.ImageResolution}");
            Console.WriteLine($"  parameters    {info.parameters:N0}");
            Console.WriteLine($"  stored dtype  {string.Join(", ", dtypes.Select(kv => $"{kv.Key} ({kv.Value:N0} values)"))}");
            Console.WriteLine($"  preprocessing resize shorter side to {pre.ResizeShortestEdge} ({pre.Resample.ToString().ToLowerInvariant()}), crop {pre.CropSize}, mean [{string.Join(", ", pre.Mean)}], std [{string.Join(", ", pre.Std)}]");
            Console.WriteLine($"  vocabulary    {info.vocabulary ?? "(none in the checkpoint: pass --vocab)"}");
            return 0;
        }));
        return cmd;
    }
}
