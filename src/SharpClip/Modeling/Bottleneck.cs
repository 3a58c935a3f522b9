using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpClip.Modeling;

/// <summary>
/// The ModifiedResNet's residual unit: 1×1, 3×3, 1×1 convolutions (all stride 1) with BatchNorm. Where the unit
/// downsamples, an average pool follows the 3×3 convolution and another precedes the shortcut's 1×1 convolution
/// ("anti-aliased" striding, in place of strided convolutions).
/// </summary>
public sealed class Bottleneck : ScopedModule
{
    /// <summary>Output channels are <c>planes · Expansion</c>.</summary>
    public const int Expansion = 4;

    readonly AlignedConv2d conv1;
    readonly BatchNorm2d bn1;
    readonly AlignedConv2d conv2;
    readonly BatchNorm2d bn2;
    readonly nn.Module<Tensor, Tensor> avgpool;
    readonly AlignedConv2d conv3;
    readonly BatchNorm2d bn3;
    readonly Downsample? downsample;

    public Bottleneck(int inplanes, int planes, int stride = 1) : base(nameof(Bottleneck))
    {
        conv1 = new AlignedConv2d(inplanes, planes, kernelSize: 1, bias: false);
        bn1 = nn.BatchNorm2d(planes);
        conv2 = new AlignedConv2d(planes, planes, kernelSize: 3, padding: 1, bias: false);
        bn2 = nn.BatchNorm2d(planes);
        avgpool = stride > 1 ? nn.AvgPool2d(stride) : nn.Identity();
        conv3 = new AlignedConv2d(planes, planes * Expansion, kernelSize: 1, bias: false);
        bn3 = nn.BatchNorm2d(planes * Expansion);
        if (stride > 1 || inplanes != planes * Expansion) downsample = new Downsample(inplanes, planes * Expansion, stride);
        RegisterComponents();
    }

    internal BatchNorm2d LastNorm => bn3;

    /// <param name="x">[batch, inplanes, h, w]</param>
    /// <returns>[batch, planes·4, h/stride, w/stride]</returns>
    protected override Tensor Compute(Tensor x)
    {
        var residual = bn1.forward(conv1.forward(x)).relu_();
        residual = bn2.forward(conv2.forward(residual)).relu_();
        residual = bn3.forward(conv3.forward(avgpool.forward(residual)));
        var shortcut = downsample is null ? x : downsample.forward(x);
        return residual.PlusInPlace(shortcut).relu_();
    }

    /// <summary>The shortcut's projection: average pool (key "-1" in the reference, no tensors), 1×1 conv ("0"), BatchNorm ("1").</summary>
    sealed class Downsample : ScopedModule
    {
        readonly nn.Module<Tensor, Tensor> pool;
        [TorchSharp.Utils.ComponentName(Name = "0")] readonly AlignedConv2d conv;
        [TorchSharp.Utils.ComponentName(Name = "1")] readonly BatchNorm2d bn;

        public Downsample(int inplanes, int outplanes, int stride) : base(nameof(Downsample))
        {
            pool = stride > 1 ? nn.AvgPool2d(stride) : nn.Identity();
            conv = new AlignedConv2d(inplanes, outplanes, kernelSize: 1, bias: false);
            bn = nn.BatchNorm2d(outplanes);
            RegisterComponents();
        }

        protected override Tensor Compute(Tensor x) => bn.forward(conv.forward(pool.forward(x)));
    }
}
