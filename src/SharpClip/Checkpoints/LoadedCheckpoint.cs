using SharpClip.Modeling;
using SharpClip.Vision;
using static TorchSharp.torch;

namespace SharpClip.Checkpoints;

/// <summary>
/// A checkpoint read into memory — the model bundle: the complete state dict in OpenAI/open_clip key names (CPU tensors
/// in their stored dtype), the architecture, where the tokenizer comes from and how images are prepared. Inference
/// (<c>ClipPipeline</c>), fine-tuning, evaluation and search all take their tokenizer (<see cref="TokenizerSource"/>)
/// and image processor (<see cref="CreateImageProcessor"/>) from here, so they prepare inputs alike. It owns the tensors —
/// they are detached from any dispose scope — and frees them on <see cref="Dispose"/>; load them into a model with
/// <c>load_state_dict</c> (which copies) and dispose this.
/// </summary>
public sealed class LoadedCheckpoint : IDisposable
{
    readonly Dictionary<string, Tensor> _stateDict;
    ClipConfig? _inferred;
    bool _disposed;

    internal LoadedCheckpoint(string sourcePath, string sourceFormat, Dictionary<string, Tensor> stateDict, ClipConfig? config,
        PreprocessingInfo? preprocessing, string? vocabPath, string? mergesPath, IReadOnlyList<string> droppedKeys)
    {
        SourcePath = sourcePath;
        SourceFormat = sourceFormat;
        _stateDict = stateDict;
        Config = config;
        Preprocessing = preprocessing;
        VocabPath = vocabPath;
        MergesPath = mergesPath;
        DroppedKeys = droppedKeys;
    }

    /// <summary>The file or folder that was read.</summary>
    public string SourcePath { get; }

    /// <summary>
    /// What was read: <c>sharpclip</c> (native folder), <c>huggingface</c> (transformers CLIP folder),
    /// <c>open_clip</c> (open_clip hub folder), <c>safetensors</c>, <c>pytorch-zip</c> (torch.save),
    /// <c>torchscript</c> (torch.jit.save, e.g. OpenAI's released models) or <c>pytorch-legacy</c> (pre-1.6 torch.save).
    /// </summary>
    public string SourceFormat { get; }

    /// <summary>OpenAI-named tensors (<c>visual.conv1.weight</c>, <c>transformer.resblocks.0.attn.in_proj_weight</c>, ...).</summary>
    public IReadOnlyDictionary<string, Tensor> StateDict
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _stateDict;
        }
    }

    /// <summary>The architecture as the format declares it (native, Hugging Face and open_clip folders); null for
    /// bare weight files, whose architecture is inferred from the tensor shapes (<see cref="ResolvedConfig"/>).</summary>
    public ClipConfig? Config { get; }

    /// <summary><see cref="Config"/>, or the reference's inference from the shapes (<see cref="ClipStateDictSchema.Infer"/>).</summary>
    public ClipConfig ResolvedConfig => Config ?? (_inferred ??= ClipStateDictSchema.Infer(StateDict, SourcePath));

    /// <summary>Image preprocessing the format declares; null when it says nothing (see <see cref="ResolvedPreprocessing"/>).</summary>
    public PreprocessingInfo? Preprocessing { get; }

    /// <summary><see cref="Preprocessing"/>, or — when the format says nothing, as OpenAI's released models — the
    /// reference's <c>clip._transform(n)</c> for the model's image resolution.</summary>
    public PreprocessingInfo ResolvedPreprocessing => Preprocessing ?? PreprocessingInfo.ForResolution(ResolvedConfig.ImageResolution);

    /// <summary>The image processor for this model: <see cref="ResolvedPreprocessing"/>, checked against the model's input size.</summary>
    /// <exception cref="InvalidDataException">the preprocessing crops to another size than the model takes.</exception>
    public ClipImageProcessor CreateImageProcessor()
    {
        var preprocessing = ResolvedPreprocessing;
        int n = ResolvedConfig.ImageResolution;
        if (preprocessing.CropSize != n)
            throw new InvalidDataException($"{SourcePath}: preprocessing crops to {preprocessing.CropSize}×{preprocessing.CropSize} but the model takes {n}×{n}");
        return new ClipImageProcessor(preprocessing);
    }

    /// <summary>The tokenizer for this model: the vocabulary below, else the default one; loaded by <see cref="TokenizerSource.Load"/>.</summary>
    public TokenizerSource TokenizerSource => new(SourcePath, VocabPath, MergesPath, ResolvedConfig.VocabSize);

    /// <summary>The tokenizer vocabulary: OpenAI's <c>bpe_simple_vocab_16e6.txt.gz</c>-style file, or Hugging Face's
    /// <c>vocab.json</c> when <see cref="MergesPath"/> is set. Null when the format carries none.</summary>
    public string? VocabPath { get; }

    /// <summary>Hugging Face's <c>merges.txt</c>, paired with a <c>vocab.json</c> in <see cref="VocabPath"/>.</summary>
    public string? MergesPath { get; }

    /// <summary>Keys present in the file that are not model weights and were left out (e.g. <c>position_ids</c>,
    /// OpenAI JIT's <c>input_resolution</c>), for <c>sharpclip info</c>.</summary>
    public IReadOnlyList<string> DroppedKeys { get; }

    /// <summary>Total parameter count (buffers such as BatchNorm statistics excluded), as the reference counts it.</summary>
    public long ParameterCount => StateDict
        .Where(kv => !kv.Key.EndsWith(".running_mean", StringComparison.Ordinal) && !kv.Key.EndsWith(".running_var", StringComparison.Ordinal)
                     && !kv.Key.EndsWith(".num_batches_tracked", StringComparison.Ordinal))
        .Sum(kv => kv.Value.numel());

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var t in _stateDict.Values) t.Dispose();
        _stateDict.Clear();
    }
}
