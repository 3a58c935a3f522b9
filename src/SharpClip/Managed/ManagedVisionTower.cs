using System.Runtime.CompilerServices;
using SharpClip.Modeling;

namespace SharpClip.Managed;

/// <summary>
/// <see cref="VisionTransformer"/> on the managed kernels: the patch convolution as one matrix product over the
/// images' patches (a stride-P, P×P convolution without bias is exactly that), class token and positions, ln_pre, the
/// blocks, ln_post of the class token and the projection.
/// </summary>
internal sealed unsafe class ManagedVisionTower : IManagedImageTower
{
    readonly PackedMatrix _patches, _projection;
    readonly AlignedBuffer _classToken, _positions;
    readonly LayerNormWeights _lnPre, _lnPost;
    readonly ManagedTransformer _transformer;
    readonly int _patch, _grid, _width, _resolution;

    public ManagedVisionTower(TowerWeights w, ClipConfig config)
    {
        _patch = config.VisionPatchSize ?? throw new NotSupportedException("not a Vision Transformer");
        _resolution = config.ImageResolution;
        _grid = config.VisionGrid;
        var conv = w["visual.conv1.weight"];                                   // [width, 3, patch, patch]
        _width = (int)conv.shape[0];
        using (var flat = conv.reshape(_width, -1)) _patches = PackedMatrix.FromLinear(flat, null);
        // The class token plus its position is the same float32 sum the module makes, done once here.
        var positions = TensorCopy.Floats(w["visual.positional_embedding"]);  // [grid²+1, width]
        var classToken = TensorCopy.Floats(w["visual.class_embedding"]);
        for (int i = 0; i < _width; i++) classToken[i] += positions[i];
        _classToken = TensorCopy.ToNative(classToken);
        _positions = TensorCopy.ToNative(positions);
        _lnPre = new LayerNormWeights(w, "visual.ln_pre");
        _transformer = new ManagedTransformer(w, "visual.transformer", config.VisionLayers[0], config.VisionHeads, config.Activation);
        _lnPost = new LayerNormWeights(w, "visual.ln_post");
        _projection = PackedMatrix.FromProjection(w["visual.proj"]);
        EmbedDim = _projection.Outer;
    }

    public int EmbedDim { get; }

    /// <summary>Image features, not normalised.</summary>
    // pixels: [images, 3, resolution, resolution] contiguous; output: [images, embed_dim]
    public void Encode(float* pixels, int images, float* output, int threads)
    {
        int cells = _grid * _grid, tokens = cells + 1, width = _width, patchValues = 3 * _patch * _patch;
        using var patches = AlignedBuffer.Scratch((long)images * cells * patchValues);
        Unfold(pixels, images, patches.Data);
        using var embedded = AlignedBuffer.Scratch((long)images * cells * width);
        MatrixKernel.Multiply(patches.Data, images * cells, patchValues, _patches, embedded.Data, width, 0, width, false, null, threads);

        int ld = ManagedTransformer.Stride(width);
        using var x = AlignedBuffer.Scratch((long)images * tokens * ld);            // [images·tokens, width], row stride ld
        for (int i = 0; i < images; i++)
        {
            float* first = x.Data + (long)i * tokens * ld;
            RowOps.Copy(_classToken.Data, first, width);
            for (int c = 0; c < cells; c++)
                RowOps.Add(embedded.Data + ((long)i * cells + c) * width, _positions.Data + (long)(c + 1) * width, first + (long)(c + 1) * ld, width);
        }
        _lnPre.Apply(x.Data, ld, x.Data, ld, images * tokens, threads);

        var classRows = new int[images];                                       // every image pools its class token, row 0
        using var pooled = AlignedBuffer.Scratch((long)images * ld);
        fixed (int* rows = classRows) _transformer.Forward(x.Data, images, tokens, causal: false, rows, pooled.Data, threads);
        _lnPost.Apply(pooled.Data, ld, pooled.Data, ld, images, threads);
        MatrixKernel.Multiply(pooled.Data, images, ld, _projection, output, EmbedDim, 0, EmbedDim, false, null, threads);
    }

    /// <summary>Each image's P×P patches, row by row, as rows of (channel, y, x) values: the convolution weight's order.</summary>
    // patches: [images·grid², 3·patch·patch]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void Unfold(float* pixels, int images, float* patches)
    {
        int p = _patch, r = _resolution;
        float* row = patches;
        for (int i = 0; i < images; i++)
            for (int gy = 0; gy < _grid; gy++)
                for (int gx = 0; gx < _grid; gx++)
                    for (int c = 0; c < 3; c++)
                        for (int y = 0; y < p; y++)
                        {
                            RowOps.Copy(pixels + (((long)i * 3 + c) * r + gy * p + y) * r + gx * p, row, p);
                            row += p;
                        }
    }

    public void Dispose()
    {
        _patches.Dispose(); _projection.Dispose();
        _classToken.Dispose(); _positions.Dispose();
        _lnPre.Dispose(); _lnPost.Dispose();
        _transformer.Dispose();
    }
}
