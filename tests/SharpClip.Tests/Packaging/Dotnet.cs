using System.Diagnostics;
using System.Text;

namespace SharpClip.Tests.Packaging;

/// <summary>
/// Runs a program as a user's shell would: its own working directory, stdout and stderr captured, a time limit, and
/// none of the test host's MSBuild/VSTest variables (a `dotnet build` started from inside `dotnet test` would otherwise
/// inherit the outer build's SDK paths).
/// </summary>
public static class Dotnet
{
    public sealed record Result(int ExitCode, string Out, string Err)
    {
        public string Both => $"exit {ExitCode}\n--- stdout\n{Out}\n--- stderr\n{Err}";
    }

    public static Task<Result> Run(string workingDirectory, params string[] args) => Exec("dotnet", workingDirectory, args);

    public static async Task<Result> Exec(string program, string workingDirectory, IEnumerable<string> args, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8, StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var key in psi.Environment.Keys.ToList())
            if (key.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || key.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)
                || key.Equals("DOTNET_HOST_PATH", StringComparison.OrdinalIgnoreCase) || key.Equals("MSBuildSDKsPath", StringComparison.OrdinalIgnoreCase))
                psi.Environment.Remove(key);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {program}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(10));
        try { await p.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} (in {workingDirectory}) did not finish in time");
        }
        return new Result(p.ExitCode, await stdout, await stderr);
    }
}
