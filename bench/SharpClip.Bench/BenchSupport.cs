using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Bench;

/// <summary>Command-line options, the machine readings (load, peak memory) every suite prints beside its figures, and
/// the alternated timing of two contenders.</summary>
internal static class BenchSupport
{
    /// <summary>The value after <paramref name="name"/> in <paramref name="args"/>, else <paramref name="fallback"/>.</summary>
    public static string Option(string[] args, string name, string fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }

    /// <summary>A whole-number option; a value that is not one is refused, naming the option (not silently the default).</summary>
    /// <summary>A comma-separated list of names, each checked against <paramref name="known"/> before any work starts (a
    /// typo would otherwise print an empty table, or fail halfway).</summary>
    public static HashSet<string> Names(string list, string option, IEnumerable<string> known)
    {
        var names = list.Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        var knownNames = known.ToHashSet();
        foreach (var name in names)
            if (!knownNames.Contains(name)) throw new ArgumentException($"{option} {name}: expected one of {string.Join(", ", knownNames)}");
        return names;
    }

    public static int IntOption(string[] args, string name, int fallback)
    {
        var text = Option(args, name, "");
        if (text.Length == 0) return fallback;
        return int.TryParse(text, out var v) ? v : throw new ArgumentException($"{name} {text}: expected a whole number");
    }

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
    public static double PeakRssMiB() => StatusMiB("VmHWM:") ?? Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024);

    /// <summary>
    /// Frees what earlier work left for the collector and hands the C heap's free pages back to the system (glibc's
    /// <c>malloc_trim</c>), so a later baseline of <see cref="RssMiB"/> is what is in use, not what the allocator kept.
    /// </summary>
    public static void ReleaseFreedMemory()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        if (OperatingSystem.IsLinux())
        {
            try { MallocTrim(0); } catch (DllNotFoundException) { } catch (EntryPointNotFoundException) { }
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "malloc_trim")]
    static extern int MallocTrim(nuint pad);

    /// <summary>Resident set size now, MiB: what a suite's baseline is before it builds or loads a model.</summary>
    public static double RssMiB() => StatusMiB("VmRSS:") ?? Process.GetCurrentProcess().WorkingSet64 / (1024.0 * 1024);

    static double? StatusMiB(string field)
    {
        try
        {
            var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
            if (line is not null) return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
        }
        catch (IOException) { }
        return null;
    }
    /// <summary>Writes a suite's report to <paramref name="output"/> (its folder made if needed) as indented JSON with
    /// snake_case names, and says where.</summary>
    public static void WriteReport(string output, object report)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
        File.WriteAllText(output, JsonSerializer.Serialize(report, ReportJson));
        Console.WriteLine($"wrote {output}");
    }

    static readonly JsonSerializerOptions ReportJson = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>
    /// Two contenders on the same input, alternated run by run (a, b, a, b, ...) so that a change in the machine's load
    /// falls on both. The first pair is the first warm-up, and its outputs go to <paramref name="compare"/> (the accuracy
    /// figure, computed in a dispose scope); then the other warm-ups, then <paramref name="runs"/> timed pairs.
    /// </summary>
    /// <returns><paramref name="compare"/>'s figure and each contender's timed runs in milliseconds.</returns>
    public static (double Comparison, double[] AMs, double[] BMs) Alternate(Func<Tensor> a, Func<Tensor> b,
        Func<Tensor, Tensor, double> compare, int warmUps, int runs)
    {
        double comparison;
        using (var scope = torch.NewDisposeScope())
            comparison = compare(a(), b());
        for (int i = 1; i < warmUps; i++) { a().Dispose(); b().Dispose(); }
        var aMs = new double[runs];
        var bMs = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            aMs[i] = Time(a);
            bMs[i] = Time(b);
        }
        return (comparison, aMs, bMs);
    }

    /// <summary>Items per second at the median of <paramref name="ms"/> (one run's milliseconds for <paramref name="items"/>).</summary>
    public static double PerSecond(int items, double[] ms) => items / (ms.Order().ElementAt(ms.Length / 2) / 1000);

    static double Time(Func<Tensor> run)
    {
        var sw = Stopwatch.StartNew();
        run().Dispose();
        return sw.Elapsed.TotalMilliseconds;
    }
}

/// <summary>A process the bench runs (a contender, the Python reference) failed; it printed its own error.</summary>
public sealed class BenchFailure(string message) : Exception(message);
