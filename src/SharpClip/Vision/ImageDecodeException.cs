namespace SharpClip.Vision;

/// <summary>Why an image could not be decoded; lets batch callers count failures by cause.</summary>
public enum ImageDecodeError
{
    /// <summary>The file has zero bytes.</summary>
    Empty,
    /// <summary>Not JPEG, PNG, GIF, BMP, WebP or ICO (a non-image, or an image format the reference pipeline does not use).</summary>
    UnsupportedFormat,
    /// <summary>The file ends before the image does.</summary>
    Truncated,
    /// <summary>The bytes break the format's rules.</summary>
    Corrupt,
    /// <summary>More pixels than Pillow's decompression-bomb limit; refused before any pixel is decoded.</summary>
    TooLarge,
}

/// <summary>
/// An image that cannot be decoded. It is an <see cref="IOException"/> (as Pillow raises <c>OSError</c>;
/// <see cref="InvalidDataException"/> is sealed) so callers that treat unreadable files generically still catch it;
/// the message starts with the file name so a user knows which of thousands failed.
/// </summary>
public sealed class ImageDecodeException : IOException
{
    public ImageDecodeException(string file, ImageDecodeError error, string reason, Exception? inner = null)
        : base($"{file}: {reason}", inner)
    {
        File = file;
        Error = error;
    }

    /// <summary>The file (or the name given for an in-memory image).</summary>
    public string File { get; }

    public ImageDecodeError Error { get; }
}
