using SharpClip.Generation.Dalle.Dvae;
using SharpClip.Vision;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace SharpClip.Generation.Dalle;

/// <summary>The encoder's answer for a batch: logits over the codebook and their argmax, the image tokens.</summary>
/// <param name="Logits">[batch, vocab, h/8, w/8] float32.</param>
/// <param name="Tokens">[batch, h/8, w/8] int64 codes.</param>
public sealed record DvaeEncoding(Tensor Logits, Tensor Tokens) : IDisposable
{
    public void Dispose()
    {
        Logits.Dispose();
        Tokens.Dispose();
    }
}

/// <summary>The decoder's answer for a token grid.</summary>
/// <param name="Logits">[batch, 6, h, w]: logit-Laplace locations (channels 0–2) and log-scales (3–5).</param>
/// <param name="Image">[batch, 3, h, w] float32 in [0, 1]: <c>unmap(sigmoid(Logits[:, :3]))</c>.</param>
public sealed record DvaeDecoding(Tensor Logits, Tensor Image) : IDisposable
{
    public void Dispose()
    {
        Logits.Dispose();
        Image.Dispose();
    }
}

/// <summary>
/// DALL-E's discrete VAE, numerically openai/DALL-E's: an image becomes a grid of codebook tokens (one per 8×8 patch)
/// and a token grid becomes an image again. This is the image half of DALL-E: its transformer models these tokens.
/// Used as in the package's <c>notebooks/usage.ipynb</c>: <c>Encode</c> = argmax(encoder(map_pixels(x))),
/// <c>Decode</c> = unmap_pixels(sigmoid(decoder(one_hot(z))[:, :3])).
/// </summary>
/// <example>
/// <code>
/// using var dvae = DiscreteVae.Load("dall-e/");                 // encoder.pkl + decoder.pkl, or .safetensors
/// using var x = DiscreteVae.ToTensor([image]);                  // [1, 3, 256, 256] in [0, 1]
/// using var codes = dvae.Encode(x);                             // codes.Tokens: [1, 32, 32]
/// using var back = dvae.Decode(codes.Tokens);
/// DiscreteVae.ToImages(back.Image)[0].SavePng("reconstruction.png");
/// </code>
/// </example>
public sealed class DiscreteVae : IDisposable
{
    public DiscreteVae(Encoder encoder, Decoder decoder)
    {
        if (encoder.Config.VocabSize != decoder.Config.VocabSize)
            throw new ArgumentException($"the encoder's vocabulary ({encoder.Config.VocabSize}) differs from the decoder's ({decoder.Config.VocabSize})");
        Encoder = encoder;
        Decoder = decoder;
    }

    public Encoder Encoder { get; }
    public Decoder Decoder { get; }

    /// <summary>Codebook size.</summary>
    public int VocabSize => Encoder.Config.VocabSize;

    /// <summary>Pixels per token along each side (8).</summary>
    public int Downsampling => Encoder.Config.Downsampling;

