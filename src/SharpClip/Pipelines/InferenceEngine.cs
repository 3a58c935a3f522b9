namespace SharpClip.Pipelines;

/// <summary>Which engine computes a pipeline's embeddings. Training always runs on libtorch, whatever this says.</summary>
public enum InferenceEngine
{
    /// <summary>The fastest engine that can run the model: the managed engine for a float32 model on a CPU with
    /// AVX-512 (a ResNet also with AVX2 and FMA alone), else ONNX Runtime (float32 on the CPU), else libtorch.</summary>
    Auto,
    /// <summary>libtorch, through the model's own modules.</summary>
    Torch,
    /// <summary>ONNX Runtime running the graphs SharpClip writes from the loaded weights; float32 on the CPU only.</summary>
    Onnx,
    /// <summary>SharpClip's own AVX-512 or AVX2 kernels in C# (<see cref="Managed.ManagedClipEncoder"/>): float32 CLIPs (Vision
    /// Transformers and ModifiedResNets) on the CPU.</summary>
    Managed,
}
