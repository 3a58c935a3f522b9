using SharpClip.Checkpoints;
using SharpClip.Files;
using SharpClip.Generation.Dalle;
using SharpClip.Generation.Dalle.Dvae;
using SharpClip.Tests.Infrastructure;
using TorchSharp;
using Xunit.Abstractions;
using static SharpClip.Tests.Checkpoints.CheckpointTestData;
using static SharpClip.Tests.Generation.Dalle.DvaeComparison;
using static TorchSharp.torch;

namespace SharpClip.Tests.Generation.Dalle;

/// <summary>
/// openai/DALL-E's released form: <c>torch.save</c> of the whole Encoder/Decoder objects. The files in data/ were
/// written by the real package (make_dvae_pickles.py): the encoder in torch's zip format, the decoder in the legacy
/// format, with their state dicts and the package's own outputs beside them. Two blocks per group, n_hid 8, a 32-code
/// vocabulary and a 24×40 image: shapes the shared fixtures do not have.
/// </summary>
[Trait("Category", "Fidelity")]
public class DvaePickleTests(ITestOutputHelper output)
{
    static string Data(string name) => Path.Combine(Fixtures.RepoRoot, "tests", "SharpClip.Tests", "Generation", "Dalle", "data", name);


    [Theory]
    [InlineData("dvae_pickled.encoder")]
    [InlineData("dvae_pickled.decoder")]
    public void TheModulePickleYieldsExactlyTheModulesStateDict(string stem)
    {
        using var archive = TorchArchive.Open(Data(stem + ".pkl"), DvaeCheckpoint.ModuleClasses);
        var found = PickledStateDict.Find(archive);
        var actual = archive.Materialize(found);
        var expected = ReadSafeTensors(Data(stem + ".safetensors"));
        try
        {
            AssertBitIdentical(expected, actual);
            // state_dict() order: parameters, then submodules depth first, as Python listed them.
            using var file = SafeTensorsFile.Open(Data(stem + ".safetensors"));
            Assert.Equal(file.Names.Order(StringComparer.Ordinal), found.Select(f => f.Key).Order(StringComparer.Ordinal));
            Assert.Equal(stem.EndsWith("encoder") ? "dall_e.encoder.Encoder" : "dall_e.decoder.Decoder", Assert.IsType<PickledModule>(archive.Root).ClassName);
        }
        finally
        {
            DisposeAll(actual.Values);
            DisposeAll(expected.Values);
        }
    }

    [Fact]
    public void ThePickledModelsReproduceThePackagesOutputs()
    {
        using var dvae = DiscreteVae.Load(Data("dvae_pickled.encoder.pkl"), Data("dvae_pickled.decoder.pkl"));
        Assert.Equal(new DvaeEncoderConfig(4, 8, 2, 3, 32), dvae.Encoder.Config);
        Assert.Equal(new DvaeDecoderConfig(4, 16, 8, 2, 3, 32), dvae.Decoder.Config);
        using var outputs = SafeTensorsFile.Open(Data("dvae_pickled.outputs.safetensors"));
        using var scope = NewDisposeScope();

        using var encoding = dvae.Encode(outputs.ReadTensor("image"));
        double logits = AssertClose(encoding.Logits, outputs.ReadTensor("encoder_logits"), 1e-4, 0, "encoder logits");
        AssertEqualInts(encoding.Tokens, outputs.ReadTensor("tokens"), "tokens");
        using var decoding = dvae.Decode(outputs.ReadTensor("tokens_given"));
        double decoderLogits = AssertClose(decoding.Logits, outputs.ReadTensor("decoder_logits"), 1e-4, 1e-4, "decoder logits");
        double image = AssertClose(decoding.Image, outputs.ReadTensor("decoded"), 0, 1e-4, "image");
        output.WriteLine($"pickled n_blk_per_group 2, 24x40: encoder logits {logits:g3}, tokens exact, decoder logits {decoderLogits:g3}, image {image:g3}");
    }

    [Fact]
    public void TheSafetensorsStateDictsLoadTheSameModel()
    {
        using var fromPickle = DiscreteVae.Load(Data("dvae_pickled.encoder.pkl"), Data("dvae_pickled.decoder.pkl"));
        using var fromSafetensors = DiscreteVae.Load(Data("dvae_pickled.encoder.safetensors"), Data("dvae_pickled.decoder.safetensors"));
        foreach (var (a, b) in new (nn.Module, nn.Module)[] { (fromPickle.Encoder, fromSafetensors.Encoder), (fromPickle.Decoder, fromSafetensors.Decoder) })
            AssertBitIdentical(a.state_dict(), b.state_dict());
    }

    [Theory]
    [InlineData("hostile_os_system.encoder.pkl", "posix.system")]
    [InlineData("hostile_eval.encoder.pkl", "__builtin__.eval")]
    [InlineData("hostile_unlisted_module.encoder.pkl", "torch.nn.modules.pooling.AvgPool2d")]
    public void APickleNamingAnythingElseIsRefusedAndNothingRuns(string file, string global)
    {
        var path = Data(file);
        AssertRefusedWithoutRunning(path, global, () => DvaeCheckpoint.LoadEncoder(path).Dispose());
    }

    [Fact]
    public void ModuleClassesAreDataOnlyWhenTheCallerListsThem()
    {
        // The CLIP checkpoint loader lists none: the same released-style pickle is refused there, by its class.
        var e = Assert.Throws<UnsafePickleException>(() => CheckpointLoader.Read(Data("dvae_pickled.encoder.pkl")).Dispose());
        Assert.Equal("dall_e.encoder.Encoder", e.Global);
    }

    [Fact]
    public void TheDecoderPickleGivenAsTheEncoderIsNamedAsSuch()
    {
        var path = Data("dvae_pickled.decoder.pkl");
        var e = Assert.Throws<InvalidDataException>(() => DvaeCheckpoint.LoadEncoder(path).Dispose());
        Assert.Contains(path, e.Message);
        Assert.Contains("dall_e.decoder.Decoder", e.Message);
        Assert.Contains("encoder", e.Message);
    }

    [Theory]
    [InlineData("missing", "blocks.group_2.block_2.res_path.conv_3.b")]
    [InlineData("unexpected", "blocks.group_2.block_2.res_path.conv_5.w")]
    [InlineData("misshaped", "blocks.group_3.block_1.id_path.w")]
    [InlineData("missing", "blocks.input.w")]
    public void ABadStateDictIsOneErrorNamingTheFileAndTheKey(string problem, string key)
    {
        using var tmp = new TempDir();
        var path = tmp.File("encoder.safetensors");
        var tensors = ReadSafeTensors(Data("dvae_pickled.encoder.safetensors"));
        try
        {
            switch (problem)
            {
                case "missing": tensors.Remove(key, out var gone); gone!.Dispose(); break;
                case "unexpected": tensors[key] = zeros(2, 2, 3, 3); break;
                case "misshaped":
                    var t = tensors[key];
                    tensors[key] = t.narrow(0, 0, t.shape[0] - 4).contiguous();
                    t.Dispose();
                    break;
            }
            SafeTensorsWriter.Write(path, tensors);
        }
        finally { DisposeAll(tensors.Values); }

        long live = LiveTensors;
        var e = Assert.Throws<InvalidDataException>(() => DvaeCheckpoint.LoadEncoder(path).Dispose());
        Assert.Contains(path, e.Message);
        Assert.Contains($"'{key}'", e.Message);
        Assert.Equal(live, LiveTensors);
        output.WriteLine(e.Message);
    }
}
