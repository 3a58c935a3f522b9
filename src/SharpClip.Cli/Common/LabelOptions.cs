using System.CommandLine;
using SharpClip.ZeroShot;

namespace SharpClip.Cli;

/// <summary>The class names of a zero-shot verb: <c>--labels "a,b,c"</c> or <c>--labels-file F</c>, exactly one.</summary>
public sealed class LabelOptions
{
    public Option<string?> Inline { get; } = new("--labels") { Description = "Comma-separated class names." };
    public Option<string?> File { get; } = new("--labels-file") { Description = "Class names, one per line." };

    public void AddTo(Command command)
    {
        command.Options.Add(Inline);
        command.Options.Add(File);
    }

    /// <summary>The class names given (<see cref="ClassLabels"/> checks them).</summary>
    public IReadOnlyList<string> Read(ParseResult parse)
    {
        string? inline = parse.GetValue(Inline), file = parse.GetValue(File);
        if ((inline is null) == (file is null)) throw new ArgumentException("give exactly one of --labels \"a,b,c\" or --labels-file FILE");
        return inline is not null ? ClassLabels.Parse(inline, "--labels") : ClassLabels.ReadFile(file!);
    }
}
