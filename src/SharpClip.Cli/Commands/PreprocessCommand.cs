using SharpClip.Files;
using System.CommandLine;
using SharpClip.Checkpoints;
using SharpClip.Vision;

namespace SharpClip.Cli.Commands;

/// <summary><c>sharpclip preprocess IMAGE [--size N] [--config preprocessor_config.json] --output FILE(.png|.safetensors)</c>: what the model would see.</summary>
public static class PreprocessCommand
{
    public static Command Create()
    {
        var image = new Argument<string>("IMAGE") { Description = "Image file (JPEG, PNG, GIF, BMP, WebP or ICO)." };
        var size = new Option<int?>("--size") { Description = "Model input size N: shorter side resized to N, then an N×N centre crop (default 224, or the config's)." };
        var config = new Option<string?>("--config") { Description = "A Hugging Face preprocessor_config.json supplying size, crop, mean and std." };
        var output = new Option<string>("--output", "-o")
        {
            Description = "Output file: .png = the resized and cropped 8-bit RGB image; .safetensors = pixel_values, float32 [3, N, N].",
            Required = true,
        };
        var cmd = new Command("preprocess", "Apply CLIP's image preprocessing and write what the model would see.");
        cmd.Arguments.Add(image);
        cmd.Options.Add(size);
        cmd.Options.Add(config);
        cmd.Options.Add(output);
        cmd.SetAction(parseResult => CliErrors.Guard(() =>
        {
            string path = parseResult.GetValue(image)!, outPath = parseResult.GetValue(output)!;
            var preprocessing = parseResult.GetValue(config) is { } cfg ? PreprocessingInfo.ReadHuggingFace(cfg) : new PreprocessingInfo();
            if (parseResult.GetValue(size) is { } n) preprocessing = preprocessing with { ResizeShortestEdge = n, CropSize = n };
            string ext = Path.GetExtension(outPath).ToLowerInvariant();
            if (ext is not (".png" or ".safetensors"))
                throw new ArgumentException($"--output {outPath}: the extension must be .png or .safetensors");

            var processor = new ClipImageProcessor(preprocessing);
            var rgb = processor.ResizeAndCrop(path);
            if (ext == ".png")
                rgb.SavePng(outPath);
            else
                SafeTensorsWriter.Write(outPath, new Dictionary<string, SafeTensorsWriter.Entry>
                {
                    ["pixel_values"] = SafeTensorsWriter.FromFloats(processor.Normalize(rgb), 3, rgb.Height, rgb.Width),
                }, new Dictionary<string, string> { ["source"] = Path.GetFileName(path) });
            Console.WriteLine($"{path} -> {outPath} ({rgb.Width}x{rgb.Height})");
            return 0;
        }));
        return cmd;
    }
}
