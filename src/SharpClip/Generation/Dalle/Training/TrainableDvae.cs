using SharpClip.Generation.Dalle.Dvae;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Generation.Dalle.Training;

/// <summary>What one training forward pass of the dVAE gives.</summary>
/// <param name="Logits">[batch, vocab, h/8, w/8] encoder logits.</param>
/// <param name="Output">[batch, 6, h, w] decoder output (logit-Laplace μ and log b).</param>
public sealed record DvaeForward(Tensor Logits, Tensor Output);

/// <summary>
/// The released package's <see cref="Encoder"/> and <see cref="Decoder"/> trained as one module (keys
/// <c>encoder.*</c>, <c>decoder.*</c>), so a trained model is the same classes — and the same files,
/// <c>encoder.safetensors</c>/<c>decoder.safetensors</c> — that <see cref="DiscreteVae.Load(string)"/> reads.
/// Training feeds the decoder the gumbel-softmax relaxation of the codes instead of their one-hot argmax.
/// </summary>
public sealed class TrainableDvae : nn.Module
{
    readonly Encoder encoder;
    readonly Decoder decoder;

    public TrainableDvae(DvaeEncoderConfig encoderConfig, DvaeDecoderConfig decoderConfig) : base(nameof(TrainableDvae))
    {
        if (encoderConfig.VocabSize != decoderConfig.VocabSize) throw new ArgumentException("encoder and decoder vocabularies differ");
        encoder = new Encoder(encoderConfig);
        decoder = new Decoder(decoderConfig);
        RegisterComponents();
        // The inference modules create their parameters frozen (they are loaded, not trained); here they learn.
        foreach (var p in parameters()) p.requires_grad_(true);
    }

    public Encoder Encoder => encoder;
    public Decoder Decoder => decoder;

    /// <param name="image">[batch, 3, h, w] in [0, 1].</param>
    /// <param name="temperature">Gumbel-softmax τ.</param>
    /// <param name="generator">The step's noise.</param>
    /// <param name="hard">Straight-through one-hot codes.</param>
    public DvaeForward Forward(Tensor image, double temperature, Generator generator, bool hard)
    {
        using var scope = NewDisposeScope();
        var logits = encoder.forward(LogitLaplace.Map(image));                          // [batch, vocab, h/8, w/8]
        var codes = DvaeObjective.GumbelSoftmax(logits, temperature, generator, hard);   // [batch, vocab, h/8, w/8]
        var output = decoder.forward(codes);                                            // [batch, 6, h, w]
        return new DvaeForward(logits.MoveToOuterDisposeScope(), output.MoveToOuterDisposeScope());
    }

    /// <summary>The two halves' state dicts under their own names (for <c>encoder.safetensors</c>, <c>decoder.safetensors</c>).</summary>
    public (Dictionary<string, Tensor> Encoder, Dictionary<string, Tensor> Decoder) HalfStateDicts() =>
        (encoder.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach()),
         decoder.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach()));
}
