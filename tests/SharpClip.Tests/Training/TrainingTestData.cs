using SharpClip.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Tests.Training;

/// <summary>Random batches and gradient snapshots for training tests.</summary>
internal static class TrainingTestData
{
    /// <summary>[n, 3, r, r] normal pixels and [n, context] ids that end in the end-of-text id (vocab − 1) at a random position.</summary>
    public static (Tensor Pixels, Tensor Ids) Batch(ClipConfig config, int n, int seed)
    {
        var rng = new Random(seed);
        var generator = new torch.Generator((ulong)seed);
        var pixels = torch.randn([n, 3, config.ImageResolution, config.ImageResolution], generator: generator);
        var ids = new long[n * config.ContextLength];
        for (int i = 0; i < n; i++)
        {
            int end = rng.Next(2, config.ContextLength);
            ids[i * config.ContextLength] = config.VocabSize - 2;
            for (int t = 1; t < end; t++) ids[i * config.ContextLength + t] = rng.Next(1, config.VocabSize - 2);
            ids[i * config.ContextLength + end] = config.VocabSize - 1;
        }
        return (pixels, torch.tensor(ids, [n, config.ContextLength]));
    }

    /// <summary>A copy of every gradient that exists, by parameter name.</summary>
    public static Dictionary<string, Tensor> Gradients(IEnumerable<(string Name, TorchSharp.Modules.Parameter Parameter)> parameters) =>
        parameters.Where(p => p.Parameter.grad is not null).ToDictionary(p => p.Name, p => p.Parameter.grad!.detach().clone());

    public static void ClearGradients(nn.Module model)
    {
        foreach (var p in model.parameters()) p.grad = null;
    }

    /// <summary>Largest absolute difference over all gradients (both sides must have the same names).</summary>
    public static double MaxDifference(Dictionary<string, Tensor> expected, Dictionary<string, Tensor> actual)
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        double worst = 0;
        foreach (var (name, e) in expected)
        {
            using var d = (e.to(ScalarType.Float64) - actual[name].to(ScalarType.Float64)).abs().max();
            worst = Math.Max(worst, d.item<double>());
        }
        return worst;
    }

    public static double MaxAbs(Dictionary<string, Tensor> gradients) => gradients.Values.Max(g => g.abs().max().item<float>());
}
