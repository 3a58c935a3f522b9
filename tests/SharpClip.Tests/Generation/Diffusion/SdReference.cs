using System.Text.Json;
using SharpClip.Files;
using SharpClip.Generation.Diffusion;
using SharpClip.Generation.Diffusion.Conditioning;
using SharpClip.Generation.Diffusion.UNet;
using SharpClip.Tests.Infrastructure;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SharpClip.Tests.Generation.Diffusion;

/// <summary>One <c>stable_diffusion</c> record of the generative manifest: its weights, its reference outputs by case and role, its config.</summary>
internal sealed class SdReference : IDisposable
{
    readonly SafeTensorsFile _outputs;

    public SdReference(string id)
    {
        Entry = GenerativeFixtures.StableDiffusionModel(id);
        Id = id;
        WeightsPath = GenerativeFixtures.PathOf(Entry.GetProperty("weights").GetString()!);
        _outputs = SafeTensorsFile.Open(GenerativeFixtures.PathOf(Entry.GetProperty("outputs").GetString()!));
    }

    public string Id { get; }
    public JsonElement Entry { get; }
    public string WeightsPath { get; }
    public JsonElement Config => Entry.GetProperty("config");

    public JsonElement Case(string caseId) => GenerativeFixtures.Case(Entry, caseId);

    /// <summary>A reference tensor of a case by its role (the manifest maps roles to names in the outputs file).</summary>
    public Tensor Tensor(string caseId, string role) =>
        _outputs.ReadTensor(Case(caseId).GetProperty("tensors").GetProperty(role).GetString()!);

    /// <summary>What the weights cannot say, from the manifest: the U-Net's and the text tower's heads, the schedule.</summary>
    public StableDiffusionConfig ManifestConfig() => StableDiffusionConfig.FromJson(Config, $"{GenerativeFixtures.Dir}/manifest.json ({Id})");

    public void Dispose() => _outputs.Dispose();
}

/// <summary>Tolerance checks that report the measured difference (test output), so parity figures can be quoted.</summary>
internal static class SdAssert
{
    /// <summary>|actual − expected| ≤ atol + rtol·|expected| element-wise; returns max |diff|.</summary>
    public static double Close(Tensor expected, Tensor actual, double atol, double rtol, string what, ITestOutputHelper? output = null)
    {
        Assert.True(expected.shape.SequenceEqual(actual.shape),
            $"{what}: shape [{string.Join(",", actual.shape)}], reference [{string.Join(",", expected.shape)}]");
        using var scope = torch.NewDisposeScope();
        var e = expected.detach().to(ScalarType.Float64, CPU);
        var a = actual.detach().to(ScalarType.Float64, CPU);
        var diff = a.sub(e).abs();
        double max = diff.max().item<double>();
        double worstExcess = diff.sub(e.abs().mul(rtol)).max().item<double>();
        output?.WriteLine($"{what}: max |diff| {max:E3} (max |ref| {e.abs().max().item<double>():E3})");
        Assert.True(worstExcess <= atol, $"{what}: max |diff| {max:E3} exceeds atol {atol:E0} + rtol {rtol:E0}·|ref|");
        return max;
    }

    /// <summary>|diff| ≤ scale·max|expected| + atol (the DDIM tolerance: guidance amplifies U-Net differences).</summary>
    public static double Scaled(Tensor expected, Tensor actual, double scale, double atol, string what, ITestOutputHelper? output = null)
    {
        using var scope = torch.NewDisposeScope();
        double bound = scale * expected.abs().max().to(ScalarType.Float64).item<double>() + atol;
        return Close(expected, actual, bound, 0, what, output);
    }

    /// <summary>Integer tensors equal element for element.</summary>
    public static void Exact(Tensor expected, Tensor actual, string what)
    {
        Assert.True(expected.shape.SequenceEqual(actual.shape),
            $"{what}: shape [{string.Join(",", actual.shape)}], reference [{string.Join(",", expected.shape)}]");
        using var scope = torch.NewDisposeScope();
        var e = expected.to(ScalarType.Int64, CPU);
        var a = actual.to(ScalarType.Int64, CPU);
        long mismatches = e.ne(a).sum().item<long>();
        Assert.True(mismatches == 0, $"{what}: {mismatches} of {e.numel()} values differ (reference [{string.Join(",", e.data<long>().ToArray().Take(12))}...], ours [{string.Join(",", a.data<long>().ToArray().Take(12))}...])");
    }
}
