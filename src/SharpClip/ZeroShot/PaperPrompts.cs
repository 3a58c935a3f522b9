using System.Reflection;
using System.Text.Json;

namespace SharpClip.ZeroShot;

/// <summary>
/// One of the CLIP paper's zero-shot prompt sets: the dataset's class names and the templates the paper ensembled.
/// </summary>
/// <param name="Name">The short name users type (<c>imagenet</c>, <c>cifar10</c>, <c>fer2013</c>, ...).</param>
/// <param name="Dataset">The dataset as the paper and openai/CLIP's <c>data/prompts.md</c> name it (<c>ImageNet</c>, <c>CIFAR10</c>, ...).</param>
/// <param name="Templates">The templates, <c>{}</c> standing for the class name, in the paper's order.</param>
/// <param name="ClassNames">Per class, its names: one, or several where the paper gave several (FER2013's emotions).</param>
public sealed record PaperPromptSet(string Name, string Dataset, PromptTemplates Templates, IReadOnlyList<IReadOnlyList<string>> ClassNames)
{
    /// <summary>One name per class (the first where the paper gave several), in the dataset's label order.</summary>
    public IReadOnlyList<string> Classes => ClassNames.Select(c => c[0]).ToList();
}

/// <summary>
/// The CLIP paper's prompt sets for its 27 zero-shot datasets (ImageNet's 1000 classes and 80 templates among them),
/// inside the library as an embedded resource, so <c>--templates imagenet</c> works wherever the package does, with
/// no file to find. The data is the paper's, transcribed from openai/CLIP (MIT licence) by
/// <c>tests/tools/make_paper_prompts.py</c> into <c>PaperPrompts.json</c> beside this file.
/// </summary>
public static class PaperPrompts
{
    const string ResourceName = "SharpClip.ZeroShot.PaperPrompts.json";

    static readonly Lazy<IReadOnlyList<PaperPromptSet>> _all = new(Read);

    /// <summary>Every set, ImageNet first, then the paper's other datasets.</summary>
    public static IReadOnlyList<PaperPromptSet> All => _all.Value;

    /// <summary>The short names <see cref="Find"/> and <see cref="PromptTemplates.Resolve"/> accept.</summary>
    public static IReadOnlyList<string> Names => All.Select(s => s.Name).ToList();

    /// <summary>
    /// The set called <paramref name="name"/>: its short name or the paper's dataset name, case, spaces, '-' and '_'
    /// ignored (<c>imagenet</c>, <c>CIFAR10</c>, <c>oxford_pets</c>, <c>DescribableTextures</c>); null when none is.
    /// </summary>
    public static PaperPromptSet? Find(string name)
    {
        var key = Key(name);
        return All.FirstOrDefault(s => Key(s.Name) == key || Key(s.Dataset) == key);
    }

    /// <summary>As <see cref="Find"/>, throwing with the list of names when there is no such set.</summary>
    public static PaperPromptSet Get(string name) => Find(name)
        ?? throw new KeyNotFoundException($"no prompt set '{name}' among the CLIP paper's: {string.Join(", ", Names)}");

    static string Key(string s) => new(s.Where(char.IsLetterOrDigit).Select(char.ToLowerInvariant).ToArray());

    static IReadOnlyList<PaperPromptSet> Read()
    {
        using var stream = typeof(PaperPrompts).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"{ResourceName} is missing from {typeof(PaperPrompts).Assembly.GetName().Name}: the library was built without its prompt sets");
        using var doc = JsonDocument.Parse(stream);
        var sets = new List<PaperPromptSet>();
        foreach (var set in doc.RootElement.GetProperty("sets").EnumerateArray())
        {
            var templates = set.GetProperty("templates").EnumerateArray().Select(t => t.GetString()!).ToList();
            var classes = set.GetProperty("classes").EnumerateArray()
                .Select(c => (IReadOnlyList<string>)(c.ValueKind == JsonValueKind.Array
                    ? c.EnumerateArray().Select(n => n.GetString()!).ToList()
                    : [c.GetString()!]))
                .ToList();
            sets.Add(new PaperPromptSet(set.GetProperty("name").GetString()!, set.GetProperty("dataset").GetString()!, new PromptTemplates(templates), classes));
        }
        return sets;
    }
}
