using TorchSharp.Modules;

namespace SharpClip.Training;

/// <summary>
/// Which parameters get weight decay. Decay pulls weights toward zero, which regularises matrices and kernels but only
/// hurts parameters whose zero means something else: LayerNorm/BatchNorm gains (1 is neutral), biases, lookup tables
/// (token, positional and class embeddings, whose rows are updated only when used) and the temperature
/// <c>logit_scale</c> (a scalar that must grow to about log 100). So decay applies to parameters with two or more
/// dimensions that are not embeddings, as open_clip does (<c>ndim &lt; 2 or bias or ln/bn or logit_scale</c> is
/// excluded there); unlike open_clip, the 2-D embeddings are excluded too, as the CLIP training issue asks.
/// </summary>
public static class WeightDecayRule
{
    /// <summary>True when <paramref name="name"/> (an OpenAI state-dict key) with this shape should be decayed.</summary>
    public static bool Decays(string name, long[] shape)
    {
        if (shape.Length < 2) return false;                             // gains, biases, class embedding, logit scale
        var leaf = name[(name.LastIndexOf('.') + 1)..];
        if (leaf is "bias" or "logit_scale" or "logit_bias") return false;
        if (name.Contains("embedding", StringComparison.Ordinal)) return false; // token/positional/class embeddings
        return true;
    }

    /// <summary>Splits parameters into the decayed and the not-decayed group, keeping their order.</summary>
    public static (List<(string Name, Parameter Parameter)> Decay, List<(string Name, Parameter Parameter)> NoDecay) Split(
        IEnumerable<(string Name, Parameter Parameter)> parameters)
    {
        var decay = new List<(string, Parameter)>();
        var noDecay = new List<(string, Parameter)>();
        foreach (var (name, p) in parameters) (Decays(name, p.shape) ? decay : noDecay).Add((name, p));
        return (decay, noDecay);
    }
}
