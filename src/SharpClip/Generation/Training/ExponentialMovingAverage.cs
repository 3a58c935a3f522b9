using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpClip.Generation.Training;

/// <summary>
/// An exponential moving average of the parameters, <c>ema ← d·ema + (1 − d)·p</c> after every step: the averaged
/// weights sample better than the last step's noisy ones. Kept beside the model (not in it) and saved in the
/// checkpoint as <c>ema.&lt;name&gt;</c>, so a resumed run continues the same average.
/// The decay warms up as LDM's <c>LitEma</c> does, <c>d = min(decay, (1 + n) / (10 + n))</c> at update n: with a
/// fixed 0.999 the average of a 500-step run would still be 0.999^500 = 61 % random initialisation.
/// </summary>
public sealed class ExponentialMovingAverage : IDisposable
{
    readonly List<(string Name, Parameter Parameter, Tensor Average)> _slots = [];

    public ExponentialMovingAverage(IEnumerable<(string Name, Parameter Parameter)> parameters, double decay)
    {
        if (decay is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(decay), decay, "the EMA decay must be in (0, 1)");
        Decay = decay;
        using var _ = torch.no_grad();
        foreach (var (name, p) in parameters) _slots.Add((name, p, p.detach().clone().DetachFromDisposeScope()));
    }

    public double Decay { get; }

    /// <summary>The decay used at update <paramref name="n"/> (1 for the first).</summary>
    public double DecayAt(long n) => Math.Min(Decay, (1.0 + n) / (10.0 + n));

    /// <summary>Update <paramref name="n"/> (the optimizer step just taken, counted from 1; a resumed run passes the
    /// same numbers, so it continues the same average).</summary>
    public void Update(long n)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), n, "EMA updates are counted from 1");
        double d = DecayAt(n);
        using var _ = torch.no_grad();
        using Scalar decay = d, weight = 1 - d;
        foreach (var (_, p, average) in _slots) average.mul_(decay).add_(p, weight);
    }

    /// <summary>The averages by parameter name (views the caller must not dispose).</summary>
    public IEnumerable<(string Name, Tensor Average)> Averages => _slots.Select(s => (s.Name, s.Average));

    public void Restore(IReadOnlyDictionary<string, Tensor> state, string prefix, string source)
    {
        using var _ = torch.no_grad();
        foreach (var (name, _, average) in _slots)
        {
            if (!state.TryGetValue(prefix + name, out var saved)) throw new InvalidDataException($"{source}: no '{prefix}{name}' (the run was saved without EMA?)");
            average.copy_(saved);
        }
    }

    public void Dispose()
    {
        foreach (var s in _slots) s.Average.Dispose();
        _slots.Clear();
    }
}
