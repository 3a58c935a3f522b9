using SharpClip.Files;
using SharpClip.Generation.Diffusion;
using SharpClip.Tests.Infrastructure;
using SharpClip.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Tests.Generation.Diffusion;

/// <summary>
/// Bad Stable Diffusion files fail with one message naming the file and the key — a missing, mis-shaped or unexpected
/// key, a truncated file — and never yield a partly loaded model; fp16 weights load into float32.
/// The bad files are the fixture's checkpoint with one thing changed, written to a temp folder.
/// </summary>
public class StableDiffusionCheckpointTests
{
    public static IEnumerable<object[]> Models => GenerativeFixtures.StableDiffusionModelIds();

    static readonly Lazy<ClipTokenizer> Tokenizer = new(() => ClipTokenizer.Load(GenerativeFixtures.VocabPath));

    static StableDiffusionPipeline Load(string path, SdReference reference) =>
        StableDiffusionPipeline.Load(path, Tokenizer.Value, reference.ManifestConfig());

    /// <summary>The fixture checkpoint's tensors, changed by <paramref name="edit"/>, written to a new file.</summary>
    static string Rewrite(SdReference reference, TempDir dir, Action<Dictionary<string, Tensor>> edit, string name = "edited.safetensors")
    {
        using var file = SafeTensorsFile.Open(reference.WeightsPath);
        using var scope = torch.NewDisposeScope();
        var tensors = file.Names.ToDictionary(n => n, file.ReadTensor, StringComparer.Ordinal);
        edit(tensors);
        var path = dir.File(name);
        SafeTensorsWriter.Write(path, tensors);
        return path;
    }

