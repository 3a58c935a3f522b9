using SharpClip.Files;
using SharpClip.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Generation.Diffusion.Autoencoder;

/// <summary>
/// Stable Diffusion's KL autoencoder (the reference's <c>AutoencoderKL</c>): the encoder and <c>quant_conv</c> turn an
/// image in [−1, 1] into the moments of a diagonal Gaussian over latents; <c>post_quant_conv</c> and the decoder turn a
/// latent back into an image. The diffusion model works on latents multiplied by <see cref="ScaleFactor"/>, which
/// brings them to roughly unit variance; <see cref="EncodeToLatent"/> and <see cref="Decode"/> apply it the way
/// <c>LatentDiffusion</c> does.
/// </summary>
/// <remarks>
/// Submodule names are the checkpoint's (<c>encoder.down.0.block.0.conv1.weight</c>, <c>decoder.up.3.upsample.conv.bias</c>,
/// <c>quant_conv.weight</c>, ...), so the <c>first_stage_model.</c> tensors of a single-file SD checkpoint load with the
/// prefix stripped and nothing renamed. Methods do not switch autograd off: wrap inference in
/// <c>torch.inference_mode()</c>, train through them as they are.
/// </remarks>
public sealed class AutoencoderKL : nn.Module
{
    /// <summary>The latent scale of SD 1.x and 2.x (<c>scale_factor</c> in their configs).</summary>
    public const double StableDiffusionScaleFactor = 0.18215;

    /// <summary>The key prefix of the autoencoder in single-file SD checkpoints.</summary>
    public const string CheckpointPrefix = "first_stage_model.";

    readonly Encoder encoder;
    readonly Decoder decoder;
    readonly AlignedConv2d quant_conv;
    readonly AlignedConv2d post_quant_conv;

    /// <summary>A randomly initialised autoencoder of the given shape, in float32 on the CPU (train mode).</summary>
    public AutoencoderKL(AutoencoderConfig config, double scaleFactor = StableDiffusionScaleFactor) : base(nameof(AutoencoderKL))
    {
        config.Validate("the autoencoder config");
        if (!(scaleFactor > 0) || double.IsInfinity(scaleFactor)) throw new ArgumentOutOfRangeException(nameof(scaleFactor), $"scale factor {scaleFactor} must be positive and finite");
        Config = config;
        ScaleFactor = scaleFactor;
        encoder = new Encoder(config);
        decoder = new Decoder(config);
        quant_conv = new AlignedConv2d(2L * config.ZChannels, 2L * config.EmbedDim, kernelSize: 1);
        post_quant_conv = new AlignedConv2d(config.EmbedDim, config.ZChannels, kernelSize: 1);
        RegisterComponents();
    }

    public AutoencoderConfig Config { get; }

    /// <summary>Diffusion latent = ScaleFactor · z (0.18215 for SD 1.x/2.x, 0.13025 for SDXL).</summary>
    public double ScaleFactor { get; }

    /// <summary>Where the weights came from, named in errors; "the autoencoder" when built in memory.</summary>
    public string Source { get; private set; } = "the autoencoder";

    /// <summary>
    /// The posterior of <paramref name="image"/>: <c>quant_conv(encoder(image))</c> split into mean and log-variance.
    /// </summary>
    /// <param name="image">[batch, in_channels, h, w] in [−1, 1] (<c>SignedImageTensors.FromRgbImages</c> makes one).</param>
    public DiagonalGaussian Encode(Tensor image)
    {
        using var moments = EncodeMoments(image);
        return new DiagonalGaussian(moments);
    }

