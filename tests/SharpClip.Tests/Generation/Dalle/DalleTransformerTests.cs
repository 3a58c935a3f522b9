using SharpClip.Generation.Dalle.Sampling;
using SharpClip.Generation.Dalle.Transformer;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Tests.Generation.Dalle;

/// <summary>The DALL-E transformer: causality, the logit mask, the 1/8 : 7/8 loss against a hand computation, cached = uncached sampling.</summary>
public class DalleTransformerTests
{
    static readonly DalleConfig Tiny = new() { TextVocabSize = 20, TextLength = 5, ImageVocabSize = 12, ImageRows = 3, ImageColumns = 2, Width = 32, Layers = 2, Heads = 4 };

    static DalleTransformer Model(int seed)
    {
        torch.manual_seed(seed);
        var m = new DalleTransformer(Tiny);
        m.eval();
        return m;
    }

    static (Tensor Text, Tensor Image) Tokens(int seed, int batch = 2)
    {
        var g = new torch.Generator((ulong)seed);
        return (torch.randint(0, Tiny.TextTokens, [batch, Tiny.TextLength], generator: g), torch.randint(0, Tiny.ImageVocabSize, [batch, Tiny.ImageTokens], generator: g));
    }

    [Fact]
    public void ChangingALaterTokenLeavesEarlierLogitsUnchanged()
    {
        using var model = Model(1);
        var (text, image) = Tokens(2);
        using var _ = no_grad();
        var input = image.narrow(1, 0, Tiny.ImageTokens - 1);
        using var before = model.Forward(text, input);
        var changed = input.clone();
        changed[0, 3] = (changed[0, 3] + 1) % Tiny.ImageVocabSize;       // sequence position text_length + 3 = 8
        using var after = model.Forward(text, changed);
        Assert.Equal([2L, Tiny.InputLength, Tiny.TotalTokens], before.shape);
        var finite = before.isfinite();
        // positions 0..7 do not see position 8
        Assert.True(before.narrow(1, 0, 8).where(finite.narrow(1, 0, 8), 0).allclose(after.narrow(1, 0, 8).where(finite.narrow(1, 0, 8), 0), 0, 0));
        Assert.False(before[0, 8].where(finite[0, 8], 0).allclose(after[0, 8].where(finite[0, 8], 0)));
        Assert.True(before[1].where(finite[1], 0).allclose(after[1].where(finite[1], 0), 0, 0));   // the other sample is untouched
    }

    [Fact]
    public void TextPositionsPredictOnlyTextAndImagePositionsOnlyImageTokens()
    {
        using var model = Model(3);
        var (text, image) = Tokens(4);
        using var _ = no_grad();
        using var logits = model.Forward(text, image.narrow(1, 0, Tiny.ImageTokens - 1));
        var values = logits[0].data<float>().ToArray();
        for (int p = 0; p < Tiny.InputLength; p++)
            for (int c = 0; c < Tiny.TotalTokens; c++)
            {
                bool predictsText = p + 1 < Tiny.TextLength;          // the token after position p is a caption token
                bool isText = c < Tiny.TextVocabSize + Tiny.TextLength;
                float v = values[p * Tiny.TotalTokens + c];
                if (predictsText == isText) Assert.True(float.IsFinite(v), $"position {p} class {c}");
                else Assert.Equal(float.NegativeInfinity, v);
            }
    }

