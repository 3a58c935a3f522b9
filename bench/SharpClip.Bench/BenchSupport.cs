using System.Diagnostics;
using System.Globalization;

namespace SharpClip.Bench;

/// <summary>Command-line options and the machine readings (load, peak memory) every suite prints beside its figures.</summary>
internal static class BenchSupport
{
    /// <summary>The value after <paramref name="name"/> in <paramref name="args"/>, else <paramref name="fallback"/>.</summary>
    public static string Option(string[] args, string name, string fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }

    public static int IntOption(string[] args, string name, int fallback) =>
        int.TryParse(Option(args, name, ""), out var v) ? v : fallback;

    /// <summary>The 1, 5 and 15-minute load averages ("n/a" off Linux): figures from a busy machine are not comparable.</summary>
    public static string LoadAverage()
    {
        try { return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "n/a"; }
    }

    /// <summary>The 1-minute load average as a number (NaN off Linux).</summary>
    public static double LoadAverage1Min() =>
        double.TryParse(LoadAverage().Split(' ')[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : double.NaN;

    /// <summary>Linux: writing 5 to clear_refs resets the peak resident set size (VmHWM) of this process.</summary>
    public static void ResetPeakRss()
    {
        try { File.WriteAllText("/proc/self/clear_refs", "5"); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>Peak resident set size since start or the last <see cref="ResetPeakRss"/>, MiB.</summary>
    public static double PeakRssMiB()
    {
        try
        {
            var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            if (line is not null) return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
        }
        catch (IOException) { }
        return Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024);
    }
}
