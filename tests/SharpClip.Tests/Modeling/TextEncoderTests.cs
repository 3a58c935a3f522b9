using SharpClip.Modeling;
using SharpClip.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Tests.Modeling;

public class TextEncoderTests
{
    // Rows: start token, a few ids, end-of-text (the largest id), padding.
    static Tensor Ids(int vocab) => torch.tensor(new long[,]
    {
        { vocab - 2, 5, 17, 9, vocab - 1, 0, 0, 0, 0, 0, 0, 0 },
        { vocab - 2, 40, vocab - 1, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    });

    [Fact]
    public void InferenceTrimsPaddingAndGivesTheFullContextsEmbeddings()
    {
        // EmbedTexts runs only up to the batch's last end token (issue 14: most of the text tower's work for short
        // prompts); the result must be the reference's full-context embeddings to float32 rounding.
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(7);
        using var model = new ClipModel(TinyConfigs.Vit);
        model.eval();
        var ids = Ids(TinyConfigs.Vit.VocabSize);
        Assert.Equal(5, TextPadding.Trim(ids).shape[1]);
        var trimmed = model.EmbedTexts(ids);
        var full = model.EmbedTexts(ids, trimPadding: false);
        Assert.Equal(full.shape, trimmed.shape);
        double diff = (trimmed - full).abs().max().item<float>();
        Assert.True(diff <= 1e-6, $"trimming changed a normalised embedding by {diff:E3}");
        Assert.Equal([0, TinyConfigs.Vit.EmbedDim], model.EmbedTexts(torch.zeros([0, TinyConfigs.Vit.ContextLength], ScalarType.Int64)).shape);
    }

    [Fact]
    public void TheCausalMaskMakesTrailingPaddingIrrelevant()
    {
        // Tokens after the end-of-text position cannot influence it, so a shorter context gives the same features,
        // and changing the padding changes nothing.
        using var scope = torch.NewDisposeScope();
        using var model = new ClipModel(TinyConfigs.Vit);
        model.eval();
        using var _ = torch.no_grad();
        var ids = Ids(TinyConfigs.Vit.VocabSize);
        var full = model.EncodeTexts(ids);
        var shorter = model.EncodeTexts(ids.narrow(1, 0, 6));
        // Exact in arithmetic; the shorter GEMMs round differently, so the bar is float32 rounding of the largest feature
        // (an element-wise rtol failed now and then for small features of the unseeded random model).
        TensorAssert.Close(full, shorter, 1e-5, "shorter context");
        var noisy = ids.clone();
        noisy[.., 8] = torch.tensor(123L);
        TensorAssert.Close(full, model.EncodeTexts(noisy), 1e-5, "other padding");
        // ...but an earlier token does change it.
        var changed = ids.clone();
        changed[0, 1] = torch.tensor(6L);
        Assert.False(full[0].allclose(model.EncodeTexts(changed)[0], rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void HiddenStatesHaveTheDocumentedShapes()
    {
        using var scope = torch.NewDisposeScope();
        using var model = new ClipModel(TinyConfigs.Vit);
        using var _ = torch.no_grad();
        using var output = model.EncodeTextsWithHiddenStates(Ids(TinyConfigs.Vit.VocabSize), normalize: true);
        var c = TinyConfigs.Vit;
        Assert.Equal(new long[] { c.TextLayers, 2, c.ContextLength, c.TextWidth }, output.BlockOutputs!.shape);
        Assert.Equal(new long[] { 2, c.ContextLength, c.TextWidth }, output.FinalHidden.shape);
        Assert.Equal(new long[] { 2, c.EmbedDim }, output.Features.shape);
        Assert.True(output.Features.norm(1).allclose(torch.ones(2), rtol: 1e-5, atol: 1e-5));
        using var withoutBlocks = model.EncodeTextsWithHiddenStates(Ids(c.VocabSize), includeBlockOutputs: false);
        Assert.Null(withoutBlocks.BlockOutputs);
    }

    [Fact]
    public void RejectsIdsLongerThanTheContext()
    {
        using var model = new ClipModel(TinyConfigs.Vit);
        using var ids = torch.zeros(1, TinyConfigs.Vit.ContextLength + 1, dtype: ScalarType.Int64);
        var e = Assert.Throws<ArgumentException>(() => model.EncodeTexts(ids));
        Assert.Contains("context length", e.Message);
    }

    [Fact]
    public void ClipLossIsLogNForUniformLogitsAndSmallForAConfidentDiagonal()
    {
        using var scope = torch.NewDisposeScope();
        var uniform = torch.zeros(5, 5);
        Assert.Equal(Math.Log(5), ClipLoss.Compute(uniform, uniform.t()).item<float>(), 5);
        var diagonal = torch.eye(5) * 50;
        Assert.True(ClipLoss.Compute(diagonal, diagonal.t()).item<float>() < 1e-6);
        Assert.Throws<ArgumentException>(() => ClipLoss.Compute(torch.zeros(2, 3), torch.zeros(3, 2)));
    }
}
