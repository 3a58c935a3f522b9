using System.Text.Json.Nodes;
using SharpClip.Checkpoints;
using SharpClip.Tests.Infrastructure;
using SharpClip.Tests.Search;
using SharpClip.Vision;

namespace SharpClip.Tests.Checkpoints;

/// <summary>
/// A Hugging Face folder (written from the first ViT fixture model) whose config.json is then edited the way a careless
/// or hostile file would be: every case is one error naming the file and the field, within a deadline, with no
/// unbounded allocation, through the library and through the CLI's <c>info</c>.
/// </summary>
public class HostileConfigTests
{
    static string HuggingFaceFolder(TempDir tmp, Action<JsonObject> edit)
    {
        var vit = Fixtures.Array("models").First(m => m.GetProperty("architecture").GetString() == "vit");
        using var source = CheckpointLoader.Read(Fixtures.PathOf(vit.GetProperty("weights").GetString()!));
        var dir = Path.Combine(tmp.Path, "hf");
        HuggingFaceClipFolder.Write(dir, source.ResolvedConfig, source.StateDict, PreprocessingInfo.ForResolution(source.ResolvedConfig.ImageResolution));
        var configPath = Path.Combine(dir, "config.json");
        var json = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        edit(json);
        File.WriteAllText(configPath, json.ToJsonString());
        return dir;
    }

    public static IEnumerable<object[]> Cases =>
    [
        ["text_config", "num_hidden_layers", "1000000000", "declares 1,000,000,000 text transformer layers"],
        ["vision_config", "num_hidden_layers", "100000", "declares 100,000 vision transformer layers"],
        ["text_config", "hidden_size", "128.5", "'text_config.hidden_size'"],
        ["vision_config", "patch_size", "\"8\"", "'vision_config.patch_size'"],
        ["text_config", "layer_norm_eps", "\"x\"", "'text_config.layer_norm_eps'"],
        ["vision_config", "hidden_act", "7", "'vision_config.hidden_act'"],
        ["text_config", "num_attention_heads", "-2", "'text_config.num_attention_heads'"],
        ["text_config", "vocab_size", "1e30", "'text_config.vocab_size'"],
    ];

    [Theory, MemberData(nameof(Cases))]
    public async Task EachBadFieldIsOneErrorNamingFileAndField(string section, string field, string value, string expected)
    {
        using var tmp = new TempDir();
        var dir = HuggingFaceFolder(tmp, json => json[section]![field] = JsonNode.Parse(value));
        var task = Task.Run(() => CheckpointLoader.Read(dir).Dispose());
        Assert.True(await Task.WhenAny(task, Task.Delay(TimeSpan.FromSeconds(60))) == task, "hang");
        var e = Assert.IsType<InvalidDataException>(task.Exception?.InnerException);
        Assert.Contains(expected, e.Message);
        Assert.Contains(dir, e.Message);

        var (exit, _, err) = CliProcess.Run("info", dir);
        Assert.NotEqual(0, exit);
        Assert.Contains(expected, err);
        Assert.DoesNotContain("   at ", err);
    }
}
