using SharpClip.Generation.Diffusion;
using SharpClip.Generation.Diffusion.Diffusers;
using SharpClip.Generation.Diffusion.Sampling;
using SharpClip.Text;

namespace SharpClip.Cli;

/// <summary><c>convert</c> for a Stable Diffusion checkpoint: a diffusers folder (SharpClip's folder for SD).</summary>
public static class DiffusionConvert
{
    public static int Run(string source, string destination, string? vocab, string? prediction, bool overwrite)
    {
        using var sd = StableDiffusionCheckpoint.Open(source, new StableDiffusionConfig
            { Prediction = prediction is { } p ? PredictionNames.Parse(p, "--prediction") : null });
        var bundled = vocab ?? ClipTokenizer.FindDefaultVocab();
        DiffusersFolderWriter.Write(sd, destination, bundled, overwrite);
        Console.WriteLine($"{source} (Stable Diffusion, {sd.Format}) -> {destination} (diffusers folder, prediction {sd.Prediction.Name()})");
        if (bundled is null && sd.TokenizerPath is null)
            Console.Error.WriteLine("note: no vocabulary bundled (no tokenizer/); pass --vocab to convert to bundle one");
        return 0;
    }
}