    static string FirstKey(SdReference reference, string prefix, string suffix)
    {
        using var file = SafeTensorsFile.Open(reference.WeightsPath);
        return file.Names.Where(n => n.StartsWith(prefix, StringComparison.Ordinal) && n.EndsWith(suffix, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).First();
    }

    static void AssertNames(Exception e, string path, string key)
    {
        Assert.IsType<InvalidDataException>(e);
        Assert.Contains(path, e.Message);
        Assert.Contains($"'{key}'", e.Message);
    }

    [Theory, MemberData(nameof(Models))]
    public void MissingUNetKeyIsNamed(string id)
    {
        using var reference = new SdReference(id);
        using var dir = new TempDir();
        // attn2.to_v is used by no architecture inference, so the error must come from the complete key check.
        var key = FirstKey(reference, StableDiffusionCheckpoint.UNetPrefix, "attn2.to_v.weight");
        var path = Rewrite(reference, dir, t => t.Remove(key));
        var e = Record.Exception(() => Load(path, reference).Dispose());
        AssertNames(e, path, key);
        Assert.Contains("missing", e.Message);
    }

    [Theory, MemberData(nameof(Models))]
    public void MissingTextKeyIsNamed(string id)
    {
        using var reference = new SdReference(id);
        using var dir = new TempDir();
        var key = FirstKey(reference, StableDiffusionCheckpoint.TextPrefix, "mlp.fc2.bias");
        var path = Rewrite(reference, dir, t => t.Remove(key));
        AssertNames(Record.Exception(() => Load(path, reference).Dispose()), path, key);
    }

    [Theory, MemberData(nameof(Models))]
    public void MisShapedKeyIsNamedWithBothShapes(string id)
    {
        using var reference = new SdReference(id);
        using var dir = new TempDir();
        var key = FirstKey(reference, StableDiffusionCheckpoint.UNetPrefix, "attn2.to_v.weight");
        long[] original = [];
        var path = Rewrite(reference, dir, t =>
        {
            original = t[key].shape;
            t[key] = torch.zeros(original[0] + 1, original[1]);
        });
        var e = Record.Exception(() => Load(path, reference).Dispose());
        AssertNames(e, path, key);
        Assert.Contains($"[{original[0] + 1},{original[1]}]", e.Message);
        Assert.Contains($"[{original[0]},{original[1]}]", e.Message);
    }

    [Theory, MemberData(nameof(Models))]
    public void UnexpectedKeysAreNamed(string id)
    {
        using var reference = new SdReference(id);
        using var dir = new TempDir();
        const string inUNet = StableDiffusionCheckpoint.UNetPrefix + "input_blocks.0.1.weight";
        var path = Rewrite(reference, dir, t => t[inUNet] = torch.zeros(3), "unet-extra.safetensors");
        AssertNames(Record.Exception(() => Load(path, reference).Dispose()), path, inUNet);

        const string stray = "some_other_model.weight";
        path = Rewrite(reference, dir, t => t[stray] = torch.zeros(3), "stray.safetensors");
        AssertNames(Record.Exception(() => Load(path, reference).Dispose()), path, stray);
    }

    [Theory, MemberData(nameof(Models))]
    public void TruncatedFileIsNamed(string id)
    {
        using var reference = new SdReference(id);
        using var dir = new TempDir();
        var bytes = File.ReadAllBytes(reference.WeightsPath);
        var path = dir.File("truncated.safetensors", bytes[..(bytes.Length * 2 / 3)]);
        var e = Record.Exception(() => Load(path, reference).Dispose());
        Assert.IsType<InvalidDataException>(e);
        Assert.Contains(path, e.Message);
        Assert.Matches("tensor '[^']+'", e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Theory, MemberData(nameof(Models))]
    public void HalfPrecisionWeightsLoadIntoFloat32(string id)
    {
        using var reference = new SdReference(id);
        using var dir = new TempDir();
        var path = Rewrite(reference, dir, t =>
        {
            foreach (var key in t.Keys.Where(k => t[k].dtype == ScalarType.Float32).ToList()) t[key] = t[key].to(ScalarType.Float16);
        });
        using var pipeline = Load(path, reference);
        var key = FirstKey(reference, StableDiffusionCheckpoint.UNetPrefix, "attn2.to_v.weight")[StableDiffusionCheckpoint.UNetPrefix.Length..];
        var loaded = pipeline.UNet.state_dict()[key];
        Assert.Equal(ScalarType.Float32, loaded.dtype);
        using var file = SafeTensorsFile.Open(reference.WeightsPath);
        using var original = file.ReadTensor(StableDiffusionCheckpoint.UNetPrefix + key);
        using var rounded = original.to(ScalarType.Float16).to(ScalarType.Float32);
        Assert.True(rounded.equal(loaded).all().item<bool>(), "fp16 weights must load as their exact float32 values");
        Assert.Equal(ScalarType.Float32, pipeline.TextEncoder.parameters().First().dtype);
    }

    [Theory, MemberData(nameof(Models))]
    public void ConfigThatContradictsTheWeightsIsNamed(string id)
    {
        using var reference = new SdReference(id);
        var config = reference.ManifestConfig();
        // One more ResBlock per level than the file has: the first key the file lacks is named.
        var wrong = config with { UNet = config.UNet! with { NumResBlocks = config.UNet.NumResBlocks + 1 } };
        var e = Record.Exception(() => StableDiffusionPipeline.Load(reference.WeightsPath, Tokenizer.Value, wrong).Dispose());
        Assert.IsType<InvalidDataException>(e);
        Assert.Contains(reference.WeightsPath, e.Message);
        Assert.Contains($"'{StableDiffusionCheckpoint.UNetPrefix}", e.Message);
    }
}

/// <summary>An SD <c>.ckpt</c> (PyTorch zip, <c>state_dict</c> inside) loads through the non-executing pickle reader into the same models.</summary>
public class StableDiffusionCkptTests
{
    public static IEnumerable<object[]> UNetCases => GenerativeFixtures.StableDiffusionCases("unet_eps");

    [Theory, MemberData(nameof(UNetCases))]
    public void CkptGivesTheSameModelsAsSafeTensors(string id, string caseId)
    {
        using var reference = new SdReference(id);
        using var dir = new TempDir();
        var ckpt = dir.File("model.ckpt");
        using (var file = SafeTensorsFile.Open(reference.WeightsPath))
        using (var scope = torch.NewDisposeScope())
            TorchCheckpointWriter.Write(ckpt, file.Names.Order(StringComparer.Ordinal).ToDictionary(n => n, file.ReadTensor));
        var tokenizer = ClipTokenizer.Load(GenerativeFixtures.VocabPath);
        using var fromCkpt = StableDiffusionPipeline.Load(ckpt, tokenizer, reference.ManifestConfig());
        using var fromSafeTensors = StableDiffusionPipeline.Load(reference.WeightsPath, tokenizer, reference.ManifestConfig());
        Assert.Equal("pytorch-zip", fromCkpt.Checkpoint!.Format);
        using var s = torch.NewDisposeScope();
        using var _ = torch.inference_mode();
        var x = reference.Tensor(caseId, "x");
        var t = reference.Tensor(caseId, "timesteps");
        var context = reference.Tensor(caseId, "context");
        Assert.True(fromCkpt.UNet.forward(x, t, context).equal(fromSafeTensors.UNet.forward(x, t, context)).all().item<bool>());
        var ids = fromCkpt.Tokenize(["a photograph of an astronaut riding a horse"]);
        Assert.True(fromCkpt.TextEncoder.Encode(ids).equal(fromSafeTensors.TextEncoder.Encode(ids)).all().item<bool>());
        SdAssert.Close(reference.Tensor(caseId, "eps"), fromCkpt.UNet.forward(x, t, context), 1e-4, 1e-4, $"{id} eps from .ckpt");
    }
}
