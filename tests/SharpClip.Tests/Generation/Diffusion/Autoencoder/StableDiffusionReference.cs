using System.Text.Json;
using SharpClip.Files;
using SharpClip.Tests.Infrastructure;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Tests.Generation.Diffusion.Autoencoder;

/// <summary>One Stable Diffusion record: its weights path, config and the reference tensors of its cases.</summary>
internal sealed class StableDiffusionReference : IDisposable
{
    readonly SafeTensorsFile _outputs;

    public StableDiffusionReference(string id)
    {
        Id = id;
        (var dir, Entry) = GenerativeFixtures.Record(id);
        WeightsPath = Path.Combine(dir, Entry.GetProperty("weights").GetString()!);
        _outputs = SafeTensorsFile.Open(Path.Combine(dir, Entry.GetProperty("outputs").GetString()!));
    }

    public string Id { get; }
    public JsonElement Entry { get; }
    public string WeightsPath { get; }
    public JsonElement Config => Entry.GetProperty("config");
    public string VaePrefix => Entry.GetProperty("key_prefixes").GetProperty("vae").GetString()!;
    public double ScaleFactor => Config.GetProperty("latent_diffusion").GetProperty("scale_factor").GetDouble();

    /// <summary>The cases of a kind (the hidden set may hold several, or none).</summary>
    public IEnumerable<JsonElement> Cases(string kind) =>
        Entry.GetProperty("cases").EnumerateArray().Where(c => c.GetProperty("kind").GetString() == kind);

    /// <summary>The outputs-file tensor a case's <c>tensors</c> map names for <paramref name="role"/>, as stored.</summary>
    public Tensor Tensor(JsonElement @case, string role) =>
        _outputs.ReadTensor(@case.GetProperty("tensors").GetProperty(role).GetString()!);

    public void Dispose() => _outputs.Dispose();
}

/// <summary>Tolerance checks in <c>torch.allclose</c>'s form, reporting the largest difference.</summary>
internal static class Close
{
    /// <summary>Asserts |actual − expected| ≤ atol + rtol·|expected| everywhere; returns max |actual − expected|.</summary>
    public static double Assert(Tensor expected, Tensor actual, double atol, double rtol, string what)
    {
        Xunit.Assert.True(expected.shape.SequenceEqual(actual.shape),
            $"{what}: shape [{string.Join(",", actual.shape)}], reference [{string.Join(",", expected.shape)}]");
        using var scope = torch.NewDisposeScope();
        var e = expected.detach().to(ScalarType.Float64, CPU);
        var a = actual.detach().to(ScalarType.Float64, CPU);
        var diff = (a - e).abs();
        double max = diff.max().item<double>();
        double excess = (diff - (e.abs() * rtol + atol)).max().item<double>();
        Xunit.Assert.True(excess <= 0 && !double.IsNaN(max),
            $"{what}: max |diff| {max:E3} breaks atol {atol:E0} + rtol {rtol:E0}·|ref| (by {excess:E3}; max |ref| {e.abs().max().item<double>():E3})");
        return max;
    }
}
