using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpClip.Generation.Diffusion.UNet;

/// <summary>
/// One entry of the U-Net's block lists (<c>input_blocks.N</c>, <c>middle_block</c>, <c>output_blocks.N</c>): layers
/// run in order, each given what it needs — a <see cref="ResBlock"/> the timestep embedding, a
/// <see cref="SpatialTransformer"/> the text states, anything else the image alone. Its layers are named
/// <c>0</c>, <c>1</c>, ... like the reference's <c>nn.Sequential</c>, so checkpoint keys map directly.
/// </summary>
public sealed class TimestepEmbedSequential : ModuleList<nn.Module>
{
    public TimestepEmbedSequential(params nn.Module[] layers) : base(layers)
    {
        foreach (var layer in layers)
            if (layer is not (ResBlock or SpatialTransformer or nn.Module<Tensor, Tensor>))
                throw new ArgumentException($"a U-Net block cannot run a {layer.GetType().Name}", nameof(layers));
    }

    /// <param name="x">[batch, channels, height, width]</param>
    /// <param name="emb">[batch, time_embed_dim]</param>
    /// <param name="context">[batch, context_tokens, context_dim]</param>
    /// <returns>The last layer's output; intermediate outputs are freed as soon as the next layer has run.</returns>
    public Tensor Forward(Tensor x, Tensor emb, Tensor context)
    {
        var h = x;
        foreach (var layer in this)
        {
            var next = layer switch
            {
                ResBlock block => block.forward(h, emb),
                SpatialTransformer transformer => transformer.forward(h, context),
                nn.Module<Tensor, Tensor> plain => plain.forward(h),
                _ => throw new InvalidOperationException($"a U-Net block cannot run a {layer.GetType().Name}"),
            };
            if (!ReferenceEquals(h, x) && !ReferenceEquals(h, next)) h.Dispose();
            h = next;
        }
        return ReferenceEquals(h, x) ? x.alias() : h;
    }
}
