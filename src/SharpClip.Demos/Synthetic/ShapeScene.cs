using SharpClip.Data;

namespace SharpClip.Demos.Synthetic;

/// <summary>One drawn object, in coordinates normalised to the image side (0..1, y down).</summary>
/// <param name="X">Centre x.</param>
/// <param name="Y">Centre y.</param>
/// <param name="Radius">Radius of the circumscribed circle.</param>
/// <param name="Rotation">Radians, clockwise.</param>
/// <param name="R">Red of this object (the named colour with jitter).</param>
/// <param name="G">Green.</param>
/// <param name="B">Blue.</param>
public readonly record struct ShapeInstance(double X, double Y, double Radius, double Rotation, byte R, byte G, byte B);

/// <summary>The background: a base colour, a linear gradient (added per unit of x and y) and per-pixel noise.</summary>
public readonly record struct SceneBackground(byte R, byte G, byte B, double GradientX, double GradientY, double Noise, int NoiseSeed);

/// <summary>
/// A synthetic scene: <see cref="Count"/> objects that share shape, colour and size, grouped at one position. These
/// attributes are the labels for zero-shot evaluation; <see cref="Objects"/> and <see cref="Background"/> are the
/// exact drawing, so rendering is a pure function of the scene.
/// </summary>
public sealed record ShapeScene(
    ShapeKind Shape,
    int ColourIndex,
    ShapeSize Size,
    ShapePosition Position,
    int Count,
    IReadOnlyList<ShapeInstance> Objects,
    SceneBackground Background)
{
    public ShapeColour Colour => ShapeVocabulary.Colours[ColourIndex];

    /// <summary>The plain description, e.g. "two small red circles on the left".</summary>
    public string Describe() =>
        $"{(Count == 1 ? ShapeVocabulary.Article(ShapeVocabulary.SizeWord(Size)) : ShapeVocabulary.CountWord(Count))} " +
        $"{ShapeVocabulary.SizeWord(Size)} {Colour.Name} {ShapeVocabulary.Noun(Shape, Count)} {ShapeVocabulary.PositionPhrase(Position)}";
}
