using SharpClip.Files;
using SharpClip.Generation.Diffusion;
using SharpClip.Generation.Diffusion.UNet;
using SharpClip.Tests.Infrastructure;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Tests.Generation.Diffusion;

/// <summary>
/// The SD v2 spellings of the U-Net, for which no reference output is stored here: Linear <c>proj_in</c>/<c>proj_out</c>
/// on tokens must compute exactly what v1's 1×1 convolutions compute with the same weights, and the architecture
/// reader must recover any shape it is given (conv or linear, heads by count or by width) from the weight shapes alone.
/// </summary>
public class UNetVariantTests
{
    public static IEnumerable<object[]> UNetCases => GenerativeFixtures.StableDiffusionCases("unet_eps");

    [Theory, MemberData(nameof(UNetCases))]
    public void LinearProjectionsEqualOneByOneConvolutions(string id, string caseId)
    {
        using var reference = new SdReference(id);
        using var checkpoint = StableDiffusionCheckpoint.Open(reference.WeightsPath, reference.ManifestConfig());
        using var conv = checkpoint.LoadUNet();
        using var linear = new UNetModel(conv.Config with { UseLinearInTransformer = true });
        using (torch.no_grad())
        {
            var source = conv.state_dict();
            foreach (var (key, target) in linear.state_dict())
            {
                var value = source[key];
                // A 1×1 conv weight [out, in, 1, 1] is the Linear weight [out, in].
                target.copy_(value.dim() == 4 && target.dim() == 2 ? value.flatten(1) : value);
            }
        }
        using var scope = torch.NewDisposeScope();
        using var _ = torch.inference_mode();
        var x = reference.Tensor(caseId, "x");
        var t = reference.Tensor(caseId, "timesteps");
        var context = reference.Tensor(caseId, "context");
        SdAssert.Close(conv.forward(x, t, context), linear.forward(x, t, context), 1e-5, 1e-5, $"{id} linear vs conv projections");
    }

    public static IEnumerable<object[]> Shapes =>
    [
        [new UNetConfig { ModelChannels = 32, ChannelMult = [1, 2], NumResBlocks = 1, AttentionResolutions = [1], NumHeads = 2, ContextDim = 24 }],
        [new UNetConfig { ModelChannels = 32, ChannelMult = [1, 1, 2], NumResBlocks = 2, AttentionResolutions = [2], NumHeads = -1, NumHeadChannels = 16,
            TransformerDepth = 2, ContextDim = 40, UseLinearInTransformer = true, InChannels = 9 }],
    ];

    [Theory, MemberData(nameof(Shapes))]
    public void ArchitectureIsRecoveredFromWeightShapes(UNetConfig config)
    {
        using var model = new UNetModel(config);
        var shapes = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        var heads = (config.NumHeads, config.NumHeadChannels);
        var inferred = UNetWeightShapes.Infer(shapes, "test", StableDiffusionCheckpoint.UNetPrefix, heads);
        Assert.True(config.SameAs(inferred), $"inferred {inferred}, built {config}");
        using var scope = torch.NewDisposeScope();
        using var _ = torch.inference_mode();
        var eps = model.forward(torch.randn(2, config.InChannels, 8, 12), torch.tensor(new long[] { 1, 999 }), torch.randn(2, 5, config.ContextDim));
        Assert.Equal([2L, config.OutChannels, 8, 12], eps.shape); // non-square latents keep their shape
    }
}
