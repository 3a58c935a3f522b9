using System.CommandLine;
using System.CommandLine.Parsing;

namespace SharpClip.Cli;

/// <summary>Turns library exceptions into one clear line on stderr and a non-zero exit code: no stack traces for users.</summary>
public static class CliErrors
{
    public const int Failure = 1;
    public const int Cancelled = 130;

    public static int Run(Func<int> body)
    {
        try { return body(); }
        catch (OperationCanceledException) { Console.Error.WriteLine("sharpclip: cancelled"); return Cancelled; }
        catch (Exception e) when (IsUserFacing(e)) { Console.Error.WriteLine($"sharpclip: error: {e.Message}"); return Failure; }
    }

    /// <summary>Wraps a verb's action so its own exceptions get the same treatment (System.CommandLine catches them otherwise).</summary>
    public static int Guard(Func<int> action) => Run(action);

    /// <summary>
    /// A command line that does not parse: one <c>sharpclip: error:</c> line with every problem and where the options
    /// are listed, instead of System.CommandLine's error-then-whole-help dump (whose typo hints would offer old spellings).
    /// </summary>
    public static int ParseFailed(ParseResult parse)
    {
        var problems = string.Join("; ", parse.Errors.Select(e => e.Message.TrimEnd('.')));
        Console.Error.WriteLine($"sharpclip: error: {problems} ('{CommandPath(parse.CommandResult)} --help' lists the options)");
        return Failure;
    }

    /// <summary>"sharpclip eval linear-probe": the names from the root down to <paramref name="result"/>'s command.</summary>
    public static string CommandPath(CommandResult result)
    {
        var names = new List<string>();
        for (SymbolResult? r = result; r is not null; r = r.Parent)
            if (r is CommandResult c) names.Add(c.Command.Name);
        names.Reverse();
        return string.Join(' ', names);
    }

    static bool IsUserFacing(Exception e) => e is IOException or InvalidDataException or ArgumentException or FormatException
        or NotSupportedException or InvalidOperationException or KeyNotFoundException or UnauthorizedAccessException
        or System.Text.Json.JsonException;
}
