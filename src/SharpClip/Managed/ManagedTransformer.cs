using SharpClip.Modeling;

namespace SharpClip.Managed;

/// <summary>
/// <see cref="TransformerStack"/> on the managed kernels: pre-LayerNorm residual blocks over the rows of one matrix
/// [sequences·tokens, width], each linear layer one <see cref="MatrixKernel"/> product with its bias, activation or
/// residual sum done in the same pass. Only the pooled row of each sequence is read after the last block, so that
/// block computes keys and values for every token but the query, output projection and MLP for the pooled row alone
/// (as the ONNX graph does: same sums for that row, one twelfth less work for ViT-B/32).
/// </summary>
internal sealed unsafe class ManagedTransformer : IDisposable
{
    /// <summary>One residual block's weights. The last block computes queries for the pooled rows and keys and values
    /// for every token, so its in-projection is kept as those two parts (no copy kept of the whole).</summary>
    sealed class Block : IDisposable
    {
        public readonly LayerNormWeights Ln1, Ln2;
        public readonly PackedMatrix? InProjection, Queries, KeysValues;
        public readonly PackedMatrix OutProjection, Fc, Proj;

        public Block(TowerWeights w, string p, bool pooled)
        {
            Ln1 = new(w, $"{p}.ln_1");
            Ln2 = new(w, $"{p}.ln_2");
            var inWeight = w[$"{p}.attn.in_proj_weight"];                       // [3·width, width]: Q | K | V
            var inBias = w[$"{p}.attn.in_proj_bias"];
            long width = inWeight.shape[1];
            if (pooled)
            {
                Queries = PackedMatrix.FromLinearRows(inWeight, inBias, 0, width);
                KeysValues = PackedMatrix.FromLinearRows(inWeight, inBias, width, 2 * width);
            }
            else InProjection = PackedMatrix.FromLinear(inWeight, inBias);
            OutProjection = PackedMatrix.FromLinear(w[$"{p}.attn.out_proj.weight"], w[$"{p}.attn.out_proj.bias"]);
            Fc = PackedMatrix.FromLinear(w[$"{p}.mlp.c_fc.weight"], w[$"{p}.mlp.c_fc.bias"]);
            Proj = PackedMatrix.FromLinear(w[$"{p}.mlp.c_proj.weight"], w[$"{p}.mlp.c_proj.bias"]);
        }

        public void Dispose()
        {
            Ln1.Dispose(); Ln2.Dispose();
            InProjection?.Dispose(); Queries?.Dispose(); KeysValues?.Dispose();
            OutProjection.Dispose(); Fc.Dispose(); Proj.Dispose();
        }
    }

    readonly Block[] _blocks;
    readonly Activation _activation;

    public ManagedTransformer(TowerWeights w, string prefix, int layers, int heads, Activation activation)
    {
        if (layers < 1) throw new NotSupportedException($"the managed engine needs at least one block under {prefix}");
        _activation = activation;
        _blocks = new Block[layers];
        try
        {
            for (int i = 0; i < layers; i++) _blocks[i] = new Block(w, $"{prefix}.resblocks.{i}", pooled: i == layers - 1);
        }
        catch
        {
            Dispose();
            throw;
        }
        Width = _blocks[0].Ln1.Width;
        Heads = heads;
        MlpWidth = _blocks[0].Fc.Outer;
        if (Width % heads != 0) throw new NotSupportedException($"{prefix}: width {Width} is not a multiple of {heads} heads");
    }

    public int Width { get; }

    /// <summary>
    /// The row stride of the matrices the blocks work on: the width plus one cache line. A row of 512, 768, 2,048 or
    /// 3,072 floats is a multiple of 1 KiB, so the 12 rows a kernel tile reads would fall in the same few L1 sets and
    /// evict each other (measured on the text MLP's output projection, 4,928 rows of 2,048: 265 GFLOP/s unpadded,
    /// 332-350 padded).
    /// </summary>
    public static int Stride(int width) => width + 16;

    public int Heads { get; }
    public int HeadWidth => Width / Heads;
    public int MlpWidth { get; }

