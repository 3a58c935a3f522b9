using System.Diagnostics;

namespace SharpClip.Cli;

/// <summary>
/// A one-line progress report on stderr (items, items/s, ETA), redrawn in place with a bar on a terminal; into a file,
/// a plain line every 10 s and at the end (no carriage returns or bar glyphs), so stdout stays clean for results.
/// </summary>
public sealed class ConsoleProgress : IProgress<int>, IDisposable
{
    readonly string _what;
    readonly int _total;
    readonly Stopwatch _clock = Stopwatch.StartNew();
    readonly bool _interactive = Terminal.Error;
    TimeSpan _lastDraw = TimeSpan.MinValue;
    int _done;

    public ConsoleProgress(string what, int total) { _what = what; _total = total; }

    public void Report(int done)
    {
        _done = done;
        var now = _clock.Elapsed;
        if (done < _total && _lastDraw != TimeSpan.MinValue && now - _lastDraw < (_interactive ? TimeSpan.FromMilliseconds(200) : TimeSpan.FromSeconds(10))) return;
        _lastDraw = now;
        Console.Error.Write((_interactive ? "\r" : "") + Line() + (_interactive ? "" : "\n"));
    }

    string Line()
    {
        double rate = _done / Math.Max(_clock.Elapsed.TotalSeconds, 1e-9);
        var eta = rate > 0 && _total > _done ? TimeSpan.FromSeconds((_total - _done) / rate) : TimeSpan.Zero;
        if (!_interactive) return $"{_what}: {_done}/{_total}  {rate:F1}/s  ETA {eta:mm\\:ss}";
        int width = 24, filled = _total == 0 ? width : (int)((long)width * _done / _total);
        return $"{_what} [{new string('#', filled)}{new string('.', width - filled)}] {_done}/{_total}  {rate:F1}/s  ETA {eta:mm\\:ss}  ";
    }

    public void Dispose()
    {
        if (_interactive && _lastDraw != TimeSpan.MinValue) Console.Error.WriteLine();
    }
}
