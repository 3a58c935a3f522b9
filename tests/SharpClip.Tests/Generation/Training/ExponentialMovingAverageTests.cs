using SharpClip.Generation.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Tests.Generation.Training;

public class ExponentialMovingAverageTests
{
    /// <summary>LDM's LitEma rule, d_n = min(decay, (1 + n) / (10 + n)), followed in doubles beside the tensor average.</summary>
    [Fact]
    public void DecayWarmsUpAsLdmsLitEmaThenHoldsTheGivenDecay()
    {
        using var p = new TorchSharp.Modules.Parameter(torch.tensor(new[] { 0.0f, 1.0f }));
        using var ema = new ExponentialMovingAverage([("w", p)], decay: 0.9);
        double[] expected = [0.0, 1.0];
        for (long n = 1; n <= 200; n++)
        {
            using (torch.no_grad()) p.copy_(torch.tensor(new[] { (float)n, (float)(-n) }));
            ema.Update(n);
            double d = Math.Min(0.9, (1.0 + n) / (10.0 + n));
            expected = [d * expected[0] + (1 - d) * n, d * expected[1] + (1 - d) * -n];
        }
        var average = ema.Averages.Single().Average.data<float>().ToArray();
        Assert.Equal(expected[0], average[0], expected[0] * 1e-5);
        Assert.Equal(expected[1], average[1], Math.Abs(expected[1]) * 1e-5);
        Assert.Equal(2.0 / 11.0, ema.DecayAt(1), 12);
        Assert.Equal(0.9, ema.DecayAt(1000), 12);
    }

    [Fact]
    public void UpdatesAreCountedFromOne()
    {
        using var p = new TorchSharp.Modules.Parameter(torch.zeros(2));
        using var ema = new ExponentialMovingAverage([("w", p)], decay: 0.99);
        Assert.Throws<ArgumentOutOfRangeException>(() => ema.Update(0));
    }
}
