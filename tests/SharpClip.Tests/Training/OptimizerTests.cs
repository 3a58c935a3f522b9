using SharpClip.Modeling;
using SharpClip.Tests.Modeling;
using SharpClip.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpClip.Tests.Training;

public class OptimizerTests
{
    [Theory]
    [InlineData("vit")]
    [InlineData("resnet")]
    public void WeightDecayGoesToMatricesAndKernelsOnly(string which)
    {
        using var model = new ClipModel(TinyConfigs.ByName(which));
        var (decay, noDecay) = WeightDecayRule.Split(model.named_parameters().Select(p => (p.name, p.parameter)));
        var decayed = decay.Select(d => d.Name).ToHashSet();
        var kept = noDecay.Select(d => d.Name).ToHashSet();
        Assert.Equal(model.named_parameters().Count(), decayed.Count + kept.Count);

        Assert.Contains("text_projection", decayed);
        Assert.Contains("transformer.resblocks.0.attn.in_proj_weight", decayed);
        Assert.Contains("transformer.resblocks.0.mlp.c_fc.weight", decayed);
        Assert.Contains("visual.conv1.weight", decayed);
        foreach (var name in new[] { "logit_scale", "token_embedding.weight", "positional_embedding", "ln_final.weight", "ln_final.bias",
                     "transformer.resblocks.0.attn.in_proj_bias", "transformer.resblocks.0.ln_1.weight" })
            Assert.Contains(name, kept);
        if (which == "vit")
        {
            Assert.Contains("visual.proj", decayed);
            Assert.Contains("visual.class_embedding", kept);
            Assert.Contains("visual.positional_embedding", kept);
        }
        else
        {
            Assert.Contains("visual.attnpool.c_proj.weight", decayed);
            Assert.Contains("visual.attnpool.positional_embedding", kept);
            Assert.Contains("visual.bn1.weight", kept);
        }
        Assert.All(kept, n => Assert.True(!n.Contains("embedding") || !decayed.Contains(n)));
        Assert.All(decayed, n => Assert.False(n.EndsWith(".bias") || n.Contains("embedding") || n.Contains(".ln_") || n.Contains(".bn"), n));
    }

    // Our AdamW against TorchSharp's (an independent implementation of the same update) on two groups.
    [Fact]
    public void AdamWMatchesTorchSharpsAdamW()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(7);
        var ours = new[] { new Parameter(torch.randn(5, 3)), new Parameter(torch.randn(3)) };
        var theirs = ours.Select(p => new Parameter(p.detach().clone())).ToArray();
        var grads = Enumerable.Range(0, 6).Select(_ => ours.Select(p => torch.randn_like(p)).ToArray()).ToArray();

        using var adam = new AdamWOptimizer([new ParameterGroup("decay", [("w", ours[0])], 0.2), new ParameterGroup("no_decay", [("b", ours[1])], 0)], 0.9, 0.98, 1e-6);
        var reference = torch.optim.AdamW([new AdamW.ParamGroup([theirs[0]], new AdamW.Options { LearningRate = 1e-2, weight_decay = 0.2 }),
                                           new AdamW.ParamGroup([theirs[1]], new AdamW.Options { LearningRate = 1e-2, weight_decay = 0 })],
                                          lr: 1e-2, beta1: 0.9, beta2: 0.98, eps: 1e-6);
        double[] lrs = [1e-2, 5e-3, 2e-2, 1e-2, 1e-3, 3e-2];
        for (int step = 0; step < lrs.Length; step++)
        {
            foreach (var g in reference.ParamGroups) g.LearningRate = lrs[step];
            for (int i = 0; i < 2; i++)
            {
                ours[i].grad = grads[step][i].clone();
                theirs[i].grad = grads[step][i].clone();
            }
            adam.Step(lrs[step]);
            reference.step();
        }
        for (int i = 0; i < 2; i++)
            Assert.True(ours[i].allclose(theirs[i], rtol: 1e-5, atol: 1e-6), $"parameter {i}: max diff {(ours[i] - theirs[i]).abs().max().item<float>()}");
    }

    [Fact]
    public void AdamWStateRoundTripContinuesExactly()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(3);
        var start = torch.randn(4, 4);
        var grads = Enumerable.Range(0, 5).Select(_ => torch.randn(4, 4)).ToArray();

        Parameter Run(int steps, Parameter p, AdamWOptimizer adam, int from)
        {
            for (int s = from; s < from + steps; s++) { p.grad = grads[s].clone(); adam.Step(1e-2); }
            return p;
        }
        var straight = new Parameter(start.clone());
        using var a = new AdamWOptimizer([new ParameterGroup("g", [("w", straight)], 0.1)]);
        Run(5, straight, a, 0);

        var first = new Parameter(start.clone());
        using var b = new AdamWOptimizer([new ParameterGroup("g", [("w", first)], 0.1)]);
        Run(3, first, b, 0);
        var state = b.StateDict();
        Assert.Equal(3, state["w.step"].item<long>());
        var second = new Parameter(first.detach().clone());
        using var c = new AdamWOptimizer([new ParameterGroup("g", [("w", second)], 0.1)]);
        c.LoadStateDict(state, "test state");
        Run(2, second, c, 3);
        Assert.True(straight.equal(second).all().item<bool>(), "resumed optimizer diverged from the uninterrupted one");

        state.Remove("w.exp_avg_sq");
        var e = Assert.Throws<InvalidDataException>(() => c.LoadStateDict(state, "broken state"));
        Assert.Contains("w.exp_avg_sq", e.Message);
    }
}
