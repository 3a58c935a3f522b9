using SharpClip.Modeling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpClip.Training;

/// <summary>How <see cref="ContrastiveStep"/> computes a batch's gradients.</summary>
public sealed record ContrastiveStepOptions
{
    /// <summary>
    /// Samples per forward/backward pass; null (or ≥ the batch) runs the batch in one pass. Smaller values bound memory
    /// without changing the loss (see <see cref="ContrastiveStep"/>).
    /// </summary>
    public int? MicroBatchSize { get; init; }

    /// <summary>Locked-image tuning (LiT): the image tower is not trained and runs in eval mode (BatchNorm uses its running statistics).</summary>
    public bool FreezeImageTower { get; init; }

    /// <summary>The text tower (embeddings, blocks, final LayerNorm, projection) is not trained.</summary>
    public bool FreezeTextTower { get; init; }

    /// <summary>Run forward and backward in this dtype with float32 master weights (bf16 only makes sense); null = the model's own dtype.</summary>
    public ScalarType? ComputeType { get; init; }

    /// <summary>Recompute transformer blocks in the backward pass instead of storing their activations.</summary>
    public bool ActivationCheckpointing { get; init; }

    /// <summary>
    /// Run the text tower only up to the batch's longest caption (see <see cref="TextPadding.Trim"/>). Exact,
    /// and several times faster for short captions in a 77-token context; off only to measure the untrimmed cost.
    /// </summary>
    public bool TrimTextPadding { get; init; } = true;
}

/// <summary>
/// One training step's forward and backward for a batch of N image-text pairs: afterwards every trainable parameter's
/// <c>.grad</c> holds d loss / d parameter, where the loss is the objective over the WHOLE batch, however it was split.
/// <para>Why splitting is not simple accumulation: a contrastive loss couples every pair of the batch (each image is
/// scored against all N texts), so the loss of a batch is not the sum of its micro-batches' losses, and summing
/// micro-batch gradients would train with N/k negatives instead of N. This uses the gradient-cache method
/// (Gao et al. 2021) instead, exact up to float rounding:</para>
/// <list type="number">
/// <item>embed every micro-batch with autograd off (memory: only the N×D embeddings are kept);</item>
/// <item>compute the full-batch loss from those embeddings and back-propagate it to the embeddings (and to the
/// temperature and the objective's own parameters), giving dL/d embedding for every sample;</item>
/// <item>re-run each micro-batch with autograd on and back-propagate its slice of dL/d embedding through the tower,
/// which accumulates exactly the full-batch parameter gradients.</item>
/// </list>
/// <para>CLIP has no dropout, so the recomputation sees the same function. ResNet image towers have BatchNorm: in
/// training mode each micro-batch is normalised with its own statistics in both passes (the recompute sees the same
/// micro-batch), so the result is exactly the gradient of a model whose BatchNorm works per micro-batch ("ghost
/// batch norm"), not that of one full-batch pass; the running statistics are updated once per micro-batch, as that
/// model would (the first pass's updates are undone).</para>
/// </summary>
public sealed class ContrastiveStep : IDisposable
{
    readonly ContrastiveObjective _objective;
    readonly MixedPrecision? _mixed;
    readonly List<(Parameter Parameter, bool RequiredGrad)> _requiredGrad = [];

    public ContrastiveStep(ClipModel model, ContrastiveObjective objective, ContrastiveStepOptions? options = null)
    {
        Model = model;
        _objective = objective;
        Options = options ?? new ContrastiveStepOptions();
        if (Options.MicroBatchSize is <= 0) throw new ArgumentOutOfRangeException(nameof(options), Options.MicroBatchSize, "MicroBatchSize must be positive");
        if (Options.FreezeImageTower && Options.FreezeTextTower)
            throw new ArgumentException("freezing both towers leaves nothing to train but the temperature");

        foreach (var (name, p) in model.named_parameters())
        {
            _requiredGrad.Add((p, p.requires_grad));
            p.requires_grad_(!(IsImageTower(name) ? Options.FreezeImageTower : IsTextTower(name) && Options.FreezeTextTower));
        }
        if (Options.ComputeType is { } ct && ct != model.DType) _mixed = new MixedPrecision(model, ct);
        ActivationCheckpointing.Apply(Compute, Options.ActivationCheckpointing);
    }

    /// <summary>The model being trained (float32 master weights when mixed precision is on).</summary>
    public ClipModel Model { get; }

    public ContrastiveStepOptions Options { get; }

    /// <summary>The model the passes run in: <see cref="Model"/>, or its bf16 working copy.</summary>
    ClipModel Compute => _mixed?.Compute ?? Model;

    /// <summary>The parameters this step produces gradients for: the model's unfrozen ones, then the objective's.</summary>
    public IReadOnlyList<(string Name, Parameter Parameter)> TrainableParameters =>
        [.. Model.named_parameters().Where(p => p.parameter.requires_grad), .. _objective.Parameters];

    /// <summary>Parameters of the image tower are under <c>visual.</c>.</summary>
    public static bool IsImageTower(string name) => name.StartsWith("visual.", StringComparison.Ordinal);

    /// <summary>The text tower: everything but the image tower and the temperature.</summary>
    public static bool IsTextTower(string name) => !IsImageTower(name) && name != "logit_scale";

