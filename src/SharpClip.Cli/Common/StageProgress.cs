namespace SharpClip.Cli;

/// <summary>One <see cref="ConsoleProgress"/> line per stage.</summary>
internal sealed class StageProgress : IDisposable
{
    ConsoleProgress? _current;
    string? _stage;

    public void Report(string stage, int done, int total)
    {
        if (stage != _stage)
        {
            _current?.Dispose();
            _stage = stage;
            _current = new ConsoleProgress(stage, total);
        }
        _current!.Report(done);
    }

    public void Dispose()
    {
        _current?.Dispose();
        _current = null;
    }
}
