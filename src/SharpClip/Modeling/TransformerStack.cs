using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpClip.Modeling;

/// <summary>
/// A stack of <see cref="ResidualAttentionBlock"/>s (the reference's <c>Transformer</c>; its blocks are
/// <c>resblocks.0</c>, <c>resblocks.1</c>, ...). Batch-first throughout, unlike the reference's sequence-first layout:
/// the maths is identical and no permutes are needed around the fused attention.
/// </summary>
public sealed class TransformerStack : nn.Module<Tensor, Tensor>
{
    readonly ModuleList<ResidualAttentionBlock> resblocks;

    /// <summary>CLIP's stack: <paramref name="layers"/> identical self-attention blocks.</summary>
    public TransformerStack(int width, int layers, int heads, int mlpWidth, Activation activation, bool causal)
        : this(Enumerable.Range(0, layers).Select(_ => new ResidualAttentionBlock(width, heads, mlpWidth, activation, causal)))
    {
    }

    /// <summary>A stack of the given blocks, run in order (for blocks built around other sublayers).</summary>
    public TransformerStack(IEnumerable<ResidualAttentionBlock> blocks) : base(nameof(TransformerStack))
    {
        resblocks = new ModuleList<ResidualAttentionBlock>(blocks.ToArray());
        RegisterComponents();
    }

    public int Layers => resblocks.Count;

    /// <summary>The blocks, in the order they run.</summary>
    public IReadOnlyList<ResidualAttentionBlock> Blocks => [.. resblocks];

    /// <summary>
    /// How each block is run: null calls <c>block.forward</c>. Training sets a runner that recomputes the block in the
    /// backward pass instead of keeping its activations (activation checkpointing, which lives in the training layer);
    /// the hook keeps that training concern out of the model.
    /// </summary>
    public Func<nn.Module<Tensor, Tensor>, Tensor, Tensor>? BlockRunner { get; set; }

    /// <param name="x">[batch, tokens, width]</param>
    public override Tensor forward(Tensor x) => Forward(x, null);

    /// <summary>
    /// Runs every block. Each block's output is freed as soon as the next block has run (not at the end, as a dispose
    /// scope would), so inference holds two activations at a time, not one per layer.
    /// </summary>
    /// <param name="x">[batch, tokens, width]</param>
    /// <param name="blockOutputs">When given, receives each block's output [batch, tokens, width] in order.</param>
    public Tensor Forward(Tensor x, List<Tensor>? blockOutputs)
    {
        var h = x;
        foreach (var block in resblocks)
        {
            var next = BlockRunner is { } run ? run(block, h) : block.forward(h);
            if (blockOutputs is not null) blockOutputs.Add(next);
            else if (!ReferenceEquals(h, x)) h.Dispose(); // the previous block's output is no longer needed
            h = next;
        }
        return ReferenceEquals(h, x) ? x.alias() : h;
    }
}
