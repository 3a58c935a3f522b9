using SharpClip.Tests.Infrastructure;
using System.Text.Json;
using SharpClip.Files;
using SharpClip.Generation.Dalle;
using SharpClip.Generation.Dalle.Dvae;
using TorchSharp;
using Xunit.Abstractions;
using static SharpClip.Tests.Generation.Dalle.DvaeComparison;
using static TorchSharp.torch;

namespace SharpClip.Tests.Generation.Dalle;

/// <summary>
/// openai/DALL-E's dVAE against the package's own outputs: every <c>dalle_dvae</c> record and case of the generative
/// fixture manifest, the model built from the weights alone (nothing is taken from <c>config</c> except to check
/// what was inferred).
/// </summary>
[Trait("Category", "Fidelity")]
public class DvaeFidelityTests(ITestOutputHelper output)
{
    public static IEnumerable<object[]> EncodeCases => GenerativeFixtures.Cases("dalle_dvae", "dvae_encode");
    public static IEnumerable<object[]> DecodeCases => GenerativeFixtures.Cases("dalle_dvae", "dvae_decode");
    public static IEnumerable<object[]> Models =>
        GenerativeFixtures.Records("dalle_dvae").Select(r => new object[] { r.GetProperty("id").GetString()! });

    [Theory]
    [MemberData(nameof(Models))]
    public void TheConfigurationIsReadOffTheWeights(string model)
    {
        var record = GenerativeFixtures.Record("dalle_dvae", model);
        var config = record.GetProperty("config");
        using (var encoder = DvaeCheckpoint.LoadEncoder(GenerativeFixtures.PathOf(record.GetProperty("encoder_weights").GetString()!)))
        {
            var e = config.GetProperty("encoder");
            Assert.Equal(new DvaeEncoderConfig(Int(e, "group_count"), Int(e, "n_hid"), Int(e, "n_blk_per_group"), Int(e, "input_channels"),
                Int(e, "vocab_size")), encoder.Config);
            Assert.Equal(record.GetProperty("param_count").GetProperty("encoder").GetInt64(), encoder.parameters().Sum(p => p.numel()));
        }
        using (var decoder = DvaeCheckpoint.LoadDecoder(GenerativeFixtures.PathOf(record.GetProperty("decoder_weights").GetString()!)))
        {
            var d = config.GetProperty("decoder");
            Assert.Equal(new DvaeDecoderConfig(Int(d, "group_count"), Int(d, "n_init"), Int(d, "n_hid"), Int(d, "n_blk_per_group"),
                Int(d, "output_channels"), Int(d, "vocab_size")), decoder.Config);
            Assert.Equal(record.GetProperty("param_count").GetProperty("decoder").GetInt64(), decoder.parameters().Sum(p => p.numel()));
        }
    }

    [Theory]
    [MemberData(nameof(EncodeCases))]
    public void EncodeMatchesTheReference(string model, string caseId)
    {
        var (record, tensors) = Case(model, caseId);
        using var dvae = Load(record);
        using var outputs = SafeTensorsFile.Open(GenerativeFixtures.PathOf(record.GetProperty("outputs").GetString()!));
        using var scope = NewDisposeScope();
        var image = outputs.ReadTensor(tensors["image"]);

        double mappedDiff = AssertClose(LogitLaplace.Map(image), outputs.ReadTensor(tensors["mapped"]), 0, 1e-7, "mapped");
        using var encoding = dvae.Encode(image);
        double logitsDiff = AssertClose(encoding.Logits, outputs.ReadTensor(tensors["logits"]), 1e-4, 0, "logits");
        AssertEqualInts(encoding.Tokens, outputs.ReadTensor(tensors["tokens"]), "tokens");
        var (_, maxLogit) = Diff(encoding.Logits, outputs.ReadTensor(tensors["logits"]));
        output.WriteLine($"{model}/{caseId}: mapped max|diff| {mappedDiff:g3}; logits max|diff| {logitsDiff:g3} (max|ref| {maxLogit:g3}); tokens exact");
    }

    [Theory]
    [MemberData(nameof(DecodeCases))]
    public void DecodeMatchesTheReference(string model, string caseId)
    {
        var (record, tensors) = Case(model, caseId);
        using var dvae = Load(record);
        using var outputs = SafeTensorsFile.Open(GenerativeFixtures.PathOf(record.GetProperty("outputs").GetString()!));
        using var scope = NewDisposeScope();
        var tokens = outputs.ReadTensor(tensors["tokens"]);

        // The one-hot input the reference fed its decoder, checked on its own so a mismatch is located.
        var oneHot = nn.functional.one_hot(tokens, dvae.VocabSize).permute(0, 3, 1, 2).to(ScalarType.Float32);
        Assert.Equal(0, Diff(oneHot, outputs.ReadTensor(tensors["one_hot"])).MaxDiff);

        using var decoding = dvae.Decode(tokens);
        double logitsDiff = AssertClose(decoding.Logits, outputs.ReadTensor(tensors["logits"]), 1e-4, 1e-4, "decoder logits");
        double imageDiff = AssertClose(decoding.Image, outputs.ReadTensor(tensors["image"]), 0, 1e-4, "image");
        output.WriteLine($"{model}/{caseId}: decoder logits max|diff| {logitsDiff:g3}; image max|diff| {imageDiff:g3}");
    }

    static DiscreteVae Load(JsonElement record) => DiscreteVae.Load(
        GenerativeFixtures.PathOf(record.GetProperty("encoder_weights").GetString()!),
        GenerativeFixtures.PathOf(record.GetProperty("decoder_weights").GetString()!));

    static (JsonElement Record, Dictionary<string, string> Tensors) Case(string model, string caseId)
    {
        var record = GenerativeFixtures.Record("dalle_dvae", model);
        var c = record.GetProperty("cases").EnumerateArray().Single(x => x.GetProperty("id").GetString() == caseId);
        return (record, c.GetProperty("tensors").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!));
    }

    static int Int(JsonElement e, string name) => e.GetProperty(name).GetInt32();
}
