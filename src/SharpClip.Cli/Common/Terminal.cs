using Spectre.Console;

namespace SharpClip.Cli;

/// <summary>
/// Whether stdout and stderr are terminals, and lines that respect it: on a terminal, colour and redrawn progress;
/// into a file or a pipe, plain lines as they are — no markup, no redraws, and no wrapping at Spectre's assumed 80
/// columns, so a path or a metric line is never cut.
/// </summary>
public static class Terminal
{
    /// <summary>stdout is a terminal (not a file or a pipe).</summary>
    public static bool Out => !Console.IsOutputRedirected;

    /// <summary>stderr is a terminal.</summary>
    public static bool Error => !Console.IsErrorRedirected;

    /// <summary>A line on stdout: in <paramref name="colour"/> (a Spectre colour name) on a terminal, as it is otherwise.</summary>
    public static void Line(string text, string? colour = null)
    {
        if (!Out) Console.WriteLine(text);
        else if (colour is null) AnsiConsole.WriteLine(text);
        else AnsiConsole.MarkupLine($"[{colour}]{Markup.Escape(text)}[/]");
    }
}
