namespace SharpClip.Managed;

/// <summary>An image tower on the managed kernels (<see cref="ManagedVisionTower"/>, <see cref="ManagedResNetTower"/>).</summary>
internal unsafe interface IManagedImageTower : IDisposable
{
    /// <summary>Features per image.</summary>
    int EmbedDim { get; }

    /// <summary>Image features, not normalised.</summary>
    // pixels: [images, 3, resolution, resolution] contiguous; output: [images, embed_dim]
    void Encode(float* pixels, int images, float* output, int threads);
}
