using SharpClip.Generation.Diffusion;
using SharpClip.Generation.Diffusion.Sampling;
using SharpClip.Tests.Infrastructure;
using SharpClip.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Tests.Generation.Diffusion;

/// <summary>
/// Behaviour of text-to-latent generation that no reference file shows: a seed reproduces its latents and another
/// seed does not, step counts that do not divide 1000 run the reference's extra step, a step count that reaches past
/// the schedule is refused, progress comes once per step, cancellation stops between steps, guidance 1 makes one
/// unbatched U-Net call, and nothing leaks.
/// </summary>
public class DdimSamplingTests
{
    public static IEnumerable<object[]> Models => GenerativeFixtures.StableDiffusionModelIds();

    static readonly Lazy<ClipTokenizer> Tokenizer = new(() => ClipTokenizer.Load(GenerativeFixtures.VocabPath));

    static StableDiffusionPipeline Load(SdReference reference) =>
        StableDiffusionPipeline.Load(reference.WeightsPath, Tokenizer.Value, reference.ManifestConfig());

    static GenerationOptions Small(SdReference reference, int steps = 2, long seed = 1)
    {
        var hw = reference.Config.GetProperty("latent_hw").EnumerateArray().Select(d => d.GetInt32()).ToArray();
        return new GenerationOptions { Steps = steps, Seed = seed, LatentHeight = hw[0], LatentWidth = hw[1] };
    }

    [Theory, MemberData(nameof(Models))]
    public void SameSeedSameLatentsOtherSeedOthers(string id)
    {
        using var reference = new SdReference(id);
        using var pipeline = Load(reference);
        using var scope = torch.NewDisposeScope();
        string[] prompts = ["a red cube", "a blue sphere"];
        var a = pipeline.GenerateLatents(prompts, Small(reference, seed: 42));
        var b = pipeline.GenerateLatents(prompts, Small(reference, seed: 42));
        var c = pipeline.GenerateLatents(prompts, Small(reference, seed: 43));
        Assert.True(a.equal(b).all().item<bool>(), "the same seed must give the same latents");
        Assert.False(a.allclose(c), "another seed must give other latents");
        Assert.True(a.isfinite().all().item<bool>());
    }

    [Fact]
    public void UniformStepsThatDoNotDivideTheScheduleRunOneMore()
    {
        // make_ddim_timesteps('uniform', 6, 1000): c = 166, range(0, 1000, 166) + 1 → 7 timesteps.
        Assert.Equal([1L, 167, 333, 499, 665, 831, 997], DdimSchedule.UniformTimesteps(6, 1000));
        var schedule = DdimSchedule.Uniform(NoiseSchedule.StableDiffusion, 6);
        Assert.Equal(7, schedule.Count);
        Assert.Equal(NoiseSchedule.StableDiffusion.AlphasCumprod[0], schedule.AlphasPrev[0]); // ᾱ_0, not 1
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => DdimSchedule.Uniform(NoiseSchedule.StableDiffusion, 3));
        Assert.Contains("timestep 1000", e.Message);
    }

    [Theory, MemberData(nameof(Models))]
    public void ProgressPerStepAndCancellationBetweenSteps(string id)
    {
        using var reference = new SdReference(id);
        using var pipeline = Load(reference);
        var seen = new List<(int Index, int Count, long Timestep)>();
        using (var latents = pipeline.GenerateLatents(["a cat"], Small(reference, steps: 6) with { OnStep = s => seen.Add((s.Index, s.Count, s.Timestep)) }))
        {
            Assert.Equal(7, seen.Count);
            Assert.Equal(Enumerable.Range(0, 7), seen.Select(s => s.Index));
            Assert.All(seen, s => Assert.Equal(7, s.Count));
            Assert.Equal([997L, 831, 665, 499, 333, 167, 1], seen.Select(s => s.Timestep));
        }

        long live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        using var cts = new CancellationTokenSource();
        int steps = 0;
        Assert.Throws<OperationCanceledException>(() => pipeline.GenerateLatents(["a cat"], Small(reference, steps: 5) with
        {
            OnStep = _ => { if (++steps == 2) cts.Cancel(); },
        }, cts.Token));
        Assert.Equal(2, steps);
        Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Theory, MemberData(nameof(Models))]
    public void GuidanceOneRunsUnguidedAndNothingLeaks(string id)
    {
        using var reference = new SdReference(id);
        using var pipeline = Load(reference);
        long live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        bool sawUncond = false;
        var latents = pipeline.GenerateLatents(["a cat"], Small(reference) with { GuidanceScale = 1.0, OnStep = s => sawUncond |= s.EpsUncond is not null });
        Assert.False(sawUncond);
        latents.Dispose();
        latents = pipeline.GenerateLatents(["a cat", "a dog"], Small(reference) with { NegativePrompt = "blurry" });
        latents.Dispose();
        Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Theory, MemberData(nameof(Models))]
    public void ClipSkipConditionsOnAnEarlierLayer(string id)
    {
        using var reference = new SdReference(id);
        using var pipeline = Load(reference);
        using var scope = torch.NewDisposeScope();
        var last = pipeline.EncodePrompts(["a cat"]);
        var penultimate = pipeline.EncodePrompts(["a cat"], clipSkip: 2);
        Assert.Equal(last.shape, penultimate.shape);
        Assert.False(last.allclose(penultimate));
        Assert.Throws<ArgumentOutOfRangeException>(() => pipeline.EncodePrompts(["a cat"], clipSkip: pipeline.TextEncoder.Config.Layers + 1));
    }
}
