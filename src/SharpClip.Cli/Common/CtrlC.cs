namespace SharpClip.Cli;

/// <summary>
/// Ctrl+C as a cancellation token for the lifetime of a verb: the library stops at its next check (keeping committed
/// work) instead of the process dying mid-write. Dispose to stop listening.
/// </summary>
public sealed class CtrlC : IDisposable
{
    readonly CancellationTokenSource _cts = new();
    readonly ConsoleCancelEventHandler _handler;

    public CtrlC()
    {
        _handler = (_, e) => { e.Cancel = true; _cts.Cancel(); };
        Console.CancelKeyPress += _handler;
    }

    public CancellationToken Token => _cts.Token;

    public void Dispose()
    {
        Console.CancelKeyPress -= _handler;
        _cts.Dispose();
    }
}
