using SharpClip.Managed;
using SharpClip.Modeling;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace SharpClip.Tests.Managed;

/// <summary>
/// The managed engine's ModifiedResNet: its convolutions (BatchNorm folded in; gathered rows, or Winograd's F(2×2, 3×3)
/// when there are enough tiles) against libtorch's conv2d + batch_norm over the shapes each path treats differently,
/// and whole towers with shapes the fixtures lack (odd map sides, partial Winograd tiles, chunks of images) against the
/// torch engine.
/// </summary>
public unsafe class ManagedResNetTests
{
    [Theory]
    [InlineData(1, 5, 16, 32, 3, 1, 1, false, "Auto")]   // 9 tiles: below Winograd's threshold, gathered rows
    [InlineData(2, 30, 16, 32, 3, 1, 1, false, "Winograd")] // 450 tiles: F(2×2), each thread its own tiles in chunks of 204 + 21
    [InlineData(1, 32, 16, 32, 3, 1, 1, false, "Auto")]  // 64 tiles of 4×4 on a 32×32 map: F(4×4, 3×3), own tiles
    [InlineData(2, 16, 32, 64, 3, 1, 1, false, "Auto")]  // 32 tiles of 4×4: too few, F(2×2) with 128 tiles
    [InlineData(3, 9, 32, 64, 3, 1, 1, false, "Winograd4")] // F(4×4) on a 9×9 map (forced): the last tiles 1 pixel wide and tall
    [InlineData(1, 14, 64, 64, 3, 1, 1, false, "Winograd4")] // 16 tiles, 2 panels: shared columns, half-outside tiles
    [InlineData(5, 7, 32, 48, 3, 1, 1, false, "Auto")]   // 80 tiles of a 7×7 map, tiles half outside it; 1½ panels: own tiles
    [InlineData(3, 7, 32, 16, 3, 1, 1, false, "Auto")]   // 48 tiles, half a panel of outputs: own tiles
    [InlineData(1, 14, 32, 64, 3, 1, 1, false, "Auto")]  // 49 tiles, 2 panels: the threads share the columns (batch 1, 14×14)
    [InlineData(1, 7, 64, 96, 3, 1, 1, false, "Auto")]   // 16 tiles, 3 panels split 1 + 2: shared columns, partial tiles
    [InlineData(1, 14, 32, 80, 3, 1, 1, false, "Auto")]  // 49 tiles, 2½ panels: shared columns, the half panel staged
    [InlineData(2, 9, 32, 64, 3, 1, 1, false, "Direct")] // each path on a shape the others also run
    [InlineData(2, 9, 32, 64, 3, 1, 1, false, "WinogradOwnTiles")]
    [InlineData(2, 9, 32, 64, 3, 1, 1, false, "WinogradSharedColumns")]
    [InlineData(2, 11, 3, 8, 3, 2, 1, false, "Auto")]    // the stem's first convolution: stride 2, 3 channels
    [InlineData(4, 48, 24, 16, 3, 1, 1, false, "Auto")]  // 24 channels (no Winograd); over 2M gathered floats: per-thread chunks
    [InlineData(2, 9, 64, 48, 1, 1, 0, true, "Auto")]    // 1×1: one product, added to a residual before the ReLU
    public void ConvolutionsMatchLibtorch(int images, int side, int inChannels, int outChannels, int kernel, int stride, int padding, bool residual,
        string path)   // a ConvolutionPath (internal, so named here)
    {
        if (!MatrixKernel.IsSupported) return; // nothing runs it there: ManagedEngineTests checks the refusal
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(side * 31 + inChannels);
        var weights = new Dictionary<string, Tensor>
        {
            ["c.weight"] = torch.randn(outChannels, inChannels, kernel, kernel) / Math.Sqrt(inChannels * kernel * kernel),
            ["n.weight"] = torch.rand(outChannels) + 0.5,
            ["n.bias"] = torch.randn(outChannels) * 0.1,
            ["n.running_mean"] = torch.randn(outChannels) * 0.1,
            ["n.running_var"] = torch.rand(outChannels) + 0.5,
        };
        using var conv = new FoldedConvolution(new TowerWeights(weights, _ => true, "test", "the managed engine"), "c", "n", stride, padding, winograd4: true);
        var x = torch.randn(images, inChannels, side, side);
        int outSide = conv.OutputSide(side);
        var start = torch.randn(images, outChannels, outSide, outSide);

        using var input = new MapCopy(x);
        using var output = new MapCopy(start);
        conv.Apply(input.Map, output.Map, residual, OutputActivation.Relu, threads: 2, Enum.Parse<ConvolutionPath>(path));

        // In float64: libtorch's float32 oneDNN convolution is wrong for channel counts like 24 (see AlignedConv2d).
        Tensor D(Tensor t) => t.to(ScalarType.Float64);
        var expected = F.batch_norm(F.conv2d(D(x), D(weights["c.weight"]), strides: [stride, stride], padding: [padding, padding]),
            D(weights["n.running_mean"]), D(weights["n.running_var"]), D(weights["n.weight"]), D(weights["n.bias"]), training: false, eps: 1e-5);
        if (residual) expected = expected + D(start);
        expected = expected.relu().to(ScalarType.Float32);
        var got = output.ToTorch();
        double relative = (got - expected).abs().max().item<float>() / expected.abs().max().item<float>();
        Assert.True(relative < 1e-5, $"relative difference {relative:E2}");
    }

    /// <summary>A torch [images, channels, h, w] tensor copied into a channels-last map with the engine's row stride.</summary>
    sealed class MapCopy : IDisposable
    {
        readonly AlignedBuffer _buffer;

