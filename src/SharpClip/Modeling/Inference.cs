using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Modeling;

/// <summary>
/// Runs model code for inference: under <c>torch.inference_mode()</c> (no autograd bookkeeping, no version counters)
/// and a dispose scope, so every intermediate tensor's native memory is released when the call returns instead of
/// whenever the GC finalises its handle.
/// </summary>
public static class Inference
{
    /// <summary>
    /// Runs <paramref name="compute"/> and returns its result as a float32 CPU tensor that outlives the scope.
    /// Like every tensor made under inference mode it cannot later take part in a graph that needs gradients;
    /// embeddings are end products, so that is what an inference caller wants.
    /// </summary>
    public static Tensor Run(Func<Tensor> compute)
    {
        using var mode = torch.inference_mode();
        using var scope = torch.NewDisposeScope();
        return compute().to(ScalarType.Float32, CPU).MoveToOuterDisposeScope();
    }
}
