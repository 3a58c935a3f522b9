using System.ComponentModel;
using System.Diagnostics;
using SharpClip.Data;

namespace SharpClip.Demos.Fetching;

/// <summary>What a finished external command printed.</summary>
public sealed record ExternalCommandResult(int ExitCode, string StandardOutput, string StandardError)
{
    /// <summary>The last few non-empty lines of standard error joined with " | ": enough to quote in one-line messages.</summary>
    public string ErrorTail(int lines = 3) =>
        string.Join(" | ", StandardError.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).TakeLast(lines));
}

/// <summary>
/// Runs the package clients the built-in datasets fetch with (npm, apt-get, dpkg-deb): arguments passed as a list (no
/// shell quoting), both streams captured, and the process tree killed when the token is cancelled.
/// </summary>
public static class ExternalCommand
{
    /// <summary>
    /// Runs <paramref name="command"/> to completion. A command that cannot be started throws
    /// <see cref="Win32Exception"/>; callers turn it into a message saying what to install.
    /// </summary>
    public static ExternalCommandResult Run(string command, IEnumerable<string> arguments, string workingDirectory, CancellationToken cancellationToken = default)
    {
        var psi = new ProcessStartInfo(command)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi) ?? throw new Win32Exception($"could not start {command}");
        using (cancellationToken.Register(() => { try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { } }))
        {
            var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
            var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
            process.WaitForExit();
            cancellationToken.ThrowIfCancellationRequested();
            return new ExternalCommandResult(process.ExitCode, stdout.Result, stderr.Result);
        }
    }
}
