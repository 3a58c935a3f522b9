using SharpClip.Data;

namespace SharpClip.Demos.Synthetic;

/// <summary>The shapes the synthetic set draws.</summary>
public enum ShapeKind { Circle, Square, Triangle, Star, Cross, Ring, Diamond, Hexagon }

/// <summary>Two sizes far enough apart to be named reliably ("small"/"large").</summary>
public enum ShapeSize { Small, Large }

/// <summary>Where the group of objects sits. Flips would swap Left/Right, which is why augmentation must not flip.</summary>
public enum ShapePosition { Left, Right, Top, Bottom, Centre }

/// <summary>A named object colour.</summary>
public sealed record ShapeColour(string Name, byte R, byte G, byte B);

/// <summary>
/// The words and colours of the synthetic set, in one place so captions, zero-shot prompts and exports agree.
/// Colours are far apart in RGB so a small model can name them; "gray" is absent because backgrounds are gray.
/// </summary>
public static class ShapeVocabulary
{
    public static IReadOnlyList<ShapeKind> Shapes { get; } = Enum.GetValues<ShapeKind>();
    public static IReadOnlyList<ShapeSize> Sizes { get; } = Enum.GetValues<ShapeSize>();
    public static IReadOnlyList<ShapePosition> Positions { get; } = Enum.GetValues<ShapePosition>();

    public static IReadOnlyList<ShapeColour> Colours { get; } =
    [
        new("red", 220, 40, 40),
        new("orange", 245, 140, 20),
        new("yellow", 240, 220, 30),
        new("green", 40, 165, 60),
        new("blue", 40, 80, 220),
        new("purple", 140, 60, 190),
        new("pink", 245, 130, 190),
        new("brown", 125, 75, 35),
        new("white", 248, 248, 248),
        new("black", 15, 15, 15),
    ];

    /// <summary>Backgrounds; a scene uses one that is far (in RGB) from its object colour.</summary>
    internal static IReadOnlyList<(byte R, byte G, byte B)> Backgrounds { get; } =
    [
        (200, 200, 200), (128, 128, 128), (50, 50, 55), (222, 210, 180),
        (185, 205, 225), (45, 55, 75), (150, 165, 140), (245, 240, 225),
    ];

    /// <summary>Minimum RGB distance between an object colour and its background.</summary>
    internal const double MinContrast = 110;

    public static string Noun(ShapeKind s) => s.ToString().ToLowerInvariant();

    public static string Plural(ShapeKind s) => s == ShapeKind.Cross ? "crosses" : Noun(s) + "s";

    public static string Noun(ShapeKind s, int count) => count == 1 ? Noun(s) : Plural(s);

    public static string SizeWord(ShapeSize s) => s == ShapeSize.Small ? "small" : "large";

    public static string CountWord(int n) => n switch { 1 => "one", 2 => "two", 3 => "three", 4 => "four", 5 => "five", _ => n.ToString() };

    /// <summary>The main phrase for a position ("on the left", "at the top", "in the centre").</summary>
    public static string PositionPhrase(ShapePosition p) => PositionPhrases(p)[0];

    internal static IReadOnlyList<string> PositionPhrases(ShapePosition p) => p switch
    {
        ShapePosition.Left => ["on the left", "on the left side", "at the left", "to the left"],
        ShapePosition.Right => ["on the right", "on the right side", "at the right", "to the right"],
        ShapePosition.Top => ["at the top", "near the top", "in the upper part", "at the top of the image"],
        ShapePosition.Bottom => ["at the bottom", "near the bottom", "in the lower part", "at the bottom of the image"],
        _ => ["in the centre", "in the middle", "in the center", "in the centre of the image"],
    };

    /// <summary>"a" or "an" for the word that follows.</summary>
    public static string Article(string nextWord) => "aeiou".Contains(char.ToLowerInvariant(nextWord[0])) ? "an" : "a";

    /// <summary>"a red circle", "an orange star".</summary>
    public static string WithArticle(string phrase) => Article(phrase) + " " + phrase;
}
