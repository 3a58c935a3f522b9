namespace SharpClip.Cli;

/// <summary>What <c>sharpclip</c> returns to the shell, the same for every verb.</summary>
public static class ExitCodes
{
    public const int Success = 0;

    /// <summary>A user error or a failed run: one line on stderr says why (<see cref="CliErrors"/>).</summary>
    public const int Failure = CliErrors.Failure;

    /// <summary>The verb did its work, but some inputs (images that could not be read) were left out; stderr names them.</summary>
    public const int SomeInputsFailed = 2;

    /// <summary>Ctrl+C, as a shell reports SIGINT.</summary>
    public const int Cancelled = CliErrors.Cancelled;
}
