using SharpClip.Tests.Data;
using SharpClip.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Tests.Training;

public class TrainingCheckpointTests
{
    static Dictionary<string, Tensor> Weights(float value) => new()
    {
        ["a"] = torch.full([3, 4], value),
        ["b"] = torch.tensor(value * 2),
    };

    static Dictionary<string, Tensor> OptimizerState(long step) => new()
    {
        ["a.exp_avg"] = torch.ones(3, 4), ["a.step"] = torch.tensor(step),
    };

    [Fact]
    public void SaveWritesACompleteFolderAndLoadRestoresIt()
    {
        using var dir = new TempDir();
        using var scope = torch.NewDisposeScope();
        var position = new TrainingPosition(12, 1, 3, 768);
        var saved = TrainingCheckpoint.Save(dir.Path, position, Weights(1.5f), OptimizerState(12), new System.Text.Json.Nodes.JsonObject { ["seed"] = 4 }, keep: 2);

        Assert.Equal(Path.Combine(dir.Path, "step-00000012"), saved);
        Assert.Empty(Directory.EnumerateDirectories(dir.Path, ".*")); // no staging folder left behind
        using var loaded = TrainingCheckpoint.LoadLatest(dir.Path)!;
        Assert.Equal(position, loaded.Position);
        Assert.Equal(4, (int)loaded.Config!["seed"]!);
        Assert.True(loaded.Model["a"].allclose(torch.full([3, 4], 1.5f)));
        Assert.Equal(3f, loaded.Model["b"].item<float>());
        Assert.Equal(12L, loaded.Optimizer["a.step"].item<long>());
    }

    [Fact]
    public void OnlyTheNewestCheckpointsAreKept()
    {
        using var dir = new TempDir();
        using var scope = torch.NewDisposeScope();
        foreach (var step in new long[] { 5, 10, 15, 20 })
            TrainingCheckpoint.Save(dir.Path, new TrainingPosition(step, 0, step, step * 4), Weights(step), OptimizerState(step), null, keep: 2);
        Assert.Equal([20L, 15L], TrainingCheckpoint.List(dir.Path).Select(c => c.Step));
    }

    public static IEnumerable<object[]> Damage =>
    [
        ["flipped byte", (Action<string>)(d => { var p = Path.Combine(d, TrainingCheckpoint.ModelFile); var b = File.ReadAllBytes(p); b[^3] ^= 0x5A; File.WriteAllBytes(p, b); })],
        ["truncated", (Action<string>)(d => { var p = Path.Combine(d, TrainingCheckpoint.OptimizerFile); var b = File.ReadAllBytes(p); File.WriteAllBytes(p, b[..(b.Length / 2)]); })],
        ["missing state", (Action<string>)(d => File.Delete(Path.Combine(d, TrainingCheckpoint.StateFile)))],
        ["garbled state", (Action<string>)(d => File.WriteAllText(Path.Combine(d, TrainingCheckpoint.StateFile), "{\"format\": \"sharpclip-training-che"))],
    ];

    [Theory, MemberData(nameof(Damage))]
    public void ADamagedNewestCheckpointFallsBackToThePreviousWithAWarning(string how, Action<string> damage)
    {
        using var dir = new TempDir();
        using var scope = torch.NewDisposeScope();
        TrainingCheckpoint.Save(dir.Path, new TrainingPosition(4, 0, 4, 16), Weights(4), OptimizerState(4), null, keep: 3);
        var newest = TrainingCheckpoint.Save(dir.Path, new TrainingPosition(8, 0, 8, 32), Weights(8), OptimizerState(8), null, keep: 3);
        damage(newest);

        var warnings = new List<string>();
        using var loaded = TrainingCheckpoint.LoadLatest(dir.Path, warnings.Add);
        Assert.NotNull(loaded);
        Assert.Equal(4, loaded!.Position.Step);
        Assert.True(loaded.Model["a"].allclose(torch.full([3, 4], 4f)), how);
        var warning = Assert.Single(warnings);
        Assert.Contains(newest, warning);
    }

    [Fact]
    public void NoUsableCheckpointGivesNull()
    {
        using var dir = new TempDir();
        Assert.Null(TrainingCheckpoint.LoadLatest(Path.Combine(dir.Path, "none")));
        using var scope = torch.NewDisposeScope();
        var only = TrainingCheckpoint.Save(dir.Path, new TrainingPosition(1, 0, 1, 2), Weights(1), OptimizerState(1), null, keep: 1);
        File.Delete(Path.Combine(only, TrainingCheckpoint.ModelFile));
        var warnings = new List<string>();
        Assert.Null(TrainingCheckpoint.LoadLatest(dir.Path, warnings.Add));
        Assert.Single(warnings);
    }
}
