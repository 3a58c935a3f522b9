using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Modeling;

/// <summary>
/// Base of our tensor-to-tensor modules: its sealed <see cref="forward"/> frees every tensor the module makes except
/// the one it returns, so <see cref="Compute"/> can be written as the paper writes it, one expression per step, with
/// no disposal code.
/// </summary>
/// <remarks>
/// Why: a TorchSharp tensor is a small managed handle to native memory that the GC cannot see, so an intermediate
/// left to the finalizer keeps megabytes of activations alive for an unknown time (shared/notes/torchsharp.md §8).
/// A dispose scope around each forward frees them deterministically, and in the same order the hand-written scopes
/// did. Under autograd, disposing a handle does not free what the graph still needs: the graph holds its own
/// references, so training and activation checkpointing (which re-runs <see cref="forward"/>) work unchanged.
/// </remarks>
public abstract class ScopedModule : nn.Module<Tensor, Tensor>
{
    protected ScopedModule(string name) : base(name) { }

    /// <summary>Runs <see cref="Compute"/> inside a dispose scope and hands its result to the caller's scope.</summary>
    public sealed override Tensor forward(Tensor input)
    {
        using var scope = torch.NewDisposeScope();
        var output = Compute(input);
        // The input belongs to the caller; moving it "out" would take it from the caller's scope to the one above.
        return ReferenceEquals(output, input) ? output : output.MoveToOuterDisposeScope();
    }

    /// <summary>The module's computation; every tensor made here except the result is disposed when it returns.</summary>
    protected abstract Tensor Compute(Tensor input);
}
