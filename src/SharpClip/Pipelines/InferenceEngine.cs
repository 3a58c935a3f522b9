namespace SharpClip.Pipelines;

/// <summary>Which engine computes a pipeline's embeddings. Training always runs on libtorch, whatever this says.</summary>
public enum InferenceEngine
{
    /// <summary>ONNX Runtime where it can run the model (float32 on the CPU), libtorch otherwise.</summary>
    Auto,
    /// <summary>libtorch, through the model's own modules.</summary>
    Torch,
    /// <summary>ONNX Runtime running the graphs SharpClip writes from the loaded weights; float32 on the CPU only.</summary>
    Onnx,
}
