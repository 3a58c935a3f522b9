using TorchSharp;

namespace SharpClip.Tests;

public class TorchRuntimeTests
{
    [Fact]
    public void NativeTorchLoadsAndMultipliesMatrices()
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.tensor(new float[] { 1, 2, 3, 4 }, 2, 2);
        var b = torch.tensor(new float[] { 5, 6, 7, 8 }, 2, 2);
        var c = a.matmul(b);
        Assert.Equal(new float[] { 19, 22, 43, 50 }, c.data<float>().ToArray());
    }
}
