namespace SharpClip.Tests.Hostile;

/// <summary>The families of bad input; the summary table has a row for each.</summary>
public enum HostileCategory { Images, Checkpoints, Configs, Captions, Folders }

/// <summary>What the right answer to an input is.</summary>
public enum Expectation
{
    /// <summary>One exception of a clear type whose message names the file (or field).</summary>
    Error,
    /// <summary>Reading finishes and reports the bad item skipped, naming it.</summary>
    Skipped,
    /// <summary>Odd but valid (a PNG named .jpg): it is read like any other file.</summary>
    Read,
}

/// <summary>What actually happened; anything but a match with the <see cref="Expectation"/> fails the case.</summary>
public enum Outcome { CleanError, Skipped, Read, UnclearError, Hang, Crash }

/// <summary>
/// One hostile input: how to make it inside a fresh folder (returns the path to hand the reader), which library entry
/// point reads it, and what the message must mention (default: the file name the builder returned).
/// </summary>
public sealed record HostileInput(HostileCategory Category, string Name, Func<string, string> Make, HostileReader Reader,
    Expectation Expect = Expectation.Error, string? Mentions = null)
{
    /// <summary>The display name of the theory case: what the input is.</summary>
    public override string ToString() => $"{Category}: {Name}";
}

/// <summary>
/// A library entry point that reads one kind of input. <see cref="Read"/> returns the names of what it skipped (empty
/// when it read everything); <see cref="IsClear"/> says which exception types are the documented, user-facing ones.
/// </summary>
public sealed record HostileReader(string Name, Func<string, IReadOnlyList<string>> Read, Func<Exception, bool> IsClear);

/// <summary>The result of one run: the outcome and the message or skip list that decided it.</summary>
public sealed record HostileResult(HostileInput Input, Outcome Outcome, string Detail)
{
    public bool AsExpected => (Input.Expect, Outcome) is (Expectation.Error, Outcome.CleanError)
        or (Expectation.Skipped, Outcome.Skipped) or (Expectation.Read, Outcome.Read);
}
