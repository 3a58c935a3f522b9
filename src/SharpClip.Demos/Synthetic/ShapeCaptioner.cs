using SharpClip.Data;
using static SharpClip.Demos.Synthetic.ShapeVocabulary;

namespace SharpClip.Demos.Synthetic;

/// <summary>
/// Writes captions for a scene in varied wording (synonyms, word order, optional attributes), so a model has to
/// learn the attributes rather than one sentence pattern: "a small red circle on the left", "there are two big blue
/// squares at the top", "at the bottom, a green star", "three tiny stars in yellow near the top".
/// </summary>
public static class ShapeCaptioner
{
    private const int TemplateCount = 8;

    /// <summary><paramref name="count"/> captions from distinct templates (fewer if count exceeds the templates).</summary>
    public static IReadOnlyList<string> Captions(ShapeScene scene, int count, Random rng)
    {
        var order = Enumerable.Range(0, TemplateCount).ToArray();
        rng.Shuffle(order);
        return order.Take(Math.Min(count, TemplateCount)).Select(t => Caption(scene, t, rng)).ToList();
    }

    private static string Caption(ShapeScene s, int template, Random rng)
    {
        string Pick(IReadOnlyList<string> options) => options[rng.Next(options.Count)];
        string size = s.Size == ShapeSize.Small ? Pick(["small", "small", "little", "tiny"]) : Pick(["large", "large", "big"]);
        string colour = s.Colour.Name, noun = Noun(s.Shape, s.Count), pos = Pick(PositionPhrases(s.Position));
        string Det(string next) => s.Count == 1 ? (rng.Next(4) == 0 ? "one" : Article(next)) : CountWord(s.Count);
        string Phrase(bool withSize, bool withColour)
        {
            var words = new List<string>();
            if (withSize) words.Add(size);
            if (withColour) words.Add(colour);
            words.Add(noun);
            return Det(words[0]) + " " + string.Join(" ", words);
        }
        return template switch
        {
            0 => $"{Phrase(true, true)} {pos}",
            1 => $"there {(s.Count == 1 ? "is" : "are")} {Phrase(true, true)} {pos}",
            2 => $"{pos}, {Phrase(rng.Next(2) == 0, true)}",
            3 => $"{Pick(["a picture of", "an image of", "a drawing of"])} {Phrase(true, true)} {pos}",
            4 => Phrase(true, true),
            5 => $"{Phrase(false, true)} {pos}",
            6 => $"{Phrase(true, false)} in {colour} {pos}",
            _ => $"{colour} {noun} {pos}",
        };
    }
}
