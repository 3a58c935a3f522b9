using SharpClip.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Tests.Modeling;

/// <summary>
/// The building blocks on their own: <see cref="ScopedModule"/>'s disposal, <see cref="KeptScalars.Plus"/>, the
/// head reshapes, and blocks built around other sublayers (what later models reuse).
/// </summary>
public class BlockTests
{
    static long LiveTensors => DisposeScopeManager.Statistics.ThreadTotalLiveCount;

    [Theory]
    [MemberData(nameof(TinyConfigs.All), MemberType = typeof(TinyConfigs))]
    public void AnImageTowerLeavesOnlyItsOutputAliveWithAndWithoutAutograd(string configName)
    {
        var config = TinyConfigs.ByName(configName);
        using var model = new ClipModel(config);
        model.eval();
        using var pixels = torch.randn(2, 3, config.ImageResolution, config.ImageResolution);
        foreach (bool grad in new[] { false, true })
        {
            using var mode = torch.set_grad_enabled(grad);
            model.Visual.forward(pixels).Dispose(); // warm-up
            long before = LiveTensors;
            using (var features = model.Visual.forward(pixels))
            {
                Assert.Equal(before + 1, LiveTensors);
                Assert.Equal(new long[] { 2, config.EmbedDim }, features.shape);
            }
            Assert.Equal(before, LiveTensors);
        }
    }

    [Fact]
    public void ABlockLeavesOnlyItsOutputAliveAndTrainsThroughTheScope()
    {
        using var block = new ResidualAttentionBlock(width: 32, heads: 4, mlpWidth: 128, Activation.QuickGelu, causal: true);
        using var x = torch.randn(2, 5, 32, requires_grad: true);
        long before = LiveTensors;
        using (var y = block.forward(x))
        {
            Assert.Equal(before + 1, LiveTensors);
            using var loss = y.square().sum();
            loss.backward();
        }
        foreach (var (name, parameter) in block.named_parameters())
        {
            Assert.True(parameter.grad is not null, $"{name} got no gradient");
            Assert.True(parameter.grad.abs().sum().item<float>() > 0, $"{name} got a zero gradient");
        }
        Assert.NotNull(x.grad);
    }

    [Fact]
    public void AModuleReturningItsInputLeavesItInTheCallersScope()
    {
        using var identity = new Identity();
        Tensor x;
        using (var scope = torch.NewDisposeScope())
        {
            x = torch.ones(3);
            var y = identity.forward(x);
            Assert.Same(x, y);
            Assert.False(x.IsInvalid);
        }
        Assert.True(x.IsInvalid); // the caller's scope still owned it and freed it
    }

    [Fact]
    public void PlusIsTheOrdinarySum()
    {
        using var x = torch.randn(4, 3);
        using var y = torch.randn(3);
        using var expected = x + y;
        using var sum = x.Plus(y);
        Assert.True(sum.eq(expected).all().item<bool>());
        using var copy = x.clone();
        Assert.Same(copy, copy.PlusInPlace(y));
        Assert.True(copy.eq(expected).all().item<bool>());
    }

    [Fact]
    public void SplittingIntoHeadsAndMergingIsTheIdentity()
    {
        using var x = torch.randn(2, 7, 12);
        using var heads = AttentionHeads.Split(x, 3);
        Assert.Equal(new long[] { 2, 3, 7, 4 }, heads.shape);
        Assert.True(heads[1, 2, 5].eq(x[1, 5].narrow(0, 8, 4)).all().item<bool>()); // head 2 is the third slice of width
        using var merged = AttentionHeads.Merge(heads);
        Assert.True(merged.eq(x).all().item<bool>());
    }

    [Fact]
    public void ClipsBlockKeepsTheReferenceKeys()
    {
        using var block = new ResidualAttentionBlock(width: 16, heads: 2, mlpWidth: 64, Activation.QuickGelu, causal: false);
        string[] expected = ["attn.in_proj_bias", "attn.in_proj_weight", "attn.out_proj.bias", "attn.out_proj.weight",
            "ln_1.bias", "ln_1.weight", "ln_2.bias", "ln_2.weight", "mlp.c_fc.bias", "mlp.c_fc.weight", "mlp.c_proj.bias", "mlp.c_proj.weight"];
        Assert.Equal(expected, block.state_dict().Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void ABlockAroundAnotherFeedForwardIsTheSamePreNormResidualSum()
    {
        const int width = 8;
        var attention = new SelfAttention(width, heads: 2, causal: false);
        var feedForward = nn.Linear(width, width);
        using var block = new ResidualAttentionBlock(width, attention, feedForward);
        Assert.Same(attention, block.Attention);
        Assert.Same(feedForward, block.FeedForward);
        Assert.Contains("mlp.weight", block.state_dict().Keys);
        Assert.Contains("attn.in_proj_weight", block.state_dict().Keys);

        using var stack = new TransformerStack([block]);
        Assert.Equal(1, stack.Layers);
        Assert.Same(block, stack.Blocks[0]);

        using var x = torch.randn(3, 4, width);
        using var y = stack.forward(x);
        using var norm = nn.LayerNorm(width); // fresh LayerNorms are the identity affine, as the block's are
        using var h = x + attention.forward(norm.forward(x));
        using var expected = h + feedForward.forward(norm.forward(h));
        Assert.True(y.allclose(expected, rtol: 0, atol: 1e-6));
    }

    sealed class Identity() : ScopedModule(nameof(Identity))
    {
        protected override Tensor Compute(Tensor input) => input;
    }
}
