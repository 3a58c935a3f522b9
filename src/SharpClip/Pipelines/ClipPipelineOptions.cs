using SharpClip.Runtime;

namespace SharpClip.Pipelines;

/// <summary>How to load and run a CLIP model. Defaults give the reference's float32 numbers on the CPU.</summary>
public sealed record ClipPipelineOptions
{
    /// <summary>Vocabulary file; overrides whatever the checkpoint carries (bare weight files carry none).</summary>
    public string? VocabPath { get; init; }

    /// <summary>"auto", "cpu", "cuda" or "cuda:N".</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>
    /// Float32 by default, so results match the reference; bf16 is faster only on CPUs with bf16 instructions
    /// (see <see cref="ComputeTarget.Select"/>) and is then an explicit choice.
    /// </summary>
    public Precision Precision { get; init; } = Precision.Float32;

    /// <summary>Images or texts per forward pass.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Decode threads for image batches (null: one per core).</summary>
    public int? DecodeThreads { get; init; }
}
