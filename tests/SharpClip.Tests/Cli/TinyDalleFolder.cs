using SharpClip.Generation.Dalle.Training;

namespace SharpClip.Tests.Cli;

/// <summary>
/// A tiny DALL-E trained in a few seconds (16 px images → a 4×4 token grid, as the DALL-E training run tests make
/// one), shared by the tests of its class. Its own file, with the dVAE config it trains first, so the web tests link
/// it (SharpClip.Web.Tests) rather than copy it.
/// </summary>
public sealed class TinyDalleFolder : IDisposable
{
    /// <summary>The configured image side (the config below), which every generated PNG must have.</summary>
    public const int ImageSide = 16;

    readonly TempDir _dir = new();

    public TinyDalleFolder()
    {
        var dvae = DvaeTrainer.Run(DvaeTrainingConfig.Load(DvaeConfig(_dir, "dvae", 2))).OutputDirectory;
        var config = _dir.File("dalle.json", $$"""
            {
              "dvae": "{{dvae}}", "image_size": {{ImageSide}}, "text_length": 12, "width": 32, "layers": 2, "heads": 2, "vocab_size": 600,
              "data": "synthetic:shapes:train",
              "data_options": { "synthetic": { "image_size": {{ImageSide}}, "supersampling": 1, "train_count": 24, "validation_count": 8 } },
              "batch_size": 8, "steps": 2, "warmup_steps": 1, "workers": 1, "save_every": 2,
              "output": "{{Path.Combine(_dir.Path, "dalle")}}"
            }
            """);
        Folder = DalleTrainer.Run(DalleTrainingConfig.Load(config)).OutputDirectory;
    }

    public string Folder { get; }

    /// <summary>A tiny dVAE training config (16 px synthetic shapes, 32 codes) written into <paramref name="dir"/>.</summary>
    public static string DvaeConfig(TempDir dir, string name, int steps, string extra = "") => dir.File(name + ".json", $$"""
        {
          "image_size": 16, "group_count": 3, "hidden_width": 16, "initial_width": 16, "blocks_per_group": 1, "vocab_size": 32,
          "data": "synthetic:shapes:train",
          "data_options": { "synthetic": { "image_size": 16, "supersampling": 1, "train_count": 48, "validation_count": 8 } },
          "batch_size": 8, "steps": {{steps}}, "warmup_steps": 2, "kl_warmup_steps": 4, "dead_code_window": 3,
          "workers": 1, "save_every": 3, "output": "{{Path.Combine(dir.Path, name)}}" {{extra}}
        }
        """);

    public void Dispose() => _dir.Dispose();
}
