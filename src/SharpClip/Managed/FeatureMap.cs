namespace SharpClip.Managed;

/// <summary>
/// A batch of feature maps in the managed engine's layout: channels last, one row of <see cref="Channels"/> floats per
/// pixel, pixels of an image row by row and images one after another ([images·height·width, channels] with row stride
/// <see cref="Ld"/>). A 1×1 convolution over it is one matrix product, and a k×k one a product over gathered rows.
/// </summary>
internal readonly unsafe struct FeatureMap(float* data, int images, int height, int width, int channels, int ld)
{
    public readonly float* Data = data;
    public readonly int Images = images, Height = height, Width = width, Channels = channels, Ld = ld;

    /// <summary>Pixel rows: images·height·width.</summary>
    public int Rows => Images * Height * Width;

    /// <summary>The row stride used for a map of <paramref name="channels"/> channels: padded as the transformer's rows
    /// are (<see cref="ManagedTransformer.Stride"/>: 256, 512, 1,024 or 2,048 floats would alias in L1).</summary>
    public static int Stride(int channels) => ManagedTransformer.Stride(channels);

    /// <summary>A map of this shape over new memory, owned by the returned buffer.</summary>
    public static FeatureMap Allocate(int images, int height, int width, int channels, out AlignedBuffer buffer)
    {
        int ld = Stride(channels);
        buffer = AlignedBuffer.Scratch((long)images * height * width * ld);
        return new FeatureMap(buffer.Data, images, height, width, channels, ld);
    }
}

/// <summary>The maps a stretch of a forward pass allocates, freed together when it ends.</summary>
internal sealed class FeatureMaps : IDisposable
{
    readonly List<AlignedBuffer> _buffers = [];

    /// <summary>A new map of this shape, freed with the others.</summary>
    public FeatureMap Allocate(int images, int height, int width, int channels)
    {
        var map = FeatureMap.Allocate(images, height, width, channels, out var buffer);
        _buffers.Add(buffer);
        return map;
    }

    /// <summary>A new map with <paramref name="like"/>'s images and channels and the given sides.</summary>
    public FeatureMap Allocate(in FeatureMap like, int height, int width) => Allocate(like.Images, height, width, like.Channels);

    public void Dispose()
    {
        foreach (var b in _buffers) b.Dispose();
        _buffers.Clear();
    }
}
