using System.Text.Json;
using SharpClip.Tests.Infrastructure;
using SharpClip.Tests.Search;
using SharpClip.Tests.Training;

namespace SharpClip.Tests.Cli;

/// <summary>
/// <c>sharpclip info --json</c> on text-to-image models, as a user runs it: the tiny Stable Diffusion fixture and the
/// dVAE fixture halves (parameter counts and architecture checked against the manifest the reference code wrote),
/// and a DALL-E folder trained in the test (checked against the config it was trained from).
/// </summary>
[Collection(TrainerRunsCollection.Name)]
public class InfoGenerativeTests(TinyDalleFolder dalle) : IClassFixture<TinyDalleFolder>
{
    public static IEnumerable<object[]> StableDiffusionModels => GenerativeFixtures.StableDiffusionModelIds();

    static JsonElement Info(string path)
    {
        var (exit, stdout, err) = CliProcess.Run("info", path, "--json");
        Assert.True(exit == 0, err);
        return JsonDocument.Parse(stdout).RootElement.Clone();
    }

    static JsonElement Part(JsonElement info, string name) => info.GetProperty("Parts").EnumerateArray().Single(p => p.GetProperty("Name").GetString() == name);

    static int[] Ints(JsonElement e) => [.. e.EnumerateArray().Select(x => x.GetInt32())];

    [Theory, MemberData(nameof(StableDiffusionModels))]
    public void DescribesAStableDiffusionCheckpoint(string id)
    {
        var m = GenerativeFixtures.StableDiffusionModel(id);
        var info = Info(GenerativeFixtures.PathOf(m.GetProperty("weights").GetString()!));
        Assert.Equal("stable-diffusion", info.GetProperty("Kind").GetString());
        var counts = m.GetProperty("param_count");
        foreach (var part in new[] { "unet", "vae", "text" })
            Assert.Equal(counts.GetProperty(part).GetInt64(), Part(info, part).GetProperty("Parameters").GetInt64());
        Assert.Equal(counts.EnumerateObject().Sum(p => p.Value.GetInt64()), info.GetProperty("TotalParameters").GetInt64());

        var config = m.GetProperty("config");
        var unet = Part(info, "unet").GetProperty("Config");
        var expectedUnet = config.GetProperty("unet");
        foreach (var key in new[] { "in_channels", "out_channels", "model_channels", "num_res_blocks", "transformer_depth", "context_dim", "time_embed_dim" })
            Assert.True(expectedUnet.GetProperty(key).GetInt32() == unet.GetProperty(key).GetInt32(), key);
        Assert.Equal(Ints(expectedUnet.GetProperty("channel_mult")), Ints(unet.GetProperty("channel_mult")));
        Assert.Equal(Ints(expectedUnet.GetProperty("attention_resolutions")).Order(), Ints(unet.GetProperty("attention_resolutions")).Order());

        var vae = Part(info, "vae").GetProperty("Config");
        var ddconfig = config.GetProperty("vae").GetProperty("ddconfig");
        foreach (var key in new[] { "ch", "num_res_blocks", "z_channels", "in_channels", "out_ch" })
            Assert.True(ddconfig.GetProperty(key).GetInt32() == vae.GetProperty(key).GetInt32(), key);
        Assert.Equal(Ints(ddconfig.GetProperty("ch_mult")), Ints(vae.GetProperty("ch_mult")));
        Assert.Equal(config.GetProperty("vae").GetProperty("embed_dim").GetInt32(), vae.GetProperty("embed_dim").GetInt32());
        Assert.Equal(config.GetProperty("vae").GetProperty("downsample_factor").GetInt32(), vae.GetProperty("downsample_factor").GetInt32());

        var text = Part(info, "text").GetProperty("Config");
        foreach (var key in new[] { "hidden_size", "num_hidden_layers", "intermediate_size", "max_position_embeddings", "vocab_size" })
            Assert.True(config.GetProperty("text").GetProperty(key).GetInt32() == text.GetProperty(key).GetInt32(), key);

        var ldm = config.GetProperty("latent_diffusion");
        Assert.Equal(ldm.GetProperty("scale_factor").GetDouble(), info.GetProperty("Settings").GetProperty("scale_factor").GetDouble());
        Assert.Equal(ldm.GetProperty("timesteps").GetInt32(), info.GetProperty("Settings").GetProperty("timesteps").GetInt32());
        Assert.StartsWith(ldm.GetProperty("beta_schedule").GetString()!, info.GetProperty("Settings").GetProperty("schedule").GetString());
    }

    [Fact]
    public void DescribesTheDvaeFixtureHalves()
    {
        foreach (var m in GenerativeFixtures.Manifest.GetProperty("dalle_dvae").EnumerateArray())
            foreach (var half in new[] { "encoder", "decoder" })
            {
                var info = Info(GenerativeFixtures.PathOf(m.GetProperty($"{half}_weights").GetString()!));
                Assert.Equal("dvae", info.GetProperty("Kind").GetString());
                var part = Part(info, "dvae_" + half);
                Assert.Equal(m.GetProperty("param_count").GetProperty(half).GetInt64(), part.GetProperty("Parameters").GetInt64());
                foreach (var p in m.GetProperty("config").GetProperty(half).EnumerateObject())
                    Assert.True(p.Value.GetInt32() == part.GetProperty("Config").GetProperty(p.Name).GetInt32(), $"{half} {p.Name}");
            }
    }

    [Fact]
    public void DescribesADalleFolder()
    {
        var info = Info(dalle.Folder);
        Assert.Equal("dalle", info.GetProperty("Kind").GetString());
        var transformer = Part(info, "transformer").GetProperty("Config");
        // The numbers TinyDalleFolder's training config and DvaeTrainerTests' dVAE config ask for.
        Assert.Equal((32, 2, 2, 12, 600), (transformer.GetProperty("width").GetInt32(), transformer.GetProperty("layers").GetInt32(),
            transformer.GetProperty("heads").GetInt32(), transformer.GetProperty("text_length").GetInt32(), transformer.GetProperty("text_vocab").GetInt32()));
        Assert.Equal(32, transformer.GetProperty("image_vocab").GetInt32());
        Assert.Equal([4, 4], Ints(transformer.GetProperty("image_grid")));                 // 16 px, 3 groups: 4 px per token
        var encoder = Part(info, "dvae_encoder").GetProperty("Config");
        Assert.Equal((3, 16, 1, 32), (encoder.GetProperty("group_count").GetInt32(), encoder.GetProperty("n_hid").GetInt32(),
            encoder.GetProperty("n_blk_per_group").GetInt32(), encoder.GetProperty("vocab_size").GetInt32()));
        Assert.Equal("16x16", info.GetProperty("Settings").GetProperty("image_size").GetString());
        Assert.All(info.GetProperty("Parts").EnumerateArray(), p => Assert.True(p.GetProperty("Parameters").GetInt64() > 0));
    }
}
