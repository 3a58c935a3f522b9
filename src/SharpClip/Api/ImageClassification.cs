using System.Globalization;
using SharpClip.Scoring;

namespace SharpClip;

/// <summary>
/// One image's zero-shot result from <see cref="Clip.Classify(IEnumerable{string}, IEnumerable{string}, IEnumerable{string}?, int, CancellationToken)"/>:
/// its best labels with their probabilities, most probable first, or why it could not be classified.
/// </summary>
/// <param name="Index">Position in the caller's list of images.</param>
/// <param name="Image">The image path, as given.</param>
/// <param name="Top">The best labels, most probable first; empty when the image could not be read.</param>
/// <param name="Error">Why the image could not be read (the message starts with its path); null when it was classified.</param>
public sealed record ImageClassification(int Index, string Image, IReadOnlyList<ClassProbability> Top, string? Error)
{
    public bool Succeeded => Error is null;

    /// <summary>The most probable label, or null when the image could not be read.</summary>
    public ClassProbability? Best => Top.Count > 0 ? Top[0] : null;

    /// <summary>"cat.jpg: cat 93.1%, dog 6.2%", or "cat.jpg: unreadable (reason)": what a console program prints.</summary>
    public override string ToString() => Succeeded
        ? $"{Image}: {string.Join(", ", Top.Select(p => $"{p.Label} {(100 * p.Probability).ToString("F1", CultureInfo.InvariantCulture)}%"))}"
        : $"{Image}: unreadable ({Error})";
}
