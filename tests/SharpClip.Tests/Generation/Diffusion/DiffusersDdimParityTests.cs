using System.Text.Json;
using SharpClip.Generation.Diffusion;
using SharpClip.Generation.Diffusion.Diffusers;
using SharpClip.Generation.Diffusion.Sampling;
using SharpClip.Tests.Infrastructure;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SharpClip.Tests.Generation.Diffusion;

/// <summary>
/// DDIM with a diffusers scheduler config's <c>timestep_spacing</c>, <c>steps_offset</c> and <c>set_alpha_to_one</c>
/// against diffusers' own <c>DDIMScheduler</c> (tests/fixtures-generative/ddim-scheduler/make_ddim_scheduler_fixture.py
/// ran it from the diffusers mirror): the timesteps exactly, and the latents of a chain driven by a fixed
/// deterministic "model" after the first step and at the end. The config fields reach the pipeline's sampler from a
/// folder, and a bad one is refused naming the file and field.
/// </summary>
public class DiffusersDdimParityTests(ITestOutputHelper output)
{
    /// <summary>
    /// Error bar relative to 1 + |value|: float32 chains of up to 10 steps of the same operations, but x̂₀ at the noisy
    /// end is divided by √ᾱ ≈ 0.07, so a last-bit difference in ε (diffusers takes <c>** 0.5</c>) shows as a few ulps.
    /// </summary>
    const double Tolerance = 1e-6;

    static readonly Lazy<JsonDocument> Fixture = new(() => JsonDocument.Parse(File.ReadAllBytes(
        Path.Combine(Fixtures.RepoRoot, "tests", "fixtures-generative", "ddim-scheduler", "ddim_scheduler.json"))));

    static JsonElement Root => Fixture.Value.RootElement;

    static float[] Floats(JsonElement e) => [.. e.EnumerateArray().Select(v => v.GetSingle())];

    // The scheduler's own float32 ᾱ table (diffusers builds it in float32; ldm in float64), so only the rule differs.
    static NoiseSchedule DiffusersTable => NoiseSchedule.FromAlphasCumprod(Floats(Root.GetProperty("alphas_cumprod")));

    static DdimTimesteps Rule(JsonElement c) => new(
        c.GetProperty("spacing").GetString() switch
        {
            "leading" => TimestepSpacing.Leading,
            "trailing" => TimestepSpacing.Trailing,
            _ => TimestepSpacing.Linspace,
        },
        c.GetProperty("steps_offset").GetInt32(), c.GetProperty("set_alpha_to_one").GetBoolean());

    public static IEnumerable<object[]> Cases() =>
        Enumerable.Range(0, Root.GetProperty("cases").GetArrayLength()).Select(i => new object[] { i });

    public static IEnumerable<object[]> ChainCases() =>
        Cases().Where(c => Root.GetProperty("cases")[(int)c[0]].TryGetProperty("final_latent", out _));

    [Theory, MemberData(nameof(Cases))]
    public void TimestepsAreDiffusers(int index)
    {
        var c = Root.GetProperty("cases")[index];
        var schedule = DdimSchedule.Create(DiffusersTable, c.GetProperty("steps").GetInt32(), 0, Rule(c));
        long[] expected = [.. c.GetProperty("timesteps").EnumerateArray().Select(t => t.GetInt64())];
        Assert.Equal(expected, schedule.Timesteps.Reverse());     // diffusers lists them in the order run
    }

