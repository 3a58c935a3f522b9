using SharpClip.Modeling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpClip.Training;

/// <summary>
/// bf16 mixed precision with float32 master weights. TorchSharp has no autocast, so instead of casting op by op the
/// whole forward and backward run in a bf16 copy of the model: before each step the float32 weights are copied into
/// it (rounded to bf16), after each backward its bf16 gradients are added into the float32 parameters' gradients, and
/// the optimizer updates the float32 weights, whose small updates would otherwise vanish in bf16's 8-bit mantissa.
/// The loss itself (normalisation, logits, softmax/sigmoid) runs in float32 on embeddings cast up, as autocast would.
/// <para>Differences from PyTorch's autocast: LayerNorm and the attention softmax run in bf16 inputs here
/// (libtorch accumulates them in float32 internally), and the model's weights take 1.5× their float32 memory.
/// Only worth it where the CPU has bf16 instructions (<see cref="Runtime.CpuFeatures.HasFastBf16"/>); elsewhere bf16
/// matrix products are emulated and far slower than float32.</para>
/// </summary>
internal sealed class MixedPrecision : IDisposable
{
    readonly List<(Parameter Master, Parameter Compute)> _parameters = [];
    readonly List<(Tensor Master, Tensor Compute)> _buffers = [];

    public MixedPrecision(ClipModel master, ScalarType computeType)
    {
        Master = master;
        Compute = new ClipModel(master.Config);
        Compute.To(master.Device, computeType);
        var computeParameters = Compute.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in master.named_parameters())
        {
            var c = computeParameters[name];
            c.requires_grad_(p.requires_grad);
            _parameters.Add((p, c));
        }
        var computeBuffers = Compute.named_buffers().ToDictionary(b => b.name, b => b.buffer);
        foreach (var (name, b) in master.named_buffers()) _buffers.Add((b, computeBuffers[name]));
        PullWeights();
        PullBuffers();
    }

    public ClipModel Master { get; }

    /// <summary>The bf16 model the forward and backward passes run in.</summary>
    public ClipModel Compute { get; }

    /// <summary>Copies the float32 weights into the compute copy (rounding to its dtype).</summary>
    public void PullWeights()
    {
        using var _ = torch.no_grad();
        foreach (var (m, c) in _parameters) c.copy_(m);
    }

    /// <summary>Copies the master's buffers (BatchNorm statistics) into the compute copy, e.g. after loading a checkpoint.</summary>
    public void PullBuffers()
    {
        using var _ = torch.no_grad();
        foreach (var (m, c) in _buffers) c.copy_(m);
    }

    /// <summary>Adds the compute copy's gradients into the float32 parameters' gradients and drops them.</summary>
    public void PushGradients()
    {
        using var _ = torch.no_grad();
        foreach (var (m, c) in _parameters)
        {
            if (c.grad is not { } g) continue;
            using (var g32 = g.to(m.dtype))
            {
                if (m.grad is { } acc) acc.PlusInPlace(g32);
                else m.grad = g32.clone();
            }
            c.grad = null;
            g.Dispose();
        }
    }

    /// <summary>Copies BatchNorm statistics updated in the compute copy back to the master (in the master's dtype).</summary>
    public void PushBuffers()
    {
        using var _ = torch.no_grad();
        foreach (var (m, c) in _buffers) m.copy_(c);
    }

    public void Dispose() => Compute.Dispose();
}