        public MapCopy(Tensor nchw)
        {
            int channels = (int)nchw.shape[1];
            Map = FeatureMap.Allocate((int)nchw.shape[0], (int)nchw.shape[2], (int)nchw.shape[3], channels, out _buffer);
            var values = nchw.permute(0, 2, 3, 1).contiguous().data<float>().ToArray();
            for (int r = 0; r < Map.Rows; r++) values.AsSpan(r * channels, channels).CopyTo(new Span<float>(Map.Data + (long)r * Map.Ld, channels));
        }

        public FeatureMap Map { get; }

        public Tensor ToTorch()
        {
            var values = new float[(long)Map.Rows * Map.Channels];
            for (int r = 0; r < Map.Rows; r++) new Span<float>(Map.Data + (long)r * Map.Ld, Map.Channels).CopyTo(values.AsSpan(r * Map.Channels));
            return torch.tensor(values, [Map.Images, Map.Height, Map.Width, Map.Channels]).permute(0, 3, 1, 2);
        }

        public void Dispose() => _buffer.Dispose();
    }

    /// <summary>
    /// Width 16 (planes 16…128: Winograd where the maps are large, gathered rows at 3×3), resolution 96 (maps 48, 24, 12,
    /// 6, 3: odd sides at the end), two units in the first stage, BatchNorm statistics and affine values random so every
    /// fold matters (a fresh model's are the identity, and its last norm of each unit zero).
    /// </summary>
    static ClipModel SmallResNet()
    {
        torch.manual_seed(11);
        return WithRandomNorms(new ClipModel(new ClipConfig
        {
            EmbedDim = 40, ImageResolution = 96, VisionLayers = [2, 1, 1, 1], VisionWidth = 16, VisionPatchSize = null,
            ContextLength = 8, VocabSize = 300, TextWidth = 32, TextHeads = 2, TextLayers = 1,
        }));
    }

    /// <summary>The model in eval mode with its BatchNorms' statistics and affine values random.</summary>
    static ClipModel WithRandomNorms(ClipModel model)
    {
        model.eval();
        using (torch.no_grad())
            foreach (var (name, tensor) in model.state_dict())
            {
                if (name.EndsWith(".running_var", StringComparison.Ordinal)) tensor.copy_(torch.rand(tensor.shape) + 0.5);
                else if (name.EndsWith(".running_mean", StringComparison.Ordinal)) tensor.copy_(torch.randn(tensor.shape) * 0.1);
                else if (name.Contains("bn") || name.Contains("downsample.1"))
                {
                    if (name.EndsWith(".weight", StringComparison.Ordinal)) tensor.copy_(torch.rand(tensor.shape) + 0.5);
                    else if (name.EndsWith(".bias", StringComparison.Ordinal)) tensor.copy_(torch.randn(tensor.shape) * 0.1);
                }
            }
        return model;
    }

    /// <summary>RN50 itself (random weights and norms): every path at its real sizes — F(4×4) on the 112, 56 and 28 maps,
    /// F(2×2) with shared columns on 14 and 7, the stride-2 stem — against the torch engine, within the fidelity bar's
    /// tenth (measured 7e-7 relative).</summary>
    [Fact]
    public void Rn50GivesTheTorchEnginesFeatures()
    {
        if (!MatrixKernel.IsSupported) return;
        torch.manual_seed(5);
        using var model = WithRandomNorms(new ClipModel(ClipPresets.Get("RN50")));
        using var scope = torch.NewDisposeScope();
        var pixels = torch.randn(2, 3, 224, 224);
        var expected = model.EmbedImages(pixels, normalize: false);
        using var managed = new ManagedClipEncoder(model, threads: 2);
        var got = managed.EmbedImages(pixels, normalize: false);
        double relative = (got - expected).abs().max().item<float>() / expected.abs().max().item<float>();
        Assert.True(relative < 1e-5, $"relative difference {relative:E2}");
    }

    [Fact]
    public void TowerGivesTheTorchEnginesFeaturesAtAnyThreadCount()
    {
        using var model = SmallResNet();
        if (!MatrixKernel.IsSupported) return;
        using var scope = torch.NewDisposeScope();
        var pixels = torch.randn(11, 3, 96, 96);                                 // chunks of 8 and 3
        var expected = model.EmbedImages(pixels, normalize: false);
        using var two = new ManagedClipEncoder(model, threads: 2);
        var got = two.EmbedImages(pixels, normalize: false);
        double relative = (got - expected).abs().max().item<float>() / expected.abs().max().item<float>();
        Assert.True(relative < 1e-5, $"relative difference {relative:E2}");
        using var one = new ManagedClipEncoder(model, threads: 1);
        using var three = new ManagedClipEncoder(model, threads: 3);
        Assert.Equal(0f, (one.EmbedImages(pixels) - three.EmbedImages(pixels)).abs().max().item<float>());
    }

    [Fact]
    public void ANotANumberPixelIsRefusedAsTheTorchEngineRefusesIt()
    {
        using var model = SmallResNet();
        if (!MatrixKernel.IsSupported) return;
        using var managed = new ManagedClipEncoder(model);
        using var pixels = torch.randn(2, 3, 96, 96);
        pixels[1, 0, 5, 5] = float.NaN;
        var torchError = Assert.Throws<InvalidDataException>(() => model.EmbedImages(pixels));
        var managedError = Assert.Throws<InvalidDataException>(() => managed.EmbedImages(pixels));
        Assert.Equal(torchError.Message, managedError.Message);
    }
}