    [Fact]
    public void LossIsAnEighthTextAndSevenEighthsImageCrossEntropy()
    {
        using var model = Model(5);
        var (text, image) = Tokens(6);
        using var logits = model.Forward(text, image.narrow(1, 0, Tiny.ImageTokens - 1));
        using var parts = DalleLoss.Compute(logits, text, image, Tiny);
        var l = logits.detach().data<float>().ToArray();
        var t = text.data<long>().ToArray();
        var im = image.data<long>().ToArray();
        double Nll(int b, int p, long target)
        {
            var row = Enumerable.Range(0, Tiny.TotalTokens).Select(c => (double)l[(b * Tiny.InputLength + p) * Tiny.TotalTokens + c]).ToArray();
            double max = row.Where(double.IsFinite).Max();
            return -(row[target] - max - Math.Log(row.Where(double.IsFinite).Sum(v => Math.Exp(v - max))));
        }
        double textSum = 0, imageSum = 0;
        for (int b = 0; b < 2; b++)
        {
            for (int p = 0; p < Tiny.TextLength - 1; p++) textSum += Nll(b, p, t[b * Tiny.TextLength + p + 1]);
            for (int i = 0; i < Tiny.ImageTokens; i++) imageSum += Nll(b, Tiny.TextLength - 1 + i, Tiny.TextTokens + im[b * Tiny.ImageTokens + i]);
        }
        double textCe = textSum / (2 * (Tiny.TextLength - 1)), imageCe = imageSum / (2 * Tiny.ImageTokens);
        Assert.Equal(textCe, parts.Text.item<float>(), 4);
        Assert.Equal(imageCe, parts.Image.item<float>(), 4);
        Assert.Equal(textCe / 8 + imageCe * 7 / 8, parts.Total.item<float>(), 4);
        using var even = DalleLoss.Compute(logits, text, image, Tiny, textWeight: 1, imageWeight: 1);
        Assert.Equal((textCe + imageCe) / 2, even.Total.item<float>(), 4);
    }

    [Fact]
    public void PerPositionPaddingGivesEachPositionItsOwnId()
    {
        long[] row = [49406, 320, 1929, 49407, 0, 0];
        DalleText.PadPerPosition(row, 49407, 49408);
        Assert.Equal([49406L, 320, 1929, 49407, 49408 + 4, 49408 + 5], row);
    }

    [Theory]
    [InlineData(1.0, null, null)]
    [InlineData(0.7, 5, null)]
    [InlineData(1.3, null, 0.8)]
    public void CachedAndUncachedSamplingGiveTheSameTokensAndLogits(double temperature, int? topK, double? topP)
    {
        using var model = Model(7);
        var (text, _) = Tokens(8, batch: 3);
        var options = new SamplingOptions { Temperature = temperature, TopK = topK, TopP = topP };
        var cachedLogits = new List<Tensor>();
        var plainLogits = new List<Tensor>();
        using var cached = DalleSampler.Sample(model, text, options, new torch.Generator(99), stepLogits: cachedLogits);
        using var plain = DalleSampler.Sample(model, text, options with { UseCache = false }, new torch.Generator(99), stepLogits: plainLogits);
        Assert.Equal([3L, Tiny.ImageTokens], cached.shape);
        Assert.Equal(plain.data<long>().ToArray(), cached.data<long>().ToArray());
        for (int i = 0; i < Tiny.ImageTokens; i++)
            Assert.True((cachedLogits[i] - plainLogits[i]).abs().max().item<float>() <= 1e-5, $"token {i}");
        using var again = DalleSampler.Sample(model, text, options, new torch.Generator(99));
        Assert.Equal(cached.data<long>().ToArray(), again.data<long>().ToArray());     // the seed reproduces
    }

    [Fact]
    public void TopKAndTopPKeepOnlyTheLikeliestTokens()
    {
        using var logits = torch.tensor(new float[] { 0, 1, 2, 3, 4 }, [1, 5]);
        using var k = TokenSampler.Filter(logits, new SamplingOptions { TopK = 2 });
        Assert.Equal([false, false, false, true, true], k.isfinite().data<bool>().ToArray());
        // softmax of 0..4: 0.636, 0.234, 0.086, ...: top-p 0.8 keeps 4 and 3 (0.636 < 0.8, then 0.870 ≥ 0.8)
        using var p = TokenSampler.Filter(logits, new SamplingOptions { TopP = 0.8 });
        Assert.Equal([false, false, false, true, true], p.isfinite().data<bool>().ToArray());
        using var p2 = TokenSampler.Filter(logits, new SamplingOptions { TopP = 0.5 });
        Assert.Equal([false, false, false, false, true], p2.isfinite().data<bool>().ToArray());
    }

    [Fact]
    public void SamplingStopsBetweenTokensWhenCancelled()
    {
        using var model = Model(9);
        var (text, _) = Tokens(10);
        using var cts = new CancellationTokenSource();
        int seen = 0;
        Assert.Throws<OperationCanceledException>(() => DalleSampler.Sample(model, text, new SamplingOptions(), new torch.Generator(1),
            tokens => { seen = tokens; if (tokens == 2) cts.Cancel(); }, cts.Token));
        Assert.Equal(2, seen);
    }
}
