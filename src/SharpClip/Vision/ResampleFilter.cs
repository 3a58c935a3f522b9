namespace SharpClip.Vision;

/// <summary>
/// Pillow's resampling filters, numbered as Pillow numbers them (and as Hugging Face's <c>"resample"</c> field stores
/// them: 3 is bicubic, CLIP's filter).
/// </summary>
public enum ResampleFilter
{
    Nearest = 0,
    Lanczos = 1,
    Bilinear = 2,
    Bicubic = 3,
    Box = 4,
    Hamming = 5,
}
