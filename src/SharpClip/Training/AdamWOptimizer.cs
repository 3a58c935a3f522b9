using SharpClip.Modeling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpClip.Training;

/// <summary>Parameters that share a weight decay (see <see cref="WeightDecayRule"/>).</summary>
/// <param name="Name">"decay" or "no_decay"; for messages.</param>
/// <param name="Parameters">Named parameters; the names key the optimizer state in checkpoints.</param>
/// <param name="WeightDecay">Decoupled decay coefficient (multiplied by the learning rate each step).</param>
public sealed record ParameterGroup(string Name, IReadOnlyList<(string Name, Parameter Parameter)> Parameters, double WeightDecay);

/// <summary>
/// AdamW (Loshchilov and Hutter, decoupled weight decay) with PyTorch's update order and bias correction, written
/// here rather than taken from TorchSharp so that its state is named by parameter and saved in safetensors next to
/// the weights, which makes an interrupted run resume bit for bit. Per parameter, at step t with learning rate lr:
/// <code>
/// p  ← p · (1 − lr·wd)
/// m  ← lerp(m, g, 1 − β1)            v ← β2·v + (1 − β2)·g²
/// p  ← p − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)
/// </code>
/// (the last line is evaluated as <c>p − lr·√(1 − β2ᵗ)/(1 − β1ᵗ) · m / (√v + ε·√(1 − β2ᵗ))</c>, the same value with one
/// pass over the tensor fewer).
/// A parameter whose gradient is null in a step is skipped entirely (as PyTorch does), and keeps its own step count.
/// </summary>
public sealed class AdamWOptimizer : IDisposable
{
    sealed class Slot(string name, Parameter parameter, double weightDecay)
    {
        public readonly string Name = name;
        public readonly Parameter Parameter = parameter;
        public readonly double WeightDecay = weightDecay;
        public readonly Tensor ExpAvg = torch.zeros_like(parameter).DetachFromDisposeScope();
        public readonly Tensor ExpAvgSq = torch.zeros_like(parameter).DetachFromDisposeScope();
        public long Steps;
    }

    readonly List<Slot> _slots = [];

    /// <param name="groups">Parameter groups; a name may appear only once.</param>
    /// <param name="beta1">Decay of the first-moment average (0.9).</param>
    /// <param name="beta2">Decay of the second-moment average (0.98 for CLIP, which is more stable than 0.999 at large batch).</param>
    /// <param name="epsilon">Added to the denominator (1e-6 for CLIP).</param>
    public AdamWOptimizer(IEnumerable<ParameterGroup> groups, double beta1 = 0.9, double beta2 = 0.98, double epsilon = 1e-6)
    {
        if (beta1 is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "beta1 must be in [0, 1)");
        if (beta2 is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "beta2 must be in [0, 1)");
        if (epsilon <= 0) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be positive");
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        Groups = groups.ToList();
        var seen = new HashSet<string>();
        using var _ = torch.no_grad();
        foreach (var g in Groups)
            foreach (var (name, p) in g.Parameters)
            {
                if (!seen.Add(name)) throw new ArgumentException($"parameter '{name}' is in more than one optimizer group");
                _slots.Add(new Slot(name, p, g.WeightDecay));
            }
    }

    public double Beta1 { get; }
    public double Beta2 { get; }
    public double Epsilon { get; }
    public IReadOnlyList<ParameterGroup> Groups { get; }

    /// <summary>Every optimised parameter, in group order.</summary>
    public IEnumerable<Parameter> Parameters => _slots.Select(s => s.Parameter);

    /// <summary>Drops every gradient (PyTorch's <c>zero_grad(set_to_none=True)</c>): the next backward writes fresh ones.</summary>
    public void ZeroGrad()
    {
        foreach (var s in _slots)
            if (s.Parameter.grad is { } g)
            {
                s.Parameter.grad = null;
                g.Dispose();
            }
    }

