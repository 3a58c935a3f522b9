using SharpClip.Files;
using System.Text.Json;
using SharpClip.Checkpoints;
using SharpClip.Tests.Infrastructure;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Tests.Modeling;

/// <summary>One <c>models</c> entry of the fixture manifest: its record, weights path and reference outputs.</summary>
internal sealed class ReferenceModel : IDisposable
{
    readonly SafeTensorsFile _outputs;

    public ReferenceModel(string id)
    {
        Id = id;
        Entry = Fixtures.Entry("models", id);
        WeightsPath = Fixtures.PathOf(Entry.GetProperty("weights").GetString()!);
        _outputs = SafeTensorsFile.Open(Fixtures.PathOf(Entry.GetProperty("outputs").GetString()!));
    }

    public string Id { get; }

    public JsonElement Entry { get; }

    public string WeightsPath { get; }

    public JsonElement Section(string name) => Entry.GetProperty(name);

    /// <summary>The outputs-file tensor a section's <c>tensors</c> map names for <paramref name="role"/>.</summary>
    public Tensor Tensor(string section, string role) => Output(Section(section).GetProperty("tensors").GetProperty(role).GetString()!);

    /// <summary>An outputs-file tensor by its name, as stored (dtype included).</summary>
    public Tensor Output(string name) => _outputs.ReadTensor(name);

    /// <summary>The class the reference's zero-shot probabilities rank first, per eval image.</summary>
    public int[] ZeroShotPredictions()
    {
        int classes = Section("zero_shot").GetProperty("classnames").GetArrayLength();
        using var probs = Tensor("zero_shot", "probs");
        var p = probs.to(ScalarType.Float32).data<float>().ToArray();
        return Enumerable.Range(0, p.Length / classes).Select(i => Enumerable.Range(0, classes).MaxBy(c => p[i * classes + c])).ToArray();
    }

    public void Dispose() => _outputs.Dispose();
}

internal static class TensorAssert
{
    /// <summary>
    /// max|actual − expected| ≤ tolerance · max|expected| (the fixtures' "relative to the features' max abs" metric).
    /// </summary>
    public static void Close(Tensor expected, Tensor actual, double tolerance, string what)
    {
        Assert.True(expected.shape.SequenceEqual(actual.shape),
            $"{what}: shape [{string.Join(",", actual.shape)}], reference [{string.Join(",", expected.shape)}]");
        using var scope = torch.NewDisposeScope();
        var e = expected.detach().to(ScalarType.Float64, CPU);
        var a = actual.detach().to(ScalarType.Float64, CPU);
        double scale = e.abs().max().item<double>();
        double diff = (a - e).abs().max().item<double>();
        Assert.True(diff <= tolerance * scale,
            $"{what}: max abs difference {diff:E3} exceeds {tolerance:E0} × max abs {scale:E3} (relative {diff / Math.Max(scale, double.Epsilon):E3})");
    }
}