    [Theory, MemberData(nameof(ChainCases))]
    public void ChainMatchesDiffusers(int index)
    {
        var c = Root.GetProperty("cases")[index];
        var schedule = DdimSchedule.Create(DiffusersTable, c.GetProperty("steps").GetInt32(), 0, Rule(c));
        using var scope = torch.NewDisposeScope();
        var shape = Root.GetProperty("x_start_shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
        var xStart = torch.tensor(Floats(Root.GetProperty("x_start"))).reshape(shape);        // [1, 4, 3, 3]
        var context = torch.zeros(1, 1, 1);
        // The fixture's model: eps = x · (0.5 t / 1000) + 0.1, t the step's timestep.
        NoisePredictor model = (x, t, _) => x.mul(0.5 * t[0].item<long>() / 1000).add(0.1);
        Tensor? firstLatent = null, firstX0 = null;
        var final = DdimSampler.Sample(model, xStart, context, null, 1.0, schedule, onStep: s =>
        {
            if (s.Index != 0) return;
            firstLatent = s.Latent.clone();
            firstX0 = s.PredictedX0.clone();
        });
        foreach (var (ours, key) in new[] { (firstLatent!, "first_latent"), (firstX0!, "first_x0"), (final, "final_latent") })
        {
            var expected = torch.tensor(Floats(c.GetProperty(key)));
            var diff = ours.flatten().sub(expected).abs();
            double max = diff.max().item<float>(), relative = diff.div(expected.abs().add(1)).max().item<float>();
            output.WriteLine($"{Rule(c)}, {c.GetProperty("steps").GetInt32()} steps, {key}: max |diff| {max:G3}, relative to 1+|x| {relative:G3}");
            Assert.InRange(relative, 0, Tolerance);
        }
    }

    [Fact]
    public void FinalAlphaIsOneOrAlphaZero()
    {
        var table = DiffusersTable;
        var atZero = DdimSchedule.Create(table, 10, 0, new DdimTimesteps(TimestepSpacing.Leading, 0, false));
        var atOne = DdimSchedule.Create(table, 10, 0, new DdimTimesteps(TimestepSpacing.Leading, 0, true));
        Assert.Equal(table.AlphasCumprod[0], atZero.AlphasPrev[0]);
        Assert.Equal(1f, atOne.AlphasPrev[0]);
        Assert.Equal(atZero.AlphasPrev.Skip(1), atOne.AlphasPrev.Skip(1));
    }

    [Fact]
    public void LeadingPlusOneEndingAtAlphaZeroIsLdmWhenTheStepsDivideTheSchedule()
    {
        // SD's own scheduler configs (steps_offset 1, set_alpha_to_one false) are LDM's DDIM whenever S divides T.
        var sd = new DdimTimesteps(TimestepSpacing.Leading, 1, false);
        foreach (int steps in new[] { 10, 20, 50 })
        {
            var ldm = DdimSchedule.Uniform(NoiseSchedule.StableDiffusion, steps);
            var diffusers = DdimSchedule.Create(NoiseSchedule.StableDiffusion, steps, 0, sd);
            Assert.Equal(ldm.Timesteps, diffusers.Timesteps);
            Assert.Equal(ldm.AlphasPrev, diffusers.AlphasPrev);
            Assert.Equal(ldm.Alphas, diffusers.Alphas);
        }
    }

    [Fact]
    public void SchedulerConfigFieldsAreRead()
    {
        static DdimTimesteps Read(string json) => DiffusersConfigs.ReadScheduler(JsonDocument.Parse(json).RootElement, "scheduler_config.json").Ddim;
        Assert.Equal(new DdimTimesteps(TimestepSpacing.Leading, 1, false), Read("""{"steps_offset": 1, "set_alpha_to_one": false}"""));
        Assert.Equal(new DdimTimesteps(TimestepSpacing.Trailing, 0, true), Read("""{"timestep_spacing": "trailing", "steps_offset": 0, "set_alpha_to_one": true}"""));
        Assert.Equal(DdimTimesteps.DiffusersDefaults, Read("{}"));   // DDIMScheduler's own defaults: leading, 0, true
        var bad = Assert.Throws<InvalidDataException>(() => Read("""{"timestep_spacing": "karras"}"""));
        Assert.Contains("scheduler_config.json", bad.Message);
        Assert.Contains("'timestep_spacing'", bad.Message);
        var negative = Assert.Throws<InvalidDataException>(() => Read("""{"steps_offset": -1}"""));
        Assert.Contains("'steps_offset'", negative.Message);
    }

    [Fact]
    public void AFoldersSchedulerConfigReachesTheSampler()
    {
        using (var dir = new TempDir())
        using (var checkpoint = StableDiffusionCheckpoint.Open(SdFormatFixtures.WriteDiffusersFolder(dir)))
            Assert.Equal(new DdimTimesteps(TimestepSpacing.Leading, 1, false), checkpoint.Ddim);   // SD's config: LDM's run
        using (var dir = new TempDir())
        {
            var folder = SdFormatFixtures.WriteDiffusersFolder(dir, editConfig: (component, config) =>
            {
                if (component != "scheduler") return;
                config["timestep_spacing"] = "trailing";
                config["set_alpha_to_one"] = true;
            });
            using var checkpoint = StableDiffusionCheckpoint.Open(folder);
            Assert.Equal(new DdimTimesteps(TimestepSpacing.Trailing, 1, true), checkpoint.Ddim);
        }
    }
}
