namespace SharpClip.Modeling;

/// <summary>
/// An engine's two towers, each built on first use (a caller that embeds only texts never pays for copying the image
/// tower) and disposed with the engine if it was built. Shared by the ONNX and managed engines.
/// </summary>
internal sealed class LazyTowers<TImage, TText>(Func<TImage> image, Func<TText> text) : IDisposable
    where TImage : IDisposable where TText : IDisposable
{
    readonly Lazy<TImage> _image = new(image);
    readonly Lazy<TText> _text = new(text);

    public TImage Image => _image.Value;
    public TText Text => _text.Value;

    public void Dispose()
    {
        if (_image.IsValueCreated) _image.Value.Dispose();
        if (_text.IsValueCreated) _text.Value.Dispose();
    }
}
