namespace SharpClip.Bench;

public static class Program
{
    // One line per suite: `dotnet run -c Release --project bench/SharpClip.Bench -- <suite> [args]`.
    static readonly Dictionary<string, Func<string[], int>> Suites = new()
    {
        ["data"] = DataBench.Run,
        ["checkpoints"] = CheckpointBench.Run,
        ["tokenizer"] = TokenizerBench.Run,
        ["preprocess"] = PreprocessBench.Run,
        ["model"] = ModelBench.Run,
        ["onnx"] = OnnxBench.Run,
        ["embed"] = EmbedBench.Run,
        ["onnx-profile"] = OnnxProfileBench.Run,
        ["onnx-batches"] = OnnxBatchBench.Run,
        ["engines"] = EngineBench.Run,
        ["convolutions"] = ConvolutionBench.Run,
        ["products"] = ProductBench.Run,
        ["search"] = SearchBench.Run,
        ["evaluation"] = EvaluationBench.Run,
        ["training"] = TrainingBench.Run,
        ["diffusion"] = DiffusionBench.Run,
        ["diffusion-vae"] = DiffusionVaeBench.Run,
        ["dalle"] = DalleBench.Run,
        ["dvae-quality"] = DvaeQualityBench.Run,
    };

    public static int Main(string[] args)
    {
        SharpClip.Demos.DemoRegistry.RegisterAll(); // the suites train and search on the demo data and the toy encoder
        if (args.Length > 0 && Suites.TryGetValue(args[0], out var run))
        {
            try
            {
                return run(args[1..]);
            }
            catch (Exception e) when (e is ArgumentException or FormatException or IOException or UnauthorizedAccessException or InvalidDataException)
            {
                // A wrong flag or value, a missing, unreadable or undecodable input file: one line naming it, no stack trace.
                Console.Error.WriteLine($"{args[0]}: {e.Message}");
                return 2;
            }
            catch (BenchFailure e)
            {
                Console.Error.WriteLine($"{args[0]}: {e.Message}");  // a contender's process failed and said why
                return 1;
            }
        }
        Console.WriteLine($"usage: SharpClip.Bench <suite> [args]; suites: {string.Join(", ", Suites.Keys)}");
        return 1;
    }
}
