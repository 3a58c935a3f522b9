using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Modeling;

/// <summary>
/// Builds a model to be filled from a checkpoint: its weights are allocated but never initialised, because the loader
/// overwrites every one of them. Random initialisation of an SD-size model costs tens of seconds (a uniform or normal
/// draw and a first write to every page of 3.4 GB for SD 1.5's U-Net), all of it thrown away by the copy that follows.
/// </summary>
/// <remarks>
/// <para>Only the layers made through <see cref="Layers"/> (and the initialisation steps that check <see cref="Active"/>)
/// skip their work; anything else a constructor makes is built as always, so a module missed here is slower, never
/// wrong. The switch is per thread: TorchSharp's <c>torch.set_default_device</c> is a process-wide static, which would
/// send another thread's tensors (a parallel test, a web request) to the meta device while a model is being built.</para>
/// <para>Uninitialised memory is only safe behind a complete load: <see cref="StateDictLoader.Load"/> requires a source
/// tensor for every parameter and buffer and copies nothing unless all of them fit, and
/// <see cref="StateDictLoader.LoadFresh"/> disposes the model when they do not, so a missing key is an error naming it,
/// never garbage weights. Training builds its models with the constructors alone and keeps the reference's
/// initialisation, random draws in the same order.</para>
/// </remarks>
internal static class UninitializedWeights
{
    [ThreadStatic] static int t_depth;

    /// <summary>True while <see cref="Build{T}"/> runs a constructor on this thread.</summary>
    public static bool Active => t_depth > 0;

    /// <summary>
    /// Runs <paramref name="construct"/> with initialisation skipped and returns the model, whose weights hold whatever
    /// the allocator returned until a loader fills them all.
    /// </summary>
    public static T Build<T>(Func<T> construct) where T : nn.Module
    {
        t_depth++;
        T model;
        try { model = construct(); }
        finally { t_depth--; }
        // Layers park a module on the meta device only while they swap its weights for CPU storage; one left there
        // would fail at the first forward with a message about meta tensors, so catch it here, naming the tensor.
        var tensors = model.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).Concat(model.named_buffers());
        if (tensors.FirstOrDefault(t => t.Item2.device_type != DeviceType.CPU) is ({ } name, { } misplaced))
        {
            var message = $"{model.GetName()}: '{name}' was built on {misplaced.device_type}, not the CPU (a layer swapped its weights incompletely)";
            model.Dispose();
            throw new InvalidOperationException(message);
        }
        return model;
    }
}
