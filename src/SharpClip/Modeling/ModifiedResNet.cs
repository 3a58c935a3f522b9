using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpClip.Modeling;

/// <summary>
/// CLIP's ResNet image tower, which differs from torchvision's in three ways: a stem of three 3×3 convolutions
/// followed by an average pool (not one 7×7 convolution and a max pool); strided blocks that average-pool before
/// convolving (<see cref="Bottleneck"/>); and an attention-pooling head (<see cref="AttentionPool2d"/>) instead of
/// global average pooling. Its BatchNorm layers use batch statistics in training mode and running statistics in
/// eval mode, so call <c>eval()</c> for inference (<see cref="ClipModel.FromStateDict"/> returns an eval-mode model).
/// </summary>
public sealed class ModifiedResNet : ScopedModule
{
    readonly AlignedConv2d conv1;
    readonly BatchNorm2d bn1;
    readonly AlignedConv2d conv2;
    readonly BatchNorm2d bn2;
    readonly AlignedConv2d conv3;
    readonly BatchNorm2d bn3;
    readonly AvgPool2d avgpool;
    readonly ModuleList<Bottleneck> layer1;
    readonly ModuleList<Bottleneck> layer2;
    readonly ModuleList<Bottleneck> layer3;
    readonly ModuleList<Bottleneck> layer4;
    readonly AttentionPool2d attnpool;

    public ModifiedResNet(ClipConfig config) : base(nameof(ModifiedResNet))
    {
        if (config.IsVisionTransformer || config.VisionLayers.Length != 4)
            throw new ArgumentException("a ModifiedResNet needs four stage depths and no patch size", nameof(config));
        int width = config.VisionWidth;

        // The three-convolution stem: [3, r, r] -> [width, r/4, r/4].
        conv1 = new AlignedConv2d(3, width / 2, kernelSize: 3, stride: 2, padding: 1, bias: false);
        bn1 = nn.BatchNorm2d(width / 2);
        conv2 = new AlignedConv2d(width / 2, width / 2, kernelSize: 3, padding: 1, bias: false);
        bn2 = nn.BatchNorm2d(width / 2);
        conv3 = new AlignedConv2d(width / 2, width, kernelSize: 3, padding: 1, bias: false);
        bn3 = nn.BatchNorm2d(width);
        avgpool = nn.AvgPool2d(2);

        int inplanes = width;
        ModuleList<Bottleneck> Stage(int planes, int blocks, int stride)
        {
            var stage = new ModuleList<Bottleneck>(new Bottleneck(inplanes, planes, stride));
            inplanes = planes * Bottleneck.Expansion;
            for (int i = 1; i < blocks; i++) stage.Add(new Bottleneck(inplanes, planes));
            return stage;
        }
        layer1 = Stage(width, config.VisionLayers[0], 1);
        layer2 = Stage(width * 2, config.VisionLayers[1], 2);
        layer3 = Stage(width * 4, config.VisionLayers[2], 2);
        layer4 = Stage(width * 8, config.VisionLayers[3], 2);

        attnpool = new AttentionPool2d(config.ResNetOutputGrid, width * 32, config.VisionHeads, config.EmbedDim);
        RegisterComponents();
    }

    /// <summary>
    /// The reference's initialisation: attention-pool projections ~ N(0, 1/width), and the last BatchNorm scale of
    /// every bottleneck zero, so each residual branch starts as the identity.
    /// </summary>
    internal void InitializeParameters()
    {
        using var _ = torch.no_grad();
        double std = Math.Pow(attnpool.InFeatures, -0.5);
        foreach (var linear in attnpool.Projections) nn.init.normal_(linear.weight!, std: std);
        foreach (var block in AllBlocks) nn.init.zeros_(block.LastNorm.weight!);
    }

    internal IEnumerable<Bottleneck> AllBlocks => layer1.Concat(layer2).Concat(layer3).Concat(layer4);

    /// <param name="pixels">[batch, 3, resolution, resolution], already normalised</param>
    /// <returns>[batch, embed_dim]</returns>
    protected override Tensor Compute(Tensor pixels)
    {
        var x = bn1.forward(conv1.forward(pixels)).relu_();   // [batch, width/2, r/2, r/2]
        x = bn2.forward(conv2.forward(x)).relu_();
        x = bn3.forward(conv3.forward(x)).relu_();            // [batch, width, r/2, r/2]
        x = avgpool.forward(x);                               // [batch, width, r/4, r/4]
        foreach (var block in AllBlocks) x = block.forward(x); // [batch, width·32, r/32, r/32]
        return attnpool.forward(x);                           // [batch, embed_dim]
    }
}
