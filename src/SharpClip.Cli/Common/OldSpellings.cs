using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.Runtime.CompilerServices;

namespace SharpClip.Cli;

/// <summary>
/// Flag spellings renamed for one vocabulary across verbs (<c>--out</c> → <c>--output</c>, <c>--batch</c> →
/// <c>--batch-size</c>, ...), kept working for one release (this one) so that scripts do not break silently: the option still
/// answers to its old spelling, help no longer shows it, and using it prints a deprecation note on stderr.
/// </summary>
public static class OldSpellings
{
    static readonly ConditionalWeakTable<Option, List<string>> Aliases = new();
    static readonly ConditionalWeakTable<Option, string> Retired = new();

    /// <summary>Lets <paramref name="option"/> also answer to <paramref name="oldNames"/>, hidden from help.</summary>
    public static T Alias<T>(T option, params string[] oldNames) where T : Option
    {
        var list = Aliases.GetOrCreateValue(option);
        foreach (var old in oldNames)
        {
            option.Aliases.Add(old);
            list.Add(old);
        }
        return option;
    }

    /// <summary>
    /// Hides <paramref name="option"/>, an option whose job another one took over (say how in
    /// <paramref name="replacement"/>); it keeps working for one release.
    /// </summary>
    public static T Retire<T>(T option, string replacement) where T : Option
    {
        option.Hidden = true;
        Retired.AddOrUpdate(option, replacement);
        return option;
    }

    /// <summary>The old spellings <paramref name="option"/> still answers to.</summary>
    public static IReadOnlyList<string> Of(Option option) => Aliases.TryGetValue(option, out var list) ? list : [];

    /// <summary>What replaces a retired option, or null when <paramref name="option"/> is not retired.</summary>
    public static string? ReplacementOf(Option option) => Retired.TryGetValue(option, out var text) ? text : null;

    /// <summary>One stderr note per old spelling or retired option on the command line.</summary>
    public static void WarnIfUsed(ParseResult parse)
    {
        var used = parse.Tokens.Where(t => t.Type == System.CommandLine.Parsing.TokenType.Option).Select(t => t.Value).ToHashSet(StringComparer.Ordinal);
        foreach (var option in parse.CommandResult.Command.Options)
        {
            foreach (var old in Of(option).Where(used.Contains))
                Console.Error.WriteLine($"sharpclip: warning: {old} is deprecated, use {option.Name} (the old spelling goes away in the next release)");
            if (ReplacementOf(option) is { } replacement && parse.GetResult(option) is { Implicit: false })
                Console.Error.WriteLine($"sharpclip: warning: {option.Name} is deprecated, use {replacement} (it goes away in the next release)");
        }
    }

    /// <summary>Makes help list each option under its current names only.</summary>
    public static void HideFromHelp(Command root)
    {
        var help = root.Options.OfType<HelpOption>().Single();
        if (help.Action is SynchronousCommandLineAction inner) help.Action = new HelpWithoutOldSpellings(inner);
    }

    /// <summary>The built-in help, run while the shown command's options leave their old spellings out.</summary>
    sealed class HelpWithoutOldSpellings(SynchronousCommandLineAction help) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parse)
        {
            var hidden = parse.CommandResult.Command.Options.SelectMany(o => Of(o).Select(old => (Option: o, Old: old))).ToList();
            foreach (var (option, old) in hidden) option.Aliases.Remove(old);
            try { return help.Invoke(parse); }
            finally { foreach (var (option, old) in hidden) option.Aliases.Add(old); }
        }
    }
}
