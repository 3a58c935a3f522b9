namespace SharpClip.Vision;

/// <summary>
/// One item of a batch: either the model input (<c>float32 [3, H, W]</c>, CHW) or the reason it failed, so a run over
/// thousands of files can report the bad ones and go on.
/// </summary>
public sealed record PreprocessResult(int Index, string Source, float[]? PixelValues, Exception? Error)
{
    public bool Succeeded => Error is null;
}
