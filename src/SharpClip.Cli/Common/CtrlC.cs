using System.Runtime.InteropServices;

namespace SharpClip.Cli;

/// <summary>
/// Ctrl+C — and SIGTERM, what <c>kill</c>, <c>docker stop</c> and job schedulers send — as a cancellation token for the
/// lifetime of a verb: the library stops at its next check (a training saves its checkpoint, an index keeps what it
/// committed) instead of the process dying mid-write. A second Ctrl-C kills the process as usual. SIGTERM matters
/// because a run started in the background by a non-interactive shell inherits SIGINT as ignored, so Ctrl-C cannot
/// reach it. Dispose to stop listening.
/// </summary>
public sealed class CtrlC : IDisposable
{
    readonly CancellationTokenSource _cts = new();
    readonly ConsoleCancelEventHandler _handler;
    readonly PosixSignalRegistration _terminate;
    readonly string? _notice;

    /// <param name="notice">Printed once when the stop is asked for (what will happen now).</param>
    public CtrlC(string? notice = null)
    {
        _notice = notice;
        _handler = (_, e) =>
        {
            if (_cts.IsCancellationRequested) return;          // a second Ctrl-C kills the process
            e.Cancel = true;
            Stop();
        };
        Console.CancelKeyPress += _handler;
        _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;                              // finish the step and save, then exit
            Stop();
        });
    }

    public CancellationToken Token => _cts.Token;

    void Stop()
    {
        if (_cts.IsCancellationRequested) return;
        _cts.Cancel();
        if (_notice is not null) Terminal.Line(_notice, "yellow");
    }

    public void Dispose()
    {
        Console.CancelKeyPress -= _handler;
        _terminate.Dispose();
        _cts.Dispose();
    }
}
