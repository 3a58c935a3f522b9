using System.Runtime.CompilerServices;
using SharpClip.Modeling;

namespace SharpClip.Managed;

/// <summary>
/// <see cref="TextTransformer"/> on the managed kernels: token and positional embeddings for however many positions
/// the ids have, causal blocks, ln_final and the projection of each row's first end-of-text token (<c>argmax</c> of the
/// ids, as the reference pools).
/// </summary>
internal sealed unsafe class ManagedTextTower : IDisposable
{
    readonly AlignedBuffer _tokens, _positions;
    readonly ManagedTransformer _transformer;
    readonly LayerNormWeights _lnFinal;
    readonly PackedMatrix _projection;
    readonly int _vocabulary, _context, _width;

    public ManagedTextTower(TowerWeights w, ClipConfig config)
    {
        var tokens = w["token_embedding.weight"];                              // [vocab, width]
        _vocabulary = (int)tokens.shape[0];
        _width = (int)tokens.shape[1];
        _tokens = TensorCopy.ToNative(TensorCopy.Floats(tokens));
        var positions = w["positional_embedding"];                             // [context, width]
        _context = (int)positions.shape[0];
        _positions = TensorCopy.ToNative(TensorCopy.Floats(positions));
        _transformer = new ManagedTransformer(w, "transformer", config.TextLayers, config.TextHeads, config.Activation);
        _lnFinal = new LayerNormWeights(w, "ln_final");
        _projection = PackedMatrix.FromProjection(w["text_projection"]);
        EmbedDim = _projection.Outer;
    }

    public int EmbedDim { get; }

    /// <summary>Text features, not normalised.</summary>
    // ids: [texts, tokens] row-major, tokens ≤ the context length; output: [texts, embed_dim]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Encode(long* ids, int texts, int tokens, float* output, int threads)
    {
        if (tokens < 1 || tokens > _context) throw new ArgumentException($"{tokens} token positions; this model has {_context}", nameof(tokens));
        int width = _width, ld = ManagedTransformer.Stride(width);
        using var x = AlignedBuffer.Scratch((long)texts * tokens * ld);           // [texts·tokens, width], row stride ld
        var eot = new int[texts];
        for (int t = 0; t < texts; t++)
        {
            long* row = ids + (long)t * tokens;
            int end = 0;
            for (int j = 0; j < tokens; j++)
            {
                long id = row[j];
                if (id < 0 || id >= _vocabulary) throw new ArgumentException($"token id {id} at [{t}, {j}] is outside the vocabulary of {_vocabulary}", nameof(ids));
                if (id > row[end]) end = j;                                    // first occurrence of the largest id
                RowOps.Add(_tokens.Data + id * width, _positions.Data + (long)j * width, x.Data + ((long)t * tokens + j) * ld, width);
            }
            eot[t] = end;
        }
        using var pooled = AlignedBuffer.Scratch((long)texts * ld);
        fixed (int* rows = eot) _transformer.Forward(x.Data, texts, tokens, causal: true, rows, pooled.Data, threads);
        _lnFinal.Apply(pooled.Data, ld, pooled.Data, ld, texts, threads);
        MatrixKernel.Multiply(pooled.Data, texts, ld, _projection, output, EmbedDim, 0, EmbedDim, false, null, threads);
    }

    public void Dispose()
    {
        _tokens.Dispose(); _positions.Dispose();
        _transformer.Dispose(); _lnFinal.Dispose(); _projection.Dispose();
    }
}
