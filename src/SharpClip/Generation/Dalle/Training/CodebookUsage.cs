using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Generation.Dalle.Training;

/// <summary>
/// How much of the codebook the encoder uses, because collapse onto a few codes is the usual way dVAE training fails
/// (the reconstruction can still look fine for a while). Per batch: the perplexity <c>exp(H)</c> of the argmax codes'
/// histogram (K when every code is equally used, 1 when one code is); over a window: the codes no argmax picked in
/// the last <see cref="Window"/> steps ("dead").
/// </summary>
public sealed class CodebookUsage
{
    readonly long[] _lastUsed;

    /// <param name="vocabSize">Codebook size K.</param>
    /// <param name="window">Steps without use after which a code counts as dead.</param>
    public CodebookUsage(int vocabSize, int window)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        _lastUsed = new long[vocabSize];
        Window = window;
    }

    public int Window { get; }

    /// <summary>Records the codes of step <paramref name="step"/> (1-based) and returns the batch's perplexity.</summary>
    /// <param name="tokens">Argmax codes, any shape, int64.</param>
    /// <param name="step">The step that drew them (1-based).</param>
    public double Observe(Tensor tokens, long step)
    {
        using var counts = tokens.flatten().bincount(null, _lastUsed.Length);
        var histogram = counts.data<long>().ToArray();
        double total = histogram.Sum(), entropy = 0;
        for (int k = 0; k < histogram.Length; k++)
        {
            if (histogram[k] == 0) continue;
            _lastUsed[k] = step;
            double p = histogram[k] / total;
            entropy -= p * Math.Log(p);
        }
        return Math.Exp(entropy);
    }

    /// <summary>Codes not used in the last <see cref="Window"/> steps before <paramref name="step"/> (0 before a full window has passed).</summary>
    public int DeadCodes(long step) => step < Window ? 0 : _lastUsed.Count(last => step - last >= Window);

    /// <summary>The state for a checkpoint: the step each code was last used, [vocab] int64.</summary>
    public Tensor State() => torch.tensor(_lastUsed);

    public void Restore(Tensor state, string source)
    {
        if (state.numel() != _lastUsed.Length) throw new InvalidDataException($"{source}: codebook usage has {state.numel()} entries, the codebook {_lastUsed.Length}");
        state.to(ScalarType.Int64).data<long>().CopyTo(_lastUsed, 0);
    }
}
