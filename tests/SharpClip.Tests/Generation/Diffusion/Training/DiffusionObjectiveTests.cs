using SharpClip.Generation.Diffusion.Autoencoder;
using SharpClip.Generation.Diffusion.Conditioning;
using SharpClip.Generation.Diffusion.Sampling;
using SharpClip.Generation.Diffusion.Training;
using SharpClip.Generation.Diffusion.UNet;
using SharpClip.Tests.Infrastructure;
using SharpClip.Text;
using SharpClip.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Tests.Generation.Diffusion.Training;

/// <summary>The pieces of latent diffusion training against their formulas evaluated here in doubles; caption dropout; a U-Net learns.</summary>
public class DiffusionObjectiveTests
{
    [Fact]
    public void NoisingIsQSampleOnTheLinearSchedule()
    {
        // LDM's make_beta_schedule('linear'): β = linspace(√0.00085, √0.012, 1000)², ᾱ_t = Π_{s≤t} (1 − β_s), in doubles here.
        double a = Math.Sqrt(0.00085), b = Math.Sqrt(0.012);
        var alphaBar = new double[1000];
        double product = 1;
        for (int i = 0; i < 1000; i++)
        {
            double beta = Math.Pow(a + (b - a) * i / 999, 2);
            product *= 1 - beta;
            alphaBar[i] = product;
        }
        var objective = new DiffusionObjective(NoiseSchedule.Linear(0.00085, 0.012, 1000));
        var gen = new torch.Generator(3);
        using var x0 = torch.randn([3, 4, 2, 2], generator: gen);
        using var eps = torch.randn([3, 4, 2, 2], generator: gen);
        using var t = torch.tensor(new long[] { 0, 499, 999 });
        using var xt = objective.Noise(x0, t, eps);
        var x = x0.data<float>().ToArray();
        var e = eps.data<float>().ToArray();
        var got = xt.data<float>().ToArray();
        long[] steps = [0, 499, 999];
        for (int i = 0; i < got.Length; i++)
        {
            double ab = alphaBar[steps[i / 16]];
            Assert.Equal(Math.Sqrt(ab) * x[i] + Math.Sqrt(1 - ab) * e[i], got[i], 2e-6);   // float32 arithmetic
        }
        using var drawn = objective.SampleTimesteps(4000, new torch.Generator(4));
        Assert.True(drawn.min().item<long>() >= 0 && drawn.max().item<long>() <= 999);
        Assert.InRange(drawn.to(ScalarType.Float64).mean().item<double>(), 480, 520);   // uniform over 0..999: mean 499.5
    }

    [Fact]
    public void AutoencoderLossSumsPerImageAndKlIsTheGaussianFormula()
    {
        var gen = new torch.Generator(5);
        using var moments = torch.randn([2, 4, 2, 3], generator: gen);
        using var posterior = new DiagonalGaussian(moments);
        using var kl = AutoencoderObjective.Kl(posterior);
        var m = moments.data<float>().ToArray();
        double expected = 0;
        for (int n = 0; n < 2; n++)
            for (int i = 0; i < 12; i++)
            {
                double mean = m[n * 24 + i], logVar = m[n * 24 + 12 + i];
                expected += 0.5 * (mean * mean + Math.Exp(logVar) - 1 - logVar) / 2;   // summed per image, averaged over 2
            }
        Assert.Equal(expected, kl.item<float>(), 4);

        using var image = torch.rand([2, 3, 2, 2], generator: gen);
        using var reconstruction = torch.rand([2, 3, 2, 2], generator: gen);
        var x = image.data<float>().ToArray();
        var r = reconstruction.data<float>().ToArray();
        double l1 = x.Zip(r, (p, q) => Math.Abs(p - q)).Sum() / 2, l2 = x.Zip(r, (p, q) => (p - q) * (double)(p - q)).Sum() / 2;
        using var gotL1 = AutoencoderObjective.Reconstruction(reconstruction, image, AutoencoderReconstruction.L1);
        using var gotL2 = AutoencoderObjective.Reconstruction(reconstruction, image, AutoencoderReconstruction.L2);
        Assert.Equal(l1, gotL1.item<float>(), 5);
        Assert.Equal(l2, gotL2.item<float>(), 5);
    }

    [Fact]
    public void DroppedCaptionsBecomeTheEmptyCaptionGuidanceUses()
    {
        var tokenizer = ClipTokenizer.Load(Fixtures.VocabPath);
        using var ids = PromptTokens.Tensor(tokenizer, ["a red circle", "two blue squares", "a green star", "one yellow ring"], 77);
        using var empty = PromptTokens.Tensor(tokenizer, [""], 77);
        // OpenAI's vocabulary: start of text 49406, end of text 49407, and SD pads with the end-of-text id.
        Assert.Equal([49406L, .. Enumerable.Repeat(49407L, 76)], empty.data<long>().ToArray());
        using var dropped = torch.tensor(new[] { true, false, false, true });
        using var applied = CaptionDropout.Apply(ids, empty, dropped);
        for (int row = 0; row < 4; row++)
        {
            using var got = applied[row];
            using var want = row is 0 or 3 ? empty[0] : ids[row];
            Assert.Equal(want.data<long>().ToArray(), got.data<long>().ToArray());
        }
        using var draw = CaptionDropout.Draw(20_000, 0.1, new torch.Generator(6));
        Assert.InRange(draw.to(ScalarType.Float64).mean().item<double>(), 0.09, 0.11);
        using var none = CaptionDropout.Draw(1000, 0, new torch.Generator(6));
        Assert.False(none.any().item<bool>());
    }

    [Fact]
    public void ZeroInitialisedUNetPredictsZeroAndLearnsAFixedBatch()
    {
        torch.manual_seed(7);
        using var unet = new UNetModel(new UNetConfig
        {
            InChannels = 4, OutChannels = 4, ModelChannels = 32, ChannelMult = [1, 2], NumResBlocks = 1, AttentionResolutions = [2],
            NumHeads = 2, NumHeadChannels = -1, ContextDim = 16,
        });
        UNetInitialisation.ZeroResidualOutputs(unet);
        foreach (var p in unet.parameters()) p.requires_grad_(true);
        unet.train();
        var gen = new torch.Generator(8);
        using var x = torch.randn([4, 4, 8, 8], generator: gen);
        using var eps = torch.randn([4, 4, 8, 8], generator: gen);
        using var context = torch.randn([4, 5, 16], generator: gen);
        using var t = torch.tensor(new long[] { 10, 200, 500, 900 });
        using (torch.no_grad())
        using (var first = unet.forward(x, t, context))
            Assert.Equal(0, first.abs().max().item<float>());                 // zero_module: every residual branch and the output start at 0
        using var optimizer = new AdamWOptimizer([new ParameterGroup("all", unet.named_parameters().Select(p => (p.name, p.parameter)).ToList(), 0)], 0.9, 0.999, 1e-8);
        var losses = new List<double>();
        for (int i = 0; i < 12; i++)
        {
            using var scope = torch.NewDisposeScope();
            var loss = DiffusionObjective.Loss(unet.forward(x, t, context), eps);
            optimizer.ZeroGrad();
            loss.backward();
            optimizer.Step(2e-3);
            losses.Add(loss.item<float>());
        }
        Assert.True(losses[^1] < 0.9 * losses[0], $"loss {losses[0]} → {losses[^1]}");
    }
}
