using SharpClip.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Training;

/// <summary>
/// Activation checkpointing for the transformer blocks of both towers: in the forward pass a block keeps only its
/// input, not the activations inside it (attention scores, the 4×-wide MLP hidden layer, LayerNorm statistics); in the
/// backward pass it runs its forward again, with autograd on, and back-propagates through that. Memory for
/// activations drops from O(layers × block internals) to O(layers × width) at the cost of one extra forward pass.
/// TorchSharp has no <c>torch.utils.checkpoint</c>, so this is a custom autograd function (the "reentrant" form:
/// a nested backward inside the outer one puts the block's parameter gradients in place).
/// <para>CLIP has no dropout or other randomness, so the recomputation is exact. ModifiedResNet image towers are not
/// checkpointed: recomputing a BatchNorm layer in training mode would update its running statistics twice.</para>
/// </summary>
public static class ActivationCheckpointing
{
    /// <summary>Turns checkpointing on (or off) for every transformer stack of <paramref name="model"/>.</summary>
    public static void Apply(nn.Module model, bool enabled)
    {
        foreach (var stack in model.modules().OfType<TransformerStack>())
            stack.BlockRunner = enabled ? Run : null;
    }

    /// <summary>Whether any transformer stack of <paramref name="model"/> is checkpointed.</summary>
    public static bool IsEnabled(nn.Module model) => model.modules().OfType<TransformerStack>().Any(s => s.BlockRunner is not null);

    /// <summary>
    /// Runs <paramref name="block"/> on <paramref name="input"/>, recomputing it in the backward pass. Without autograd,
    /// or when the input needs no gradient (the function would then be invisible to autograd and the block's
    /// parameters would get none), it is a plain forward.
    /// </summary>
    public static Tensor Run(nn.Module<Tensor, Tensor> block, Tensor input) =>
        torch.is_grad_enabled() && input.requires_grad
            ? RecomputedBlock.apply(input, block)
            : block.forward(input);

    sealed class RecomputedBlock : torch.autograd.SingleTensorFunction<RecomputedBlock>
    {
        public override string Name => "RecomputedBlock";

        // Runs with autograd off (the Function machinery guarantees it): nothing inside the block is kept.
        public override Tensor forward(torch.autograd.AutogradContext ctx, params object[] vars)
        {
            var input = (Tensor)vars[0];
            ctx.save_for_backward([input]);
            ctx.save_data("block", vars[1]);
            return ((nn.Module<Tensor, Tensor>)vars[1]).forward(input);
        }

        public override List<Tensor> backward(torch.autograd.AutogradContext ctx, Tensor gradOutput)
        {
            var block = (nn.Module<Tensor, Tensor>)ctx.get_data("block");
            using var saved = ctx.get_saved_variables()[0];
            var input = saved.detach().requires_grad_(true);
            using (torch.enable_grad())
            using (var output = block.forward(input))
                torch.autograd.backward([output], [gradOutput]);   // accumulates the block's parameter gradients
            var gradInput = input.grad ?? torch.zeros_like(input);
            return [gradInput, null!];
        }
    }
}
