using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Vision;

/// <summary>
/// Conversions between 8-bit RGB images and the [−1, 1] NCHW float tensors generative models read and write (Stable
/// Diffusion's autoencoder, latent diffusion pipelines). Both directions follow CompVis's scripts operation by operation
/// in float32, so the bytes match theirs: <c>img2img.py</c>'s <c>2 · (x / 255) − 1</c> on the way in,
/// <c>txt2img.py</c>'s <c>clamp((x + 1) / 2, 0, 1)</c> then <c>uint8(255 · x)</c> on the way out — truncation, not
/// rounding (rounding would change about half of the pixels).
/// </summary>
public static class SignedImageTensors
{
    // Process-lifetime Scalars: a temporary one can be finalised by the GC mid-op (shared/notes/torchsharp.md §11).
    static readonly Scalar One = 1.0, Two = 2.0, Zero = 0.0, Max = 255.0;

    /// <summary>
    /// A model's image output in [−1, 1] (values beyond are clamped) as [0, 1]: <c>clamp((x + 1) / 2, 0, 1)</c>, HWC.
    /// </summary>
    /// <param name="images">[batch, 3, h, w], any float dtype and device.</param>
    /// <returns>[batch, h, w, 3] float32 on the CPU.</returns>
    public static Tensor ToUnitHwc(Tensor images)
    {
        RequireNchw(images);
        using var scope = torch.NewDisposeScope();
        var unit = images.to(ScalarType.Float32, CPU).add(One, One).div_(Two).clamp_(Zero, One); // [batch, 3, h, w]
        return unit.permute(0, 2, 3, 1).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>A model's image output in [−1, 1] as bytes, <c>uint8(255 · clamp((x + 1) / 2, 0, 1))</c> truncated.</summary>
    /// <param name="images">[batch, 3, h, w]</param>
    /// <returns>[batch, h, w, 3] uint8 on the CPU.</returns>
    public static Tensor ToBytesHwc(Tensor images)
    {
        using var unit = ToUnitHwc(images);
        using var scaled = unit.mul(Max);
        return scaled.to(ScalarType.Byte); // float → uint8 truncates toward zero, as numpy's astype(np.uint8)
    }

    /// <summary>A model's image output in [−1, 1] as RGB images (see <see cref="ToBytesHwc"/>), one per batch entry.</summary>
    /// <param name="images">[batch, 3, h, w]</param>
    public static RgbImage[] ToRgbImages(Tensor images)
    {
        using var bytes = ToBytesHwc(images);
        int batch = (int)bytes.shape[0], height = (int)bytes.shape[1], width = (int)bytes.shape[2];
        var all = bytes.data<byte>().ToArray();
        int size = height * width * 3;
        return Enumerable.Range(0, batch).Select(i => new RgbImage(width, height, all[(i * size)..((i + 1) * size)])).ToArray();
    }

    /// <summary>
    /// Images as a model input in [−1, 1]: <c>2 · (x / 255) − 1</c> in float32, NCHW. All images must have one size
    /// (resizing, e.g. to a multiple of the model's factor, is the caller's choice).
    /// </summary>
    /// <returns>[batch, 3, h, w] float32 on the CPU.</returns>
    public static Tensor FromRgbImages(IReadOnlyList<RgbImage> images)
    {
        if (images.Count == 0) throw new ArgumentException("no images", nameof(images));
        int width = images[0].Width, height = images[0].Height;
        var bad = images.FirstOrDefault(i => i.Width != width || i.Height != height);
        if (bad is not null)
            throw new ArgumentException($"images differ in size ({width}x{height} and {bad.Width}x{bad.Height}); a batch needs one size", nameof(images));
        var all = new byte[images.Count * images[0].Pixels.Length];
        for (int i = 0; i < images.Count; i++) images[i].Pixels.CopyTo(all, i * images[0].Pixels.Length);
        using var scope = torch.NewDisposeScope();
        var hwc = torch.tensor(all, [images.Count, height, width, 3]);             // [batch, h, w, 3] uint8
        var unit = hwc.to(ScalarType.Float32).div_(Max);                          // x / 255
        var signed = unit.mul_(Two).sub_(One);                                    // 2x − 1
        return signed.permute(0, 3, 1, 2).contiguous().MoveToOuterDisposeScope(); // [batch, 3, h, w]
    }

    static void RequireNchw(Tensor images)
    {
        if (images.dim() != 4 || images.shape[1] != 3)
            throw new ArgumentException($"images must be [batch, 3, height, width], got [{string.Join(", ", images.shape)}]", nameof(images));
    }
}