    /// <summary>
    /// Runs every block over <paramref name="x"/> (changed in place: the residual stream) and writes the last block's
    /// output for each sequence's pooled row to <paramref name="pooled"/>.
    /// </summary>
    // x: [sequences·tokens, width] with row stride Stride(width); positions: [sequences], the pooled token of each;
    // pooled: [sequences, width], same stride
    public void Forward(float* x, int sequences, int tokens, bool causal, int* positions, float* pooled, int threads)
    {
        int rows = sequences * tokens, ld = Stride(Width), ldQkv = Stride(3 * Width), ldHidden = Stride(MlpWidth);
        using var normed = AlignedBuffer.Scratch((long)rows * ld);
        using var qkv = AlignedBuffer.Scratch((long)rows * ldQkv);
        using var attended = AlignedBuffer.Scratch((long)rows * ld);
        using var hidden = AlignedBuffer.Scratch((long)rows * ldHidden);
        var work = new Buffers(normed.Data, ld, qkv.Data, ldQkv, hidden.Data, ldHidden);
        for (int i = 0; i < _blocks.Length - 1; i++)
        {
            var b = _blocks[i];
            b.Ln1.Apply(x, ld, normed.Data, ld, rows, threads);
            MatrixKernel.Multiply(normed.Data, rows, ld, b.InProjection!, qkv.Data, ldQkv, 0, 3 * Width, false, null, threads);
            var layout = new HeadAttention.Layout(qkv.Data, ldQkv, qkv.Data + Width, ldQkv, qkv.Data + 2 * Width, ldQkv,
                attended.Data, ld, sequences, tokens, tokens, null, causal);
            HeadAttention.Run(layout, Heads, HeadWidth, threads);
            Residual(b, x, ld, attended.Data, work, rows, threads);
        }
        PooledBlock(_blocks[^1], x, sequences, tokens, causal, positions, pooled, work, threads);
    }

    /// <summary>The working matrices of one call and their row strides.</summary>
    readonly struct Buffers(float* normed, int ld, float* qkv, int ldQkv, float* hidden, int ldHidden)
    {
        public readonly float* Normed = normed, Qkv = qkv, Hidden = hidden;
        public readonly int Ld = ld, LdQkv = ldQkv, LdHidden = ldHidden;
    }

    /// <summary><c>x += out_proj(a)</c>, then <c>x += mlp(ln_2(x))</c>, in the normed and hidden matrices of <paramref name="work"/>.</summary>
    // x, attended: [rows, width] with row stride ld
    void Residual(Block b, float* x, int ld, float* attended, in Buffers work, int rows, int threads)
    {
        int width = Width;
        MatrixKernel.Multiply(attended, rows, ld, b.OutProjection, x, ld, 0, width, true, null, threads);
        b.Ln2.Apply(x, ld, work.Normed, work.Ld, rows, threads);
        MatrixKernel.Multiply(work.Normed, rows, work.Ld, b.Fc, work.Hidden, work.LdHidden, 0, MlpWidth, false, _activation, threads);
        MatrixKernel.Multiply(work.Hidden, rows, work.LdHidden, b.Proj, x, ld, 0, width, true, null, threads);
    }

    // pooled: [sequences, width], row stride Stride(width), like x
    void PooledBlock(Block b, float* x, int sequences, int tokens, bool causal, int* positions, float* pooled, in Buffers work, int threads)
    {
        int rows = sequences * tokens, width = Width, ld = work.Ld;
        b.Ln1.Apply(x, ld, work.Normed, ld, rows, threads);
        float* keysValues = work.Qkv;                                           // [rows, 2·width] (stride ldQkv): K | V of every token
        MatrixKernel.Multiply(work.Normed, rows, ld, b.KeysValues!, keysValues, work.LdQkv, 0, 2 * width, false, null, threads);
        int ldHidden = Stride(MlpWidth);
        using var rowBuffers = AlignedBuffer.Scratch((long)sequences * (3 * ld + ldHidden));
        float* normedRows = rowBuffers.Data, queries = normedRows + (long)sequences * ld, attended = queries + (long)sequences * ld,
            hidden = attended + (long)sequences * ld;
        for (int s = 0; s < sequences; s++)
        {
            long row = (long)s * tokens + positions[s];
            RowOps.Copy(work.Normed + row * ld, normedRows + s * ld, width);
            RowOps.Copy(x + row * ld, pooled + s * ld, width);
        }
        MatrixKernel.Multiply(normedRows, sequences, ld, b.Queries!, queries, ld, 0, width, false, null, threads);
        var layout = new HeadAttention.Layout(queries, ld, keysValues, work.LdQkv, keysValues + width, work.LdQkv,
            attended, ld, sequences, tokens, 1, positions, causal);
        HeadAttention.Run(layout, Heads, HeadWidth, threads);
        Residual(b, pooled, ld, attended, new Buffers(normedRows, ld, null, 0, hidden, ldHidden), sequences, threads);
    }

    public void Dispose()
    {
        foreach (var b in _blocks) b?.Dispose();
    }
}
