namespace SharpClip.Cli;

/// <summary>
/// One <see cref="ConsoleProgress"/> bar per step of a run that goes through several sets: starting the next bar
/// finishes the one before, so each keeps its own line.
/// </summary>
public sealed class ProgressBars : IDisposable
{
    ConsoleProgress? _current;

    /// <summary>Finishes the current bar and starts one for <paramref name="what"/>.</summary>
    public IProgress<int> Start(string what, int total)
    {
        _current?.Dispose();
        return _current = new ConsoleProgress(what, total);
    }

    public void Dispose()
    {
        _current?.Dispose();
        _current = null;
    }
}