    /// <summary>The two halves from a folder: <c>encoder.safetensors</c> or <c>encoder.pkl</c>, and the same for the decoder.</summary>
    public static DiscreteVae Load(string folder)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"{folder}: no such folder (expected encoder.pkl/.safetensors and decoder.pkl/.safetensors)");
        return Load(Find(folder, "encoder"), Find(folder, "decoder"));
    }

    /// <summary>The two halves from their files (each a safetensors state dict, a released <c>.pkl</c> module, or a pickled state dict).</summary>
    public static DiscreteVae Load(string encoderPath, string decoderPath)
    {
        var encoder = DvaeCheckpoint.LoadEncoder(encoderPath);
        try
        {
            var decoder = DvaeCheckpoint.LoadDecoder(decoderPath);
            try { return new DiscreteVae(encoder, decoder); }
            catch (ArgumentException e)
            {
                decoder.Dispose();
                throw new InvalidDataException($"{encoderPath}, {decoderPath}: not two halves of one dVAE: {e.Message}", e);
            }
        }
        catch
        {
            encoder.Dispose();
            throw;
        }
    }

    static string Find(string folder, string part)
    {
        var candidates = new[] { ".safetensors", ".pkl" }.Select(ext => Path.Combine(folder, part + ext)).Where(File.Exists).ToList();
        return candidates.Count switch
        {
            1 => candidates[0],
            0 => throw new FileNotFoundException($"{folder}: no {part}.safetensors or {part}.pkl"),
            _ => throw new InvalidDataException($"{folder}: both {part}.safetensors and {part}.pkl; keep one"),
        };
    }

    /// <summary>Image [batch, 3, h, w] in [0, 1] → codebook logits and tokens, one per 8×8 patch.</summary>
    public DvaeEncoding Encode(Tensor image)
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        var logits = Encoder.forward(LogitLaplace.Map(image));
        var tokens = logits.argmax(1);
        return new DvaeEncoding(logits.MoveToOuterDisposeScope(), tokens.MoveToOuterDisposeScope());
    }

    /// <summary>Tokens [batch, h', w'] (int64 in [0, vocab)) → decoder logits and the image [batch, 3, 8h', 8w'] in [0, 1].</summary>
    public DvaeDecoding Decode(Tensor tokens)
    {
        if (tokens.dim() != 3) throw new ArgumentException($"tokens must be [batch, h, w], got [{string.Join(",", tokens.shape)}]");
        if (tokens.dtype != ScalarType.Int64) throw new ArgumentException($"tokens must be int64, got {tokens.dtype}");
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        if (tokens.numel() > 0)
        {
            long min = tokens.min().item<long>(), max = tokens.max().item<long>();
            if (min < 0 || max >= VocabSize) throw new ArgumentException($"tokens range over [{min}, {max}], outside the codebook [0, {VocabSize})");
        }
        // [batch, h', w', vocab] → [batch, vocab, h', w'], as F.one_hot(z).permute(0, 3, 1, 2).float()
        var oneHot = F.one_hot(tokens, VocabSize).permute(0, 3, 1, 2).to(ScalarType.Float32);
        var logits = Decoder.forward(oneHot);
        var image = LogitLaplace.Unmap(logits.narrow(1, 0, 3).sigmoid());
        return new DvaeDecoding(logits.MoveToOuterDisposeScope(), image.MoveToOuterDisposeScope());
    }

    /// <summary>Images (all the same size) → [batch, 3, h, w] float32 in [0, 1] (torchvision's <c>ToTensor</c>: byte / 255).</summary>
    public static Tensor ToTensor(IReadOnlyList<RgbImage> images)
    {
        if (images.Count == 0) throw new ArgumentException("no images");
        int w = images[0].Width, h = images[0].Height;
        var chw = new float[checked(images.Count * 3 * h * w)];
        for (int i = 0; i < images.Count; i++)
        {
            var img = images[i];
            if (img.Width != w || img.Height != h) throw new ArgumentException($"image {i} is {img.Width}x{img.Height}, image 0 is {w}x{h}");
            int plane = h * w, baseIndex = i * 3 * plane;
            for (int p = 0; p < plane; p++)
                for (int c = 0; c < 3; c++)
                    chw[baseIndex + c * plane + p] = img.Pixels[p * 3 + c] / 255f;
        }
        return torch.tensor(chw, [images.Count, 3, h, w]);
    }

    static readonly Scalar PixelFloor = 0, PixelCeiling = 1, PixelMax = 255;   // kept for the process (torchsharp.md §11)

    /// <summary>[batch, 3, h, w] in [0, 1] → 8-bit images, as torchvision's <c>ToPILImage</c> (<c>x·255</c> truncated, as the
    /// package's notebook shows its reconstructions); values outside [0, 1] are clamped first.</summary>
    public static RgbImage[] ToImages(Tensor image)
    {
        if (image.dim() != 4 || image.shape[1] != 3) throw new ArgumentException($"expected [batch, 3, h, w], got [{string.Join(",", image.shape)}]");
        using var scope = NewDisposeScope();
        var hwc = image.detach().to(ScalarType.Float32).clamp(PixelFloor, PixelCeiling).mul(PixelMax).to(ScalarType.Byte).permute(0, 2, 3, 1).contiguous().cpu();
        int batch = (int)hwc.shape[0], h = (int)hwc.shape[1], w = (int)hwc.shape[2];
        var bytes = hwc.bytes.ToArray();
        var result = new RgbImage[batch];
        int size = h * w * 3;
        for (int i = 0; i < batch; i++) result[i] = new RgbImage(w, h, bytes.AsSpan(i * size, size).ToArray());
        return result;
    }

    public void Dispose()
    {
        Encoder.Dispose();
        Decoder.Dispose();
    }
}
