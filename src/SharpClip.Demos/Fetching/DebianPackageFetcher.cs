using System.ComponentModel;
using SharpClip.Data;

namespace SharpClip.Demos.Fetching;

/// <summary>
/// Fetches a Debian package with the machine's own apt (<c>apt-get download</c>: no root needed, and the mirror, proxy
/// and signatures are whatever apt is configured with — nothing here knows an address) and unpacks it with
/// <c>dpkg-deb -x</c>, because a .deb's payload is data.tar.xz, which .NET cannot decompress. Both steps are cached:
/// a .deb already in the cache folder is reused, and so is a completed extraction of it.
/// </summary>
public sealed class DebianPackageFetcher(string cacheDirectory, string aptCommand = "apt-get", string dpkgDebCommand = "dpkg-deb")
{
    public string CacheDirectory { get; } = Path.GetFullPath(cacheDirectory);

    /// <summary>The newest cached <c>{package}_*.deb</c>, or null.</summary>
    public string? CachedDeb(string package) =>
        Directory.Exists(CacheDirectory)
            ? Directory.GetFiles(CacheDirectory, $"{package}_*.deb").Where(f => new FileInfo(f).Length > 0)
                .OrderByDescending(File.GetLastWriteTimeUtc).ThenByDescending(f => f, StringComparer.Ordinal).FirstOrDefault()
            : null;

    /// <summary>
    /// The package's .deb in the cache, downloaded first when absent. A missing apt, unknown package (stale or missing
    /// package lists) or unreachable mirror throws <see cref="InvalidOperationException"/> saying what to run.
    /// </summary>
    public string Download(string package, CancellationToken cancellationToken = default)
    {
        if (CachedDeb(package) is { } cached) return cached;
        Directory.CreateDirectory(CacheDirectory);
        // apt writes into a scratch folder first, so an interrupted download never leaves a truncated .deb behind.
        var scratch = Path.Combine(CacheDirectory, ".partial-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(scratch);
        try
        {
            ExternalCommandResult run;
            try { run = ExternalCommand.Run(aptCommand, ["download", package], scratch, cancellationToken); }
            catch (Win32Exception e)
            {
                throw new InvalidOperationException($"'{aptCommand}' was not found or could not run ({e.Message}): fetching {package} needs a " +
                    $"Debian or Ubuntu system with apt; elsewhere, download {package}_*.deb from a Debian mirror and put it into {CacheDirectory}", e);
            }
            if (run.ExitCode != 0) throw new InvalidOperationException(DownloadFailure(package, run));
            var debs = Directory.GetFiles(scratch, $"{package}_*.deb");
            if (debs.Length != 1)
                throw new InvalidOperationException($"`{aptCommand} download {package}` reported success but wrote {debs.Length} {package}_*.deb files in {scratch}");
            var target = Path.Combine(CacheDirectory, Path.GetFileName(debs[0]));
            File.Move(debs[0], target, overwrite: true);
            return target;
        }
        finally
        {
            try { Directory.Delete(scratch, recursive: true); } catch (IOException) { }
        }
    }

    string DownloadFailure(string package, ExternalCommandResult run)
    {
        var by = $"or put {package}_*.deb into {CacheDirectory} by hand";
        var err = run.StandardError;
        var head = $"`{aptCommand} download {package}` failed (exit {run.ExitCode}): {run.ErrorTail()}.";
        // apt knows no such package when its lists were never fetched (fresh containers) or lack the component.
        if (err.Contains("Unable to locate package", StringComparison.Ordinal) || err.Contains("has no installation candidate", StringComparison.Ordinal)
            || err.Contains("Can't select", StringComparison.Ordinal))
            return $"{head} apt's package lists do not know {package}: run `sudo apt-get update` (on Ubuntu, with the universe component enabled), then try again; {by}";
        // A 404 means the lists name a version the mirror no longer has: stale lists.
        if (err.Contains("404", StringComparison.Ordinal))
            return $"{head} apt's package lists are out of date: run `sudo apt-get update`, then try again; {by}";
        return $"{head} Check network access to the Debian/Ubuntu mirror (apt proxy settings in /etc/apt/apt.conf.d); {by}";
    }

    /// <summary>
    /// The folder <paramref name="deb"/> is unpacked into (under the cache folder, named after the .deb), unpacking it
    /// first when no completed extraction exists. Unpacking goes to a scratch folder renamed at the end, so an
    /// interrupted run is redone rather than trusted.
    /// </summary>
    public string Extract(string deb, CancellationToken cancellationToken = default)
    {
        if (!File.Exists(deb)) throw new FileNotFoundException($"{deb}: no such .deb", deb);
        var target = Path.Combine(CacheDirectory, Path.GetFileNameWithoutExtension(deb));
        var stamp = $"{Path.GetFileName(deb)} {new FileInfo(deb).Length}";
        var stampPath = Path.Combine(target, ".extracted");
        if (File.Exists(stampPath) && File.ReadAllText(stampPath).Trim() == stamp) return target;

        Directory.CreateDirectory(CacheDirectory);
        var scratch = Path.Combine(CacheDirectory, ".partial-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(scratch);
        try
        {
            ExternalCommandResult run;
            try { run = ExternalCommand.Run(dpkgDebCommand, ["-x", Path.GetFullPath(deb), scratch], scratch, cancellationToken); }
            catch (Win32Exception e)
            {
                throw new InvalidOperationException($"'{dpkgDebCommand}' was not found or could not run ({e.Message}): unpacking {Path.GetFileName(deb)} " +
                    "needs dpkg-deb (`apt-get install dpkg`); .NET cannot read the .deb's data.tar.xz itself", e);
            }
            if (run.ExitCode != 0)
                throw new InvalidDataException($"{deb}: `{dpkgDebCommand} -x` failed (exit {run.ExitCode}): {run.ErrorTail()}. Delete the file to download it again");
            File.WriteAllText(Path.Combine(scratch, ".extracted"), stamp + "\n");
            if (Directory.Exists(target)) Directory.Delete(target, recursive: true); // an older or interrupted extraction
            Directory.Move(scratch, target);
            return target;
        }
        finally
        {
            if (Directory.Exists(scratch)) try { Directory.Delete(scratch, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>
    /// The package version written into a .deb name by apt (<c>name_VERSION_arch.deb</c>, with the epoch's ':' escaped
    /// as <c>%3a</c>), e.g. "1:0.18+dfsg-19"; null when the name does not have that form.
    /// </summary>
    public static string? VersionOf(string debPath)
    {
        var parts = Path.GetFileNameWithoutExtension(debPath).Split('_');
        return parts.Length == 3 ? Uri.UnescapeDataString(parts[1]) : null;
    }
}