    /// <summary>
    /// Forward and backward over one batch. Gradients are ADDED to the parameters' <c>.grad</c> (clear them before).
    /// Cancellation is checked between micro-batches; a cancelled step leaves BatchNorm statistics as they were.
    /// </summary>
    /// <param name="pixels">[N, 3, resolution, resolution] normalised images.</param>
    /// <param name="ids">[N, context] token ids; row i describes image i.</param>
    /// <param name="cancellationToken">Checked before each micro-batch's recompute.</param>
    /// <returns>The batch's loss.</returns>
    public float Run(Tensor pixels, Tensor ids, CancellationToken cancellationToken = default)
    {
        long n = pixels.shape[0];
        if (n < 2 || ids.shape[0] != n)
            throw new ArgumentException($"a contrastive batch needs at least 2 pairs and as many texts as images; got {n} images and {ids.shape[0]} texts");
        using var scope = torch.NewDisposeScope();
        _mixed?.PullWeights();
        Compute.train();
        if (Options.FreezeImageTower) Compute.Visual.eval();

        if (Options.TrimTextPadding) ids = TextPadding.Trim(ids);
        long micro = Math.Min(Options.MicroBatchSize ?? n, n);
        float loss = micro >= n ? RunWhole(pixels, ids) : RunCached(pixels, ids, micro, cancellationToken);
        _mixed?.PushBuffers();
        return loss;
    }

    // The batch in one pass: the ordinary forward and backward.
    float RunWhole(Tensor pixels, Tensor ids)
    {
        var image = EncodeImages(pixels, withGraph: !Options.FreezeImageTower);
        var text = EncodeTexts(ids, withGraph: !Options.FreezeTextTower);
        var loss = _objective.Loss(image, text, Model.LogitScale);
        loss.backward();
        _mixed?.PushGradients();
        return loss.item<float>();
    }

    float RunCached(Tensor pixels, Tensor ids, long micro, CancellationToken cancellationToken)
    {
        long n = pixels.shape[0];
        var slices = new List<(long Start, long Length)>();
        for (long s = 0; s < n; s += micro) slices.Add((s, Math.Min(micro, n - s)));
        bool trainImages = !Options.FreezeImageTower, trainTexts = !Options.FreezeTextTower;
        using var batchNorm = trainImages ? BatchNormState.Capture(Compute) : null;

        // 1. Every micro-batch's embeddings, without graphs. [N, D] each.
        Tensor image, text;
        using (torch.no_grad())
        {
            image = torch.cat(slices.Select(s => Compute.EncodeImages(pixels.narrow(0, s.Start, s.Length))).ToList(), 0);
            text = torch.cat(slices.Select(s => Compute.EncodeTexts(ids.narrow(0, s.Start, s.Length))).ToList(), 0);
            batchNorm?.Restore(); // the recompute below makes the one update per micro-batch
        }

        // 2. The full-batch loss, back-propagated as far as the embeddings (and the temperature).
        var imageLeaf = image.detach().requires_grad_(trainImages);
        var textLeaf = text.detach().requires_grad_(trainTexts);
        var loss = _objective.Loss(imageLeaf, textLeaf, Model.LogitScale);
        loss.backward();

        // 3. Each micro-batch again, with its graph, back-propagating its slice of dL/d embedding.
        try
        {
            foreach (var (start, length) in slices)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var microScope = torch.NewDisposeScope();
                if (trainImages)
                {
                    var e = Compute.EncodeImages(pixels.narrow(0, start, length));
                    torch.autograd.backward([e], [imageLeaf.grad!.narrow(0, start, length).to(e.dtype)]);
                }
                if (trainTexts)
                {
                    var e = Compute.EncodeTexts(ids.narrow(0, start, length));
                    torch.autograd.backward([e], [textLeaf.grad!.narrow(0, start, length).to(e.dtype)]);
                }
                _mixed?.PushGradients();
            }
        }
        catch (OperationCanceledException)
        {
            batchNorm?.Restore();
            throw;
        }
        return loss.item<float>();
    }

    Tensor EncodeImages(Tensor pixels, bool withGraph)
    {
        using var _ = withGraph ? null : torch.no_grad();
        return Compute.EncodeImages(pixels);
    }

    Tensor EncodeTexts(Tensor ids, bool withGraph)
    {
        using var _ = withGraph ? null : torch.no_grad();
        return Compute.EncodeTexts(ids);
    }

    /// <summary>Puts the model back as it was (gradient flags, no checkpointing) and frees the bf16 copy.</summary>
    public void Dispose()
    {
        ActivationCheckpointing.Apply(Model, false);
        foreach (var (p, required) in _requiredGrad) p.requires_grad_(required);
        _mixed?.Dispose();
    }

    /// <summary>A copy of a model's buffers (BatchNorm running statistics and counters) that can be put back.</summary>
    sealed class BatchNormState : IDisposable
    {
        readonly List<(Tensor Live, Tensor Saved)> _buffers;

        BatchNormState(List<(Tensor, Tensor)> buffers) => _buffers = buffers;

        public static BatchNormState? Capture(nn.Module model)
        {
            var buffers = model.named_buffers().Select(b => (b.buffer, b.buffer.detach().clone().DetachFromDisposeScope())).ToList();
            return buffers.Count == 0 ? null : new BatchNormState(buffers);
        }

        public void Restore()
        {
            using var _ = torch.no_grad();
            foreach (var (live, saved) in _buffers) live.copy_(saved);
        }

        public void Dispose()
        {
            foreach (var (_, saved) in _buffers) saved.Dispose();
        }
    }
}
