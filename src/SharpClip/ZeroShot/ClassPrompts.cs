namespace SharpClip.ZeroShot;

/// <summary>
/// What a zero-shot classifier is built from: the class names and, per class, the prompts whose embeddings are
/// averaged into its weight column. Classes may have different numbers of prompts (a dataset's own phrasings).
/// </summary>
public sealed class ClassPrompts
{
    /// <exception cref="ArgumentException">no classes, a prompt list per class missing, or a class without prompts.</exception>
    public ClassPrompts(IReadOnlyList<string> classNames, IReadOnlyList<IReadOnlyList<string>> prompts)
    {
        if (classNames.Count == 0) throw new ArgumentException("no class names");
        if (prompts.Count != classNames.Count) throw new ArgumentException($"{prompts.Count} prompt lists for {classNames.Count} classes");
        var empty = prompts.Select((p, i) => (p, i)).FirstOrDefault(t => t.p.Count == 0);
        if (empty.p is not null) throw new ArgumentException($"class '{classNames[empty.i]}' has no prompts");
        ClassNames = classNames;
        Prompts = prompts;
    }

    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Per class, the prompts to embed and average.</summary>
    public IReadOnlyList<IReadOnlyList<string>> Prompts { get; }

    /// <summary>Every class's <paramref name="templates"/> filled with its name (the paper's prompt ensembling).</summary>
    public static ClassPrompts FromTemplates(IReadOnlyList<string> classNames, PromptTemplates templates) =>
        new(classNames, classNames.Select(c => (IReadOnlyList<string>)templates.For(c).ToList()).ToList());

    /// <summary>
    /// The prompts an evaluation uses: <paramref name="templates"/> when given; otherwise the data's own prompts
    /// (<paramref name="ownPrompts"/>, e.g. a synthetic task's phrasings) when it has them; otherwise "a photo of a {}.".
    /// </summary>
    public static ClassPrompts Choose(IReadOnlyList<string> classNames, PromptTemplates? templates, IReadOnlyList<IReadOnlyList<string>>? ownPrompts) =>
        templates is null && ownPrompts is not null
            ? new ClassPrompts(classNames, ownPrompts)
            : FromTemplates(classNames, templates ?? PromptTemplates.PhotoOf);

    /// <summary>The ensemble size: prompts per class (the mean when classes differ).</summary>
    public double PromptsPerClass => Prompts.Average(p => p.Count);
}
