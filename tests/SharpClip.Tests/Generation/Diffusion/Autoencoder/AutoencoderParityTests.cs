using SharpClip.Generation.Diffusion.Autoencoder;
using SharpClip.Vision;
using SharpClip.Tests.Infrastructure;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SharpClip.Tests.Generation.Diffusion.Autoencoder;

/// <summary>
/// The KL autoencoder of every <c>stable_diffusion</c> record against CompVis/stable-diffusion's own outputs: the
/// architecture inferred from the <c>first_stage_model.*</c> tensors, the encoder's moments and latents, the decoder,
/// and the DDIM case's final latent decoded to the image bytes txt2img.py writes. Tolerances are the fixture README's.
/// The repository's extra autoencoders (attention on levels, non-square images, z_channels ≠ embed_dim, fp16/bf16
/// storage, another scale factor) run through the same tests.
/// </summary>
[Trait("Category", "Fidelity")]
public class AutoencoderParityTests(ITestOutputHelper output)
{
    public static IEnumerable<object[]> Models => GenerativeFixtures.AutoencoderIds();

    const double Atol = 1e-4, Rtol = 1e-4;
    const double ImageAtol = 1e-3;

    static AutoencoderKL Load(StableDiffusionReference reference) =>
        AutoencoderKL.Load(reference.WeightsPath, scaleFactor: reference.ScaleFactor, keyPrefix: reference.VaePrefix);

    [Theory, MemberData(nameof(Models))]
    public void InfersTheReferenceArchitectureAndParameterCount(string id)
    {
        using var reference = new StableDiffusionReference(id);
        using var vae = Load(reference);
        var vaeConfig = reference.Config.GetProperty("vae");
        var expected = AutoencoderConfig.FromLdmParams(vaeConfig, "manifest config.vae");
        Assert.Equal(expected, vae.Config);
        Assert.Equal(vaeConfig.GetProperty("downsample_factor").GetInt32(), vae.Config.DownsampleFactor);
        Assert.Equal(reference.Entry.GetProperty("param_count").GetProperty("vae").GetInt64(), vae.parameters().Sum(p => p.numel()));
        // The declared config, given explicitly, is accepted.
        using var declared = AutoencoderKL.Load(reference.WeightsPath, expected, reference.ScaleFactor, reference.VaePrefix);
        Assert.Equal(expected, declared.Config);
    }

    [Theory, MemberData(nameof(Models))]
    public void EncodeMatchesTheReference(string id)
    {
        using var reference = new StableDiffusionReference(id);
        using var vae = Load(reference);
        foreach (var @case in reference.Cases("vae_encode"))
        {
            using var scope = torch.NewDisposeScope();
            using var mode = torch.inference_mode();
            string name = $"{id}/{@case.GetProperty("id").GetString()}";
            var image = reference.Tensor(@case, "image");
            var moments = vae.EncodeMoments(image);
            Report(name, "moments", Close.Assert(reference.Tensor(@case, "moments"), moments, Atol, Rtol, $"{name} moments"));
            using var posterior = vae.Encode(image);
            Report(name, "mean", Close.Assert(reference.Tensor(@case, "mean"), posterior.Mean, Atol, Rtol, $"{name} mean"));
            Report(name, "logvar", Close.Assert(reference.Tensor(@case, "logvar"), posterior.LogVar, Atol, Rtol, $"{name} logvar"));
            Report(name, "std", Close.Assert(reference.Tensor(@case, "std"), posterior.Std, Atol, Rtol, $"{name} std"));
            var modeLatent = vae.EncodeToLatent(image, sample: false);
            Report(name, "latent_mode_scaled", Close.Assert(reference.Tensor(@case, "latent_mode_scaled"), modeLatent, Atol, Rtol, $"{name} latent_mode_scaled"));
            var sampled = vae.ToDiffusionLatent(posterior.Sample(reference.Tensor(@case, "sample_noise")));
            Report(name, "latent_sample_scaled", Close.Assert(reference.Tensor(@case, "latent_sample_scaled"), sampled, Atol, Rtol, $"{name} latent_sample_scaled"));
        }
    }

    [Theory, MemberData(nameof(Models))]
    public void DecodeMatchesTheReference(string id)
    {
        using var reference = new StableDiffusionReference(id);
        using var vae = Load(reference);
        foreach (var @case in reference.Cases("vae_decode"))
        {
            using var scope = torch.NewDisposeScope();
            using var mode = torch.inference_mode();
            string name = $"{id}/{@case.GetProperty("id").GetString()}";
            var decoded = vae.Decode(reference.Tensor(@case, "latent"));
            Report(name, "image", Close.Assert(reference.Tensor(@case, "image"), decoded, Atol, Rtol, $"{name} image"));
        }
    }

    [Theory, MemberData(nameof(Models))]
    public void DdimFinalLatentDecodesToTheReferenceImage(string id)
    {
        using var reference = new StableDiffusionReference(id);
        using var vae = Load(reference);
        foreach (var @case in reference.Cases("ddim_txt2img"))
        {
            using var scope = torch.NewDisposeScope();
            using var mode = torch.inference_mode();
            string name = $"{id}/{@case.GetProperty("id").GetString()}";
            var decoded = vae.Decode(reference.Tensor(@case, "final_latent"));
            Report(name, "decoded", Close.Assert(reference.Tensor(@case, "decoded"), decoded, ImageAtol, 0, $"{name} decoded"));
            Report(name, "image_01", Close.Assert(reference.Tensor(@case, "image_01"), SignedImageTensors.ToUnitHwc(decoded), ImageAtol, 0, $"{name} image_01"));
            // Truncation boundaries: a value a float32 rounding away from k/255 may land one level lower.
            var expectedBytes = reference.Tensor(@case, "image_uint8");
            var bytes = SignedImageTensors.ToBytesHwc(decoded);
            var levels = Close.Assert(expectedBytes, bytes, 1, 0, $"{name} image_uint8");
            var off = bytes.to(ScalarType.Int32).sub(expectedBytes.to(ScalarType.Int32)).ne(0).sum().item<long>();
            Report(name, "image_uint8", levels, $" ({off} of {bytes.numel()} values off by one)");
            var images = SignedImageTensors.ToRgbImages(decoded);
            Assert.Equal(bytes.shape[0], images.Length);
            Assert.Equal(bytes[0].data<byte>().ToArray(), images[0].Pixels);
        }
    }

    void Report(string name, string what, double maxDiff, string extra = "") =>
        output.WriteLine($"{name} {what}: max |diff| {maxDiff:E3}{extra}");
}
