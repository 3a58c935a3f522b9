using SharpClip.Modeling;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace SharpClip.Tests.Modeling;

/// <summary>
/// The convolutions every image tower runs, against float64 (which libtorch computes without oneDNN): forward output,
/// input gradient, weight and bias gradients, several times over on the default two threads — the oneDNN defect that
/// <see cref="AlignedConv2d"/> works around gave wrong or NaN results for unaligned channel counts, differently from
/// run to run. The shapes cover the ModifiedResNet's stems and blocks at small and published widths (RN50x4's 40
/// channels), strided and 1×1 convolutions, a batch of one, a ViT patch embedding and a biased convolution.
/// </summary>
public class ConvolutionCorrectnessTests
{
    const double Tolerance = 1e-5;
    const int Repeats = 4;

    public static IEnumerable<object[]> Shapes =>
    [
        //        in, out, kernel, stride, padding, size, batch, bias
        new object[] { 3, 8, 3, 2, 1, 64, 6, false },   // a width-16 ResNet's first stem convolution
        new object[] { 3, 3, 3, 1, 1, 48, 6, false },   // a width-6 ResNet's second (three channels, not an image)
        new object[] { 8, 8, 3, 1, 1, 24, 6, false },   // its second (input gradient was wrong or NaN)
        new object[] { 8, 16, 3, 1, 1, 24, 6, false },
        new object[] { 4, 4, 3, 1, 1, 16, 2, false },   // (input gradient 40-90 % off)
        new object[] { 24, 24, 3, 1, 1, 12, 6, false }, // (forward 30 % off)
        new object[] { 40, 40, 3, 1, 1, 18, 2, false }, // RN50x4's stem
        new object[] { 40, 80, 3, 1, 1, 18, 2, false },
        new object[] { 32, 8, 1, 1, 0, 24, 6, false },  // a bottleneck's 1×1 reduction and expansion
        new object[] { 8, 32, 1, 1, 0, 24, 6, false },
        new object[] { 64, 64, 3, 1, 1, 14, 3, false }, // aligned: libtorch's path unchanged
        new object[] { 16, 48, 1, 1, 0, 9, 1, false },
        new object[] { 3, 48, 8, 8, 0, 32, 2, false },  // a ViT patch embedding
        new object[] { 12, 20, 3, 2, 1, 15, 3, true },  // odd sizes, stride 2, a bias
        new object[] { 16, 64, 1, 1, 0, 12, 6, false },
        new object[] { 32, 64, 1, 1, 0, 12, 6, false },
        new object[] { 32, 16, 1, 1, 0, 24, 6, false },
        new object[] { 16, 16, 3, 1, 1, 24, 6, false },
    ];

    [Theory, MemberData(nameof(Shapes))]
    public void MatchesFloat64OnEveryRun(int inChannels, int outChannels, int kernel, int stride, int padding, int size, int batch, bool bias) =>
        CheckAgainstFloat64(ScalarType.Float32, Tolerance, Repeats, inChannels, outChannels, kernel, stride, padding, size, batch, bias);

    /// <summary>bfloat16 (training's reduced precision): the same shapes within bfloat16's rounding (≈4e-3 here).</summary>
    [Theory, MemberData(nameof(Shapes))]
    public void MatchesFloat64InBFloat16(int inChannels, int outChannels, int kernel, int stride, int padding, int size, int batch, bool bias) =>
        CheckAgainstFloat64(ScalarType.BFloat16, BFloat16Tolerance, 2, inChannels, outChannels, kernel, stride, padding, size, batch, bias);

    const double BFloat16Tolerance = 2e-2;

    static void CheckAgainstFloat64(ScalarType dtype, double tolerance, int repeats,
        int inChannels, int outChannels, int kernel, int stride, int padding, int size, int batch, bool bias)
    {
        using var scope = torch.NewDisposeScope();
        var generator = new Generator((ulong)(inChannels * 1000 + outChannels));
        var input = torch.randn([batch, inChannels, size, size], generator: generator);
        var weight = torch.randn([outChannels, inChannels, kernel, kernel], generator: generator) * 0.2;
        var b = bias ? torch.randn([outChannels], generator: generator) : null;
        int outSize = (size + 2 * padding - kernel) / stride + 1;
        var outputGrad = torch.randn([batch, outChannels, outSize, outSize], generator: generator);

        var expected = Run((x, w, bb) => F.conv2d(x, w, bb, [stride, stride], [padding, padding]), input, weight, b, outputGrad, ScalarType.Float64);
        for (int run = 0; run < repeats; run++)
        {
            // Inference: an input that needs no gradient (three channels then take oneDNN's plain-layout path).
            using (torch.no_grad())
                TensorAssert.Close(expected.Output, AlignedConv2d.Convolve(input.to(dtype), weight.to(dtype), b?.to(dtype), stride, padding),
                    tolerance, $"run {run}, {dtype}: output without gradients");
            var actual = Run((x, w, bb) => AlignedConv2d.Convolve(x, w, bb, stride, padding), input, weight, b, outputGrad, dtype);
            foreach (var (name, e, a) in new[] { ("output", expected.Output, actual.Output), ("input gradient", expected.InputGrad, actual.InputGrad),
                         ("weight gradient", expected.WeightGrad, actual.WeightGrad) })
                TensorAssert.Close(e, a, tolerance, $"run {run}, {dtype}: {name}");
            if (bias) TensorAssert.Close(expected.BiasGrad!, actual.BiasGrad!, tolerance, $"run {run}, {dtype}: bias gradient");
        }
    }

    sealed record Result(Tensor Output, Tensor InputGrad, Tensor WeightGrad, Tensor? BiasGrad);

    static Result Run(Func<Tensor, Tensor, Tensor?, Tensor> conv, Tensor input, Tensor weight, Tensor? bias, Tensor outputGrad, ScalarType dtype)
    {
        var x = input.to(dtype).clone().requires_grad_(true);
        var w = weight.to(dtype).clone().requires_grad_(true);
        var b = bias?.to(dtype).clone().requires_grad_(true);
        var y = conv(x, w, b);
        y.backward([outputGrad.to(dtype)]);
        return new Result(y.detach(), x.grad!, w.grad!, b?.grad);
    }
}
