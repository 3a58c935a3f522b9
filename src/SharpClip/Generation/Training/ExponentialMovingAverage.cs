using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpClip.Generation.Training;

/// <summary>
/// An exponential moving average of the parameters, <c>ema ← d·ema + (1 − d)·p</c> after every step: the averaged
/// weights sample better than the last step's noisy ones. Kept beside the model (not in it) and saved in the
/// checkpoint as <c>ema.&lt;name&gt;</c>, so a resumed run continues the same average.
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

    public void Update()
    {
        using var _ = torch.no_grad();
        using Scalar decay = Decay, weight = 1 - Decay;
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
