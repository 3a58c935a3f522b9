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

    static bool IsUserFacing(Exception e) => e is IOException or InvalidDataException or ArgumentException or FormatException
        or NotSupportedException or InvalidOperationException or KeyNotFoundException or UnauthorizedAccessException
        or System.Text.Json.JsonException;
}
