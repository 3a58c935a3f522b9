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

    /// <summary>
    /// With <see cref="Precision.Int8"/> on a ResNet model: a folder of images like the ones to be encoded, whose
    /// activation ranges let the convolutions run in int8 too (<c>ActivationRanges</c>); without it they stay float32.
    /// </summary>
    public string? Int8CalibrationFolder { get; init; }

    /// <summary>Images or texts per forward pass. A run over image files starts with a quarter batch, so the model
    /// starts while the next images decode.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>
    /// The engine that computes embeddings: libtorch, ONNX Runtime or the managed engine (the same numbers within float32
    /// rounding, faster on CPUs where libtorch's matrix products are slow), or Auto (the managed engine for a float32 model
    /// on a CPU with AVX-512, a ResNet also with AVX2 alone, else ONNX Runtime where the model runs in float32 on the
    /// CPU, else libtorch).
    /// </summary>
    public InferenceEngine Engine { get; init; } = DefaultEngine;

    /// <summary>The engine a pipeline uses unless told otherwise.</summary>
    public const InferenceEngine DefaultEngine = InferenceEngine.Auto;

    /// <summary>The default engine as flags spell it.</summary>
    public static string DefaultEngineName => DefaultEngine.ToString().ToLowerInvariant();

    /// <summary>An engine by the names flags and configs use, case-insensitive: torch, onnx, managed, auto.</summary>
    /// <exception cref="ArgumentException">an unknown name; the message names the setting and the value.</exception>
    public static InferenceEngine ParseEngine(string value, string setting = "engine") => value.Trim().ToLowerInvariant() switch
    {
        "torch" or "libtorch" => InferenceEngine.Torch,
        "onnx" or "onnxruntime" or "ort" => InferenceEngine.Onnx,
        "managed" => InferenceEngine.Managed,
        "auto" => InferenceEngine.Auto,
        _ => throw new ArgumentException($"{setting} {value}: expected torch, onnx, managed or auto"),
    };

    /// <summary>Decode threads for image batches (null: one per core).</summary>
    public int? DecodeThreads { get; init; }
}
