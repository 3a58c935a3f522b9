using static SharpClip.Tests.Checkpoints.CheckpointTestData;
using SharpClip.Generation.Dalle;
using SharpClip.Tests.Infrastructure;
using SharpClip.Vision;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Tests.Generation.Dalle;

/// <summary>The facade's contract beyond the numbers: disposal, input checks, the image conversions.</summary>
public class DiscreteVaeTests
{
    static string Data(string name) => Path.Combine(Fixtures.RepoRoot, "tests", "SharpClip.Tests", "Generation", "Dalle", "data", name);


    [Fact]
    public void EncodeAndDecodeLeaveNoTensorsBehind()
    {
        using var dvae = DiscreteVae.Load(Data("dvae_pickled.encoder.safetensors"), Data("dvae_pickled.decoder.safetensors"));
        using var image = rand(2, 3, 16, 24);
        long live = LiveTensors;
        for (int i = 0; i < 3; i++)
        {
            using var codes = dvae.Encode(image);
            Assert.Equal([2L, 2, 3], codes.Tokens.shape);
            using var back = dvae.Decode(codes.Tokens);
            Assert.Equal([2L, 3, 16, 24], back.Image.shape);
            Assert.Equal([2L, 6, 16, 24], back.Logits.shape);
        }
        Assert.Equal(live, LiveTensors);
    }

    [Fact]
    public void TheReleasedSizeDecodes()
    {
        // The one-hot codes are a permuted (channels-last) tensor; fed as such to the released-size decoder, libtorch's
        // oneDNN convolution died with SIGFPE (a divide-by-zero trap), killing the process. Random weights, 2x2 tokens.
        torch.manual_seed(0);
        using var dvae = new DiscreteVae(
            new SharpClip.Generation.Dalle.Dvae.Encoder(new(4, 8, 1, 3, 8192)),
            new SharpClip.Generation.Dalle.Dvae.Decoder(SharpClip.Generation.Dalle.Dvae.DvaeDecoderConfig.Released));
        using var tokens = randint(0, 8192, [1, 2, 2]);
        using var back = dvae.Decode(tokens);
        Assert.Equal([1L, 3, 16, 16], back.Image.shape);
    }

    [Fact]
    public void TokensOutsideTheCodebookAreRefusedClearly()
    {
        using var dvae = DiscreteVae.Load(Data("dvae_pickled.encoder.safetensors"), Data("dvae_pickled.decoder.safetensors"));
        using var tokens = full(new long[] { 1, 2, 2 }, 32L, dtype: ScalarType.Int64);
        long live = LiveTensors;
        var e = Assert.Throws<ArgumentException>(() => dvae.Decode(tokens).Dispose());
        Assert.Contains("[0, 32)", e.Message);
        Assert.Equal(live, LiveTensors);
    }

    [Fact]
    public void ImagesConvertAsTorchvisionDoes()
    {
        // ToTensor divides by 255; ToPILImage multiplies by 255 and truncates (0.999 → 254, not 255); out-of-range values clamp.
        var img = new RgbImage(2, 1, [0, 128, 255, 10, 20, 30]);
        using var t = DiscreteVae.ToTensor([img]);
        Assert.Equal([1L, 3, 1, 2], t.shape);
        Assert.Equal([0f, 10 / 255f, 128 / 255f, 20 / 255f, 255 / 255f, 30 / 255f], t.data<float>().ToArray());
        Assert.Equal(img.Pixels, DiscreteVae.ToImages(t)[0].Pixels);

        using var x = tensor(new float[] { 0.999f, 0.5f, 1.5f, -0.2f, 0.0039f, 1f }, [1, 3, 1, 2]);
        Assert.Equal(new byte[] { 254, 255, 0, 127, 0, 255 }, DiscreteVae.ToImages(x)[0].Pixels);
    }

    [Fact]
    public void AFolderWithBothFormatsOfOneHalfIsAmbiguous()
    {
        using var tmp = new TempDir();
        foreach (var name in new[] { "encoder.pkl", "encoder.safetensors", "decoder.pkl" })
            File.Copy(Data("dvae_pickled." + name), tmp.File(name));
        var e = Assert.Throws<InvalidDataException>(() => DiscreteVae.Load(tmp.Path).Dispose());
        Assert.Contains("encoder.safetensors and encoder.pkl", e.Message);
        File.Delete(tmp.File("encoder.pkl"));
        using var dvae = DiscreteVae.Load(tmp.Path);
        Assert.Equal(32, dvae.VocabSize);
        Assert.Equal(8, dvae.Downsampling);
    }
}
