using System.CommandLine;
using SharpClip.Onnx;

namespace SharpClip.Cli.Commands;

/// <summary><c>sharpclip export onnx --model M --output DIR</c>: the towers as ONNX files for deployment elsewhere.</summary>
public static class ExportCommand
{
    public static Command Create()
    {
        var cmd = new Command("export", "Export a model to another runtime's format.");
        cmd.Subcommands.Add(Onnx());
        return cmd;
    }

    static Command Onnx()
    {
        var model = new ModelOptions();
        var output = new Option<string>("--output", "-o") { Description = "Folder for image.onnx, text.onnx, clip_onnx.json and the tokenizer files.", Required = true };
        var cmd = new Command("onnx", "Write the image and text towers as ONNX graphs (opset 17; float32, or int8 linear layers with --precision int8) with the preprocessing and tokenizer a deployer needs.");
        cmd.Options.Add(model.Model); // the weights as stored, in float32: device, precision and engine do not apply
        cmd.Options.Add(model.Vocab);
        cmd.Options.Add(output);
        var precision = new Option<string>("--precision") { Description = "fp32 (standard operators, any ONNX runtime) or int8 (the graphs --precision int8 runs: int8 linear layers, ONNX Runtime only).", DefaultValueFactory = _ => "fp32" };
        cmd.Options.Add(precision);
        cmd.Options.Add(model.Calibration);
        cmd.SetAction(parse => CliErrors.Guard(() =>
        {
            using var pipeline = Pipelines.ClipPipeline.Load(parse.GetValue(model.Model)!, new Pipelines.ClipPipelineOptions
            {
                VocabPath = parse.GetValue(model.Vocab), Engine = Pipelines.InferenceEngine.Torch,
            });
            var quantization = Runtime.ComputeTarget.ParsePrecision(parse.GetValue(precision)!, "--precision") switch
            {
                Runtime.Precision.Float32 => OnnxQuantization.None,
                Runtime.Precision.Int8 => OnnxQuantization.DynamicInt8,
                var p => throw new ArgumentException($"--precision {parse.GetValue(precision)}: export writes fp32 or int8 graphs, not {p}"),
            };
            var tokenizer = TryTokenizer(pipeline);
            string dir = parse.GetValue(output)!;
            var calibration = parse.GetValue(model.Calibration) is { } folder && quantization != OnnxQuantization.None && !pipeline.Config.IsVisionTransformer
                ? ActivationRanges.MeasureFolder(pipeline.Model, pipeline.Processor, folder)
                : null;
            var result = OnnxExport.Write(pipeline.Model, pipeline.Preprocessing, tokenizer, dir, quantization, calibration);
            foreach (var file in result.Files) Console.WriteLine(file);
            Console.Error.WriteLine($"wrote {pipeline.Config} to {dir}: image.onnx {result.ImageBytes / 1e6:F1} MB, text.onnx {result.TextBytes / 1e6:F1} MB" +
                                    (tokenizer is null ? "; no vocabulary (give --vocab to include the tokenizer)" : "") +
                                    (calibration is not null ? $"; int8 convolutions calibrated on {calibration.Images} images" : ""));
            return ExitCodes.Success;
        }));
        return cmd;
    }

    // A bare weight file carries no vocabulary; the graphs are still worth writing, and the message says what is missing.
    static Text.ClipTokenizer? TryTokenizer(Pipelines.ClipPipeline pipeline)
    {
        try { return pipeline.Tokenizer; }
        catch (FileNotFoundException) { return null; }
    }
}