    /// <summary><c>quant_conv(encoder(image))</c>: [batch, 2·embed_dim, h/f, w/f], mean then log-variance along channels.</summary>
    public Tensor EncodeMoments(Tensor image)
    {
        RequireImage(image, Config.InChannels, "image");
        using var scope = torch.NewDisposeScope();
        var input = image.to(WeightType, WeightDevice);
        return quant_conv.forward(encoder.forward(input)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The diffusion-space latent of <paramref name="image"/> (<c>get_first_stage_encoding</c>): ScaleFactor times the
    /// posterior's mean, or times a sample from it when <paramref name="sample"/> (the reference's default, and
    /// img2img's), drawn with <paramref name="generator"/>.
    /// </summary>
    /// <returns>[batch, embed_dim, h/f, w/f]</returns>
    public Tensor EncodeToLatent(Tensor image, bool sample = false, Generator? generator = null)
    {
        using var posterior = Encode(image);
        using var z = sample ? posterior.Sample(generator) : posterior.Mode();
        return ToDiffusionLatent(z);
    }

    /// <summary>ScaleFactor · z, multiplied by the float32 value of the factor as the reference's float32 tensor op does.</summary>
    public Tensor ToDiffusionLatent(Tensor z)
    {
        using var factor = (Scalar)(float)ScaleFactor;
        return z.mul(factor);
    }

    /// <summary>
    /// The image of a diffusion-space latent (<c>decode_first_stage</c>): <c>decoder(post_quant_conv(latent · (1/s)))</c>.
    /// Like the reference it multiplies by the float32 rounding of 1/s rather than dividing by s, which differs in the
    /// last bit for about half of the values. Not clamped.
    /// </summary>
    /// <param name="latent">[batch, embed_dim, H, W]</param>
    /// <returns>[batch, out_ch, H·f, W·f], roughly in [−1, 1]</returns>
    public Tensor Decode(Tensor latent)
    {
        RequireImage(latent, Config.EmbedDim, "latent");
        using var scope = torch.NewDisposeScope();
        using var inverse = (Scalar)(float)(1.0 / ScaleFactor);
        return DecodeUnscaled(latent.to(WeightType, WeightDevice).mul(inverse)).MoveToOuterDisposeScope();
    }

    /// <summary>The autoencoder's own decode, <c>decoder(post_quant_conv(z))</c>, for a latent without the diffusion scale (reconstruction, training).</summary>
    public Tensor DecodeUnscaled(Tensor z)
    {
        RequireImage(z, Config.EmbedDim, "latent");
        using var scope = torch.NewDisposeScope();
        var input = z.to(WeightType, WeightDevice);
        return decoder.forward(post_quant_conv.forward(input)).MoveToOuterDisposeScope();
    }

    /// <summary>Moves and converts the weights.</summary>
    public AutoencoderKL To(Device device, ScalarType dtype)
    {
        if (!torch.is_floating_point(dtype)) throw new ArgumentException($"a model's dtype must be floating point, not {dtype}", nameof(dtype));
        this.to(device, dtype);
        return this;
    }

    ScalarType WeightType => post_quant_conv.weight!.dtype;

    Device WeightDevice => post_quant_conv.weight!.device;

    void RequireImage(Tensor x, int channels, string what)
    {
        if (x.dim() != 4 || x.shape[1] != channels)
            throw new ArgumentException($"{Source}: the {what} must be [batch, {channels}, height, width], got [{string.Join(", ", x.shape)}]");
    }

    /// <summary>
    /// Builds an autoencoder from a state dict in the reference's naming with the <c>first_stage_model.</c> prefix
    /// already stripped. The shape is inferred from the tensors (<see cref="AutoencoderShape.Infer"/>); an explicit
    /// <paramref name="config"/> must agree with them. Every key, shape and value is checked before anything is copied;
    /// fp16/bf16 weights become float32 exactly. Returned in eval mode, float32, on the CPU.
    /// </summary>
    /// <param name="stateDict">Tensor per key, e.g. <c>encoder.conv_in.weight</c>; not taken over.</param>
    /// <param name="sourceName">Named in every error (usually the file).</param>
    /// <param name="config">The declared shape, or null to use the inferred one.</param>
    /// <param name="scaleFactor">The diffusion model's latent scale (the checkpoint config's <c>scale_factor</c>).</param>
    /// <exception cref="InvalidDataException">a missing, unexpected, mis-shaped or non-finite tensor, or a config the weights contradict; the message names the source and the key.</exception>
    public static AutoencoderKL FromStateDict(IReadOnlyDictionary<string, Tensor> stateDict, string sourceName,
        AutoencoderConfig? config = null, double scaleFactor = StableDiffusionScaleFactor)
    {
        var entries = stateDict.ToDictionary(kv => kv.Key, kv => new StateDictLoader.Entry(kv.Value.shape, kv.Value.dtype));
        return Build(entries, key => stateDict[key].alias(), sourceName, config, scaleFactor);
    }

    /// <summary>
    /// Reads the autoencoder of a safetensors file: the <c>first_stage_model.*</c> tensors of a single-file Stable
    /// Diffusion checkpoint (everything else is ignored), or with <paramref name="keyPrefix"/> "" a file holding only
    /// the autoencoder. Tensors are read one at a time from the memory-mapped file.
    /// </summary>
    public static AutoencoderKL Load(string safetensorsPath, AutoencoderConfig? config = null,
        double scaleFactor = StableDiffusionScaleFactor, string keyPrefix = CheckpointPrefix)
    {
        using var file = SafeTensorsFile.Open(safetensorsPath);
        var entries = StateDictLoader.Entries(file, keyPrefix);
        if (entries.Count == 0)
            throw new InvalidDataException($"{safetensorsPath}: no '{keyPrefix}*' tensors: not a single-file Stable Diffusion checkpoint with an autoencoder");
        // Keys are named without the prefix in errors; the source says which prefix they sit under.
        var source = keyPrefix.Length == 0 ? safetensorsPath : $"{safetensorsPath} (autoencoder tensors under '{keyPrefix}')";
        return Build(entries, key => file.ReadTensor(keyPrefix + key), source, config, scaleFactor);
    }

    /// <summary>
    /// Builds an autoencoder from tensors read one at a time (a checkpoint's lazily read part), so the weights are
    /// never held twice: <paramref name="entries"/> gives every key's shape and stored dtype without reading it,
    /// <paramref name="read"/> returns one tensor (disposed after it is copied). Checks as <see cref="FromStateDict"/>.
    /// </summary>
    internal static AutoencoderKL FromTensors(IReadOnlyDictionary<string, StateDictLoader.Entry> entries, Func<string, Tensor> read, string sourceName,
        AutoencoderConfig? config = null, double scaleFactor = StableDiffusionScaleFactor) => Build(entries, read, sourceName, config, scaleFactor);

    static AutoencoderKL Build(IReadOnlyDictionary<string, StateDictLoader.Entry> entries, Func<string, Tensor> read, string sourceName,
        AutoencoderConfig? config, double scaleFactor)
    {
        var shapes = entries.ToDictionary(e => e.Key, e => e.Value.Shape);
        var inferred = AutoencoderShape.Infer(shapes, sourceName);
        if (config is not null) AutoencoderShape.RequireAgreement(config, inferred, shapes, sourceName);
        var model = StateDictLoader.LoadFresh(UninitializedWeights.Build(() => new AutoencoderKL(inferred, scaleFactor)), entries, read, sourceName);
        model.Source = sourceName;
        return model;
    }
}
