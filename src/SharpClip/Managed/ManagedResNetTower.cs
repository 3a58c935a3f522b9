using System.Runtime.CompilerServices;
using SharpClip.Modeling;
using TorchSharp;

namespace SharpClip.Managed;

/// <summary>
/// <see cref="ModifiedResNet"/> on the managed kernels, in eval mode: the three-convolution stem and its 2×2 average
/// pool, the bottleneck stages (each convolution's BatchNorm folded into it, see <see cref="FoldedConvolution"/>;
/// the residual sum and its ReLU done in the last convolution's epilogue), and the attention pool (the mean pixel as
/// the one query over the mean and every pixel, re-associated per head, see <see cref="AttentionPool"/>), on channels-last maps.
/// </summary>
internal sealed unsafe class ManagedResNetTower : IManagedImageTower
{
    /// <summary>One residual unit: 1×1, 3×3, average pool (stride &gt; 1), 1×1, plus the shortcut, then ReLU.</summary>
    sealed class Bottleneck : IDisposable
    {
        public readonly FoldedConvolution Reduce, Spatial, Expand;
        public readonly FoldedConvolution? Shortcut;
        public readonly int Stride;

        // side: the unit's input map's side (its 3×3 runs there, before the pool)
        public Bottleneck(TowerWeights w, string p, int stride, int side)
        {
            Stride = stride;
            try
            {
                Reduce = new FoldedConvolution(w, $"{p}.conv1", $"{p}.bn1");
                Spatial = new FoldedConvolution(w, $"{p}.conv2", $"{p}.bn2", padding: 1, winograd4: side % 4 == 0);
                Expand = new FoldedConvolution(w, $"{p}.conv3", $"{p}.bn3");
                if (w.Has($"{p}.downsample.0.weight")) Shortcut = new FoldedConvolution(w, $"{p}.downsample.0", $"{p}.downsample.1");
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        /// <summary>The unit's output map: new memory from <paramref name="kept"/> behind a shortcut projection, else
        /// <paramref name="x"/> itself (the identity's sum is made in place).</summary>
        public FeatureMap Forward(in FeatureMap x, FeatureMaps kept, int threads)
        {
            using var scratch = new FeatureMaps();
            var reduced = scratch.Allocate(x.Images, x.Height, x.Width, Reduce.OutChannels);
            Reduce.Apply(x, reduced, false, OutputActivation.Relu, threads);
            var spatial = scratch.Allocate(x.Images, x.Height, x.Width, Spatial.OutChannels);
            Spatial.Apply(reduced, spatial, false, OutputActivation.Relu, threads);
            var pooled = Pool(spatial, scratch, threads);
            var output = x;
            if (Shortcut is not null)
            {
                output = kept.Allocate(x.Images, pooled.Height, pooled.Width, Shortcut.OutChannels);
                Shortcut.Apply(Pool(x, scratch, threads), output, false, OutputActivation.None, threads);
            }
            Expand.Apply(pooled, output, true, OutputActivation.Relu, threads);     // relu(shortcut + bn3(conv3(·)))
            return output;
        }

        /// <summary>The unit's anti-aliasing average pool (nothing at stride 1).</summary>
        FeatureMap Pool(in FeatureMap map, FeatureMaps scratch, int threads)
        {
            if (Stride == 1) return map;
            var pooled = scratch.Allocate(map, AveragePool.OutputSide(map.Height, Stride), AveragePool.OutputSide(map.Width, Stride));
            AveragePool.Apply(map, Stride, pooled, threads);
            return pooled;
        }

        public void Dispose()
        {
            Reduce?.Dispose(); Spatial?.Dispose(); Expand?.Dispose(); Shortcut?.Dispose();
        }
    }

    readonly FoldedConvolution[] _stem = new FoldedConvolution[3];
    readonly List<Bottleneck> _blocks = [];
    readonly PackedMatrix _queries, _output;
    readonly PackedMatrix[] _keysByHead, _valuesByHead;
    readonly AlignedBuffer _positions;
    readonly int _resolution, _width, _heads;

    public ManagedResNetTower(TowerWeights w, ClipConfig config)
    {
        if (config.IsVisionTransformer) throw new NotSupportedException("not a ModifiedResNet");
        _resolution = config.ImageResolution;
        _heads = config.VisionHeads;
        try
        {
            _stem[0] = new FoldedConvolution(w, "visual.conv1", "visual.bn1", stride: 2, padding: 1);
            int side = _stem[0].OutputSide(_resolution);
            _stem[1] = new FoldedConvolution(w, "visual.conv2", "visual.bn2", padding: 1, winograd4: side % 4 == 0);
            _stem[2] = new FoldedConvolution(w, "visual.conv3", "visual.bn3", padding: 1, winograd4: side % 4 == 0);
            side = AveragePool.OutputSide(side, 2);
            for (int stage = 0; stage < config.VisionLayers.Length; stage++)
                for (int i = 0; i < config.VisionLayers[stage]; i++)
                {
                    int stride = stage > 0 && i == 0 ? 2 : 1;
                    _blocks.Add(new Bottleneck(w, $"visual.layer{stage + 1}.{i}", stride, side));
                    if (stride > 1) side = AveragePool.OutputSide(side, stride);
                }
            _queries = PackedMatrix.FromLinear(w["visual.attnpool.q_proj.weight"], w["visual.attnpool.q_proj.bias"]);
            _output = PackedMatrix.FromLinear(w["visual.attnpool.c_proj.weight"], w["visual.attnpool.c_proj.bias"]);
            var keys = w["visual.attnpool.k_proj.weight"];                     // [width, width]: out × in
            _ = w["visual.attnpool.k_proj.bias"];                               // adds q·b_k to every score of a head: cancels in the softmax
            var values = w["visual.attnpool.v_proj.weight"];
            var valueBias = w["visual.attnpool.v_proj.bias"];
            int headWidth = (int)keys.shape[0] / _heads;
            _keysByHead = new PackedMatrix[_heads];
            _valuesByHead = new PackedMatrix[_heads];
            using (torch.NewDisposeScope())                                     // the per-head views
                for (int h = 0; h < _heads; h++)
                {
                    // W_k,h transposed ([in, head_width]), so that q_h·W_k,h is the product it packs
                    _keysByHead[h] = PackedMatrix.FromLinear(keys.narrow(0, (long)h * headWidth, headWidth).t(), null);
                    _valuesByHead[h] = PackedMatrix.FromLinearRows(values, valueBias, (long)h * headWidth, headWidth);
                }
            _positions = TensorCopy.ToNative(TensorCopy.Floats(w["visual.attnpool.positional_embedding"])); // [grid²+1, width]
        }
        catch
        {
            Dispose();
            throw;
        }
        _width = _queries.Inner;
        if (_width % _heads != 0) throw new NotSupportedException($"attention pool width {_width} is not a multiple of {_heads} heads");
        EmbedDim = _output.Outer;
    }

    public int EmbedDim { get; }

    /// <summary>Image features, not normalised.</summary>
    // pixels: [images, 3, resolution, resolution] contiguous; output: [images, embed_dim]
    public void Encode(float* pixels, int images, float* output, int threads)
    {
        using var kept = new FeatureMaps();
        var x = Stem(pixels, images, kept, threads);
        foreach (var block in _blocks) x = block.Forward(x, kept, threads);
        AttentionPool(x, output, threads);
    }

    /// <summary>conv–BN–ReLU three times (the first with stride 2), then a 2×2 average pool: [r, r, 3] → [r/4, r/4, width].</summary>
    FeatureMap Stem(float* pixels, int images, FeatureMaps kept, int threads)
    {
        int r = _resolution;
        using var scratch = new FeatureMaps();
        using var rgb = AlignedBuffer.Scratch((long)images * r * r * 3);
        ToChannelsLast(pixels, images, r, rgb.Data);
        var x = new FeatureMap(rgb.Data, images, r, r, 3, 3);
        foreach (var conv in _stem)
        {
            int side = conv.OutputSide(x.Height);
            var y = scratch.Allocate(images, side, side, conv.OutChannels);
            conv.Apply(x, y, false, OutputActivation.Relu, threads);
            x = y;
        }
        var pooled = kept.Allocate(x, AveragePool.OutputSide(x.Height, 2), AveragePool.OutputSide(x.Width, 2));
        AveragePool.Apply(x, 2, pooled, threads);
        return pooled;
    }

    // pixels: [images, 3, r, r] → rgb: [images·r·r, 3]
    static void ToChannelsLast(float* pixels, int images, int r, float* rgb)
    {
        long plane = (long)r * r;
        for (int i = 0; i < images; i++)
            for (int c = 0; c < 3; c++)
            {
                float* from = pixels + (i * 3L + c) * plane, to = rgb + i * plane * 3 + c;
                for (long p = 0; p < plane; p++) to[p * 3] = from[p];
            }
    }

    /// <summary>
    /// The attention pool: tokens = [mean pixel, every pixel] + positions, the mean token's attention over all of them
    /// through q/k/v, then c_proj. With one query the products re-associate exactly: a head's scores are
    /// <c>q_h·(W_k,h x_j + b_k,h) = (W_k,hᵀ q_h)·x_j + const</c> (the constant cancels in the softmax) and its output is
    /// <c>Σ_j p_j (W_v,h x_j + b_v,h) = W_v,h (Σ_j p_j x_j) + b_v,h</c> (the p_j sum to 1), so keys and values are never
    /// formed for the 50 tokens: RN50 does 15 M multiply-adds per image here instead of 420 M.
    /// </summary>
    // x: [images, grid, grid, width]; output: [images, embed_dim]
    void AttentionPool(in FeatureMap x, float* output, int threads)
    {
        int images = x.Images, pixels = x.Height * x.Width, tokens = pixels + 1, width = x.Channels, ld = FeatureMap.Stride(width);
        if (width != _width || (long)tokens * width != _positions.Length)
            throw new InvalidOperationException($"the attention pool expects {_positions.Length / _width - 1} pixels of {_width} channels, " +
                                                $"the stages gave {pixels} of {width}");
        using var buffers = AlignedBuffer.Scratch((long)images * (tokens + 2) * ld);
        float* all = buffers.Data, queries = all + (long)images * tokens * ld, attended = queries + (long)images * ld;
        float* positions = _positions.Data;
        for (int i = 0; i < images; i++)
        {
            float* first = all + (long)i * tokens * ld;
            new Span<float>(first, width).Clear();
            for (int p = 0; p < pixels; p++)
            {
                float* pixel = x.Data + ((long)i * pixels + p) * x.Ld;
                RowOps.Add(first, pixel, first, width);                        // the mean's sum, pixel by pixel
                RowOps.Add(pixel, positions + (long)(p + 1) * width, first + (long)(p + 1) * ld, width);
            }
            for (int c = 0; c < width; c++) first[c] = first[c] / pixels + positions[c];
        }
        int heads = _heads, headWidth = width / heads, ldMix = heads * ld;
        MatrixKernel.Multiply(all, images, tokens * ld, _queries, queries, ld, 0, width, false, OutputActivation.None, threads);
        // queryKeys[i, h] = W_k,hᵀ (q_h/√d): one row per image and head, in the buffer of the mixes (reused below)
        using var perHead = AlignedBuffer.Scratch((long)images * heads * ld + (long)images * heads * tokens);
        float* queryKeys = perHead.Data, weights = queryKeys + (long)images * heads * ld;
        float scale = 1f / MathF.Sqrt(headWidth);
        for (int i = 0; i < images; i++) RowOps.Scale(queries + (long)i * ld, scale, queries + (long)i * ld, width);
        // Heads are shared out whole, one job per step, not one job per head's product (RN50 at batch 1: 64 jobs of a
        // few microseconds each, each waking the workers).
        nint queriesP = (nint)queries, allP = (nint)all, qkP = (nint)queryKeys, wP = (nint)weights, attendedP = (nint)attended;
        WorkerTeam.Share(heads, threads, 1, (from, to) =>
        {
            for (int h = from; h < to; h++)
                MatrixKernel.Multiply((float*)queriesP + h * headWidth, images, ld, _keysByHead[h], (float*)qkP + (long)h * ld, ldMix, 0, width,
                    false, OutputActivation.None, threads: 1);
        });
        // per image and head: scores over the tokens, softmax, and the tokens' mix in place of the query-keys row
        WorkerTeam.Share(images * heads, threads, 1, (from, to) =>
        {
            for (int item = from; item < to; item++)
                MixTokens((float*)allP + (long)(item / heads) * tokens * ld, ld, tokens, width,
                    (float*)qkP + (long)item * ld, (float*)wP + (long)item * tokens);
        });
        WorkerTeam.Share(heads, threads, 1, (from, to) =>
        {
            for (int h = from; h < to; h++)
                MatrixKernel.Multiply((float*)qkP + (long)h * ld, images, ldMix, _valuesByHead[h], (float*)attendedP + h * headWidth, ld, 0, headWidth,
                    false, OutputActivation.None, threads: 1);
        });
        MatrixKernel.Multiply(attended, images, ld, _output, output, EmbedDim, 0, EmbedDim, false, OutputActivation.None, threads);
    }

    /// <summary>One head of one image: <paramref name="row"/> holds W_k,hᵀ q_h on entry and Σ_j p_j x_j on return.</summary>
    // tokens: [tokens, width] with row stride ld; row: [width]; p: [tokens] scratch
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void MixTokens(float* tokens, int ld, int count, int width, float* row, float* p)
    {
        float max = float.NegativeInfinity;
        for (int j = 0; j < count; j++)
        {
            p[j] = RowOps.Dot(row, tokens + (long)j * ld, width);
            max = MathF.Max(max, p[j]);
        }
        float total = 0;
        for (int j = 0; j < count; j++) total += p[j] = MathF.Exp(p[j] - max);
        new Span<float>(row, width).Clear();
        for (int j = 0; j < count; j++) RowOps.AddScaled(row, tokens + (long)j * ld, p[j] / total, width);
    }

    public void Dispose()
    {
        foreach (var c in _stem) c?.Dispose();
        foreach (var b in _blocks) b.Dispose();
        _queries?.Dispose(); _output?.Dispose();
        foreach (var m in _keysByHead ?? []) m?.Dispose();
        foreach (var m in _valuesByHead ?? []) m?.Dispose();
        _positions?.Dispose();
    }
}
