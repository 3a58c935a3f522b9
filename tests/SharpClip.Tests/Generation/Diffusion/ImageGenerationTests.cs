using SharpClip.Generation.Diffusion;
using SharpClip.Generation.Diffusion.Sampling;
using SharpClip.Tests.Infrastructure;
using SharpClip.Text;
using SharpClip.Vision;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Tests.Generation.Diffusion;

/// <summary>
/// Behaviour of prompt → image that no reference file shows: image i of a batch is the image a run of one makes from
/// seed + i (for every sampler, the stochastic ones included), img2img runs ⌊strength · steps⌋ steps from the init
/// image for DDIM and the σ samplers, stays nearer the image at low strength, is reproducible by seed, and leaks nothing.
/// </summary>
public class ImageGenerationTests
{
    public static IEnumerable<object[]> Models => GenerativeFixtures.StableDiffusionModelIds();

    static readonly Lazy<ClipTokenizer> Tokenizer = new(() => ClipTokenizer.Load(GenerativeFixtures.VocabPath));

    static StableDiffusionPipeline Load(SdReference reference) =>
        StableDiffusionPipeline.Load(reference.WeightsPath, Tokenizer.Value, reference.ManifestConfig());

    static GenerationOptions Small(SdReference reference, DiffusionSampler sampler, int steps, long seed)
    {
        var hw = reference.Config.GetProperty("latent_hw").EnumerateArray().Select(d => d.GetInt32()).ToArray();
        return new GenerationOptions { Sampler = sampler, Steps = steps, Seed = seed, LatentHeight = hw[0], LatentWidth = hw[1] };
    }

    // A smooth colour ramp at the model's image size.
    static RgbImage Ramp(SdReference reference)
    {
        var hw = reference.Config.GetProperty("image_hw").EnumerateArray().Select(d => d.GetInt32()).ToArray();
        var image = new RgbImage(hw[1], hw[0]);
        for (int y = 0; y < hw[0]; y++)
            for (int x = 0; x < hw[1]; x++)
            {
                int i = (y * hw[1] + x) * 3;
                image.Pixels[i] = (byte)(255 * x / hw[1]);
                image.Pixels[i + 1] = (byte)(255 * y / hw[0]);
                image.Pixels[i + 2] = 96;
            }
        return image;
    }

    [Theory, MemberData(nameof(Models))]
    public void EachImageOfABatchIsReproducedAloneByItsSeed(string id)
    {
        using var reference = new SdReference(id);
        using var pipeline = Load(reference);
        foreach (var sampler in new[] { DiffusionSampler.Ddim, DiffusionSampler.EulerAncestral })
        {
            var options = Small(reference, sampler, 4, seed: 11) with { Eta = sampler == DiffusionSampler.Ddim ? 1.0 : 0.0 };
            using var batch = pipeline.Generate(["a red cube", "a red cube"], options);
            using var alone = pipeline.Generate(["a red cube"], options with { Seed = 12 });
            Assert.Equal([11L, 12L], batch.Seeds);
            using var second = batch.Latents.narrow(0, 1, 1);
            using var first = batch.Latents.narrow(0, 0, 1);
            using var diff = second.sub(alone.Latents).abs().max();
            Assert.True(diff.item<float>() < 1e-3f, $"{sampler}: image 1 of seed 11 differs from seed 12 alone by {diff.item<float>()}");
            Assert.False(first.allclose(alone.Latents, 1e-2, 1e-2), $"{sampler}: image 0 must differ");
            Assert.Equal(reference.Config.GetProperty("image_hw")[1].GetInt32(), batch.Images[1].Width);
        }
    }

    [Theory, MemberData(nameof(Models))]
    public void Img2ImgRunsTheStrengthsStepsFromTheImage(string id)
    {
        using var reference = new SdReference(id);
        using var pipeline = Load(reference);
        var init = Ramp(reference);
        using var scope = torch.NewDisposeScope();
        using var _ = torch.inference_mode();
        using var pixels = SignedImageTensors.FromRgbImages([init]);
        var initLatent = pipeline.Autoencoder.EncodeToLatent(pixels);                          // the posterior's mode
        long live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        foreach (var sampler in new[] { DiffusionSampler.Ddim, DiffusionSampler.Euler, DiffusionSampler.DpmPlusPlus2M })
        {
            double Distance(double strength, out int stepsRun)
            {
                using var inner = torch.NewDisposeScope();
                int seen = 0;
                var options = Small(reference, sampler, 10, seed: 3) with { InitImage = init, Strength = strength, OnStep = _ => seen++ };
                using var latents = pipeline.GenerateLatents(["a watercolor fox"], options);
                using var again = pipeline.GenerateLatents(["a watercolor fox"], options with { OnStep = null });
                Assert.True(latents.equal(again).all().item<bool>(), $"{sampler}: the same seed must give the same img2img latent");
                stepsRun = seen;
                using var d = latents.sub(initLatent);
                return d.norm().item<float>();
            }
            double near = Distance(0.2, out int fewSteps), far = Distance(1.0, out int allSteps);
            Assert.Equal(2, fewSteps);                                                   // ⌊0.2 · 10⌋
            Assert.Equal(sampler == DiffusionSampler.Ddim ? 9 : 10, allSteps);           // DDIM: t_enc capped at the last entry
            Assert.True(near < far, $"{sampler}: strength 0.2 ended {near:F3} from the image, strength 1 {far:F3}");
        }
        Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        Assert.Throws<ArgumentOutOfRangeException>(() => pipeline.GenerateLatents(["x"], Small(reference, DiffusionSampler.Euler, 4, 1) with { InitImage = init, Strength = 0.1 }));
        var odd = new RgbImage(init.Width + 1, init.Height);
        Assert.Contains("multiples of", Assert.Throws<ArgumentException>(() => pipeline.GenerateLatents(["x"], Small(reference, DiffusionSampler.Euler, 4, 1) with { InitImage = odd })).Message);
    }
}