    /// <summary>One update of every parameter that has a gradient.</summary>
    public void Step(double learningRate)
    {
        using var _ = torch.no_grad();
        foreach (var s in _slots)
        {
            using var scope = torch.NewDisposeScope();
            var grad = s.Parameter.grad;
            if (grad is null) continue;
            long t = ++s.Steps;
            double correction1 = 1 - Math.Pow(Beta1, t);
            double correction2Sqrt = Math.Sqrt(1 - Math.Pow(Beta2, t));
            // Every number becomes a native Scalar held by a `using` local until the ops are done: a temporary one can
            // be finalised by a GC while libtorch still reads it (see Modeling/KeptScalars).
            using Scalar decay = 1 - learningRate * s.WeightDecay, beta2 = Beta2, oneMinusBeta2 = 1 - Beta2;
            using Scalar epsilon = Epsilon * correction2Sqrt, step = -learningRate * correction2Sqrt / correction1;
            if (s.WeightDecay != 0) s.Parameter.mul_(decay);
            s.ExpAvg.lerp_(grad, 1 - Beta1); // a 0-d tensor weight, held by the dispose scope
            s.ExpAvgSq.mul_(beta2).addcmul_(grad, grad, oneMinusBeta2);
            // m / (√v / c2 + ε) = c2 · m / (√v + ε·c2): one pass over the tensor fewer than PyTorch's form.
            var denom = s.ExpAvgSq.sqrt().add_(epsilon, KeptScalars.One);   // add_(ε) alone would pass a temporary alpha
            s.Parameter.addcdiv_(s.ExpAvg, denom, step);
        }
    }

    /// <summary>
    /// The state as named tensors: <c>&lt;param&gt;.exp_avg</c>, <c>&lt;param&gt;.exp_avg_sq</c> (float, the parameter's
    /// shape) and <c>&lt;param&gt;.step</c> (int64 scalar). The tensors are copies the caller owns.
    /// </summary>
    public Dictionary<string, Tensor> StateDict()
    {
        var state = new Dictionary<string, Tensor>();
        foreach (var s in _slots)
        {
            state[s.Name + ".exp_avg"] = s.ExpAvg.detach().clone().DetachFromDisposeScope();
            state[s.Name + ".exp_avg_sq"] = s.ExpAvgSq.detach().clone().DetachFromDisposeScope();
            state[s.Name + ".step"] = torch.tensor(s.Steps, ScalarType.Int64).DetachFromDisposeScope();
        }
        return state;
    }

    /// <summary>Restores a <see cref="StateDict"/>; every parameter's three entries must be present with matching shapes.</summary>
    /// <exception cref="InvalidDataException">a missing or misshapen entry; the message names <paramref name="source"/> and the key.</exception>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state, string source)
    {
        Tensor Get(string key, long[] shape)
        {
            if (!state.TryGetValue(key, out var t)) throw new InvalidDataException($"{source}: optimizer state has no '{key}'");
            if (!t.shape.SequenceEqual(shape))
                throw new InvalidDataException($"{source}: optimizer state '{key}' has shape [{string.Join(",", t.shape)}], expected [{string.Join(",", shape)}]");
            return t;
        }
        foreach (var s in _slots)
        {
            Get(s.Name + ".exp_avg", s.Parameter.shape);
            Get(s.Name + ".exp_avg_sq", s.Parameter.shape);
            Get(s.Name + ".step", []);
        }
        using var _ = torch.no_grad();
        foreach (var s in _slots)
        {
            s.ExpAvg.copy_(state[s.Name + ".exp_avg"]);
            s.ExpAvgSq.copy_(state[s.Name + ".exp_avg_sq"]);
            s.Steps = state[s.Name + ".step"].to(ScalarType.Int64).item<long>();
        }
    }

    public void Dispose()
    {
        foreach (var s in _slots)
        {
            s.ExpAvg.Dispose();
            s.ExpAvgSq.Dispose();
        }
        _slots.Clear();
    }
}
