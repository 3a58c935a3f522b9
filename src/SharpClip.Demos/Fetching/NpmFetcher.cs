using System.ComponentModel;
using System.Text.Json;
using SharpClip.Data;

namespace SharpClip.Demos.Fetching;

/// <summary>A pinned npm package: name (possibly scoped) and exact version.</summary>
public sealed record NpmPackage(string Name, string Version)
{
    /// <summary>The file <c>npm pack</c> writes: "@scope/name" → "scope-name-VERSION.tgz".</summary>
    public string TarballName => $"{Name.TrimStart('@').Replace('/', '-')}-{Version}.tgz";

    public override string ToString() => $"{Name}@{Version}";
}

/// <summary>
/// Fetches package tarballs with the user's own npm client (<c>npm pack</c>), so the registry, proxy and credentials
/// are whatever npm is configured with; nothing here knows a registry address. Tarballs already in the cache folder
/// are reused, so a second run does no network work.
/// </summary>
public sealed class NpmFetcher(string cacheDirectory, string npmCommand = "npm")
{
    public string CacheDirectory { get; } = Path.GetFullPath(cacheDirectory);

    /// <summary>The cached tarball path of <paramref name="package"/> (it may not exist yet).</summary>
    public string PathOf(NpmPackage package) => Path.Combine(CacheDirectory, package.TarballName);

    /// <summary>
    /// Ensures every package's tarball is in the cache; reports (done, total) after each. Missing npm, a failing
    /// registry or an unexpected file name throw <see cref="InvalidOperationException"/> saying what to do.
    /// </summary>
    public IReadOnlyList<string> Fetch(IReadOnlyList<NpmPackage> packages, IProgress<(int Done, int Total, string Package)>? progress = null,
        CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(CacheDirectory);
        var paths = new List<string>();
        for (int i = 0; i < packages.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var target = PathOf(packages[i]);
            if (!File.Exists(target) || new FileInfo(target).Length == 0) Pack(packages[i], target, cancellationToken);
            paths.Add(target);
            progress?.Report((i + 1, packages.Count, packages[i].ToString()));
        }
        return paths;
    }

    void Pack(NpmPackage package, string target, CancellationToken cancellationToken)
    {
        // npm writes into a scratch folder first, so an interrupted download never leaves a truncated tarball behind.
        var scratch = Path.Combine(CacheDirectory, ".partial-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(scratch);
        try
        {
            ExternalCommandResult run;
            try { run = ExternalCommand.Run(npmCommand, ["pack", package.ToString(), "--json", "--pack-destination", scratch], scratch, cancellationToken); }
            catch (Win32Exception e)
            {
                throw new InvalidOperationException($"'{npmCommand}' was not found or could not run ({e.Message}): install Node.js with npm " +
                    $"(e.g. `apt-get install npm`), or put {package.TarballName} into {CacheDirectory} by hand", e);
            }
            if (run.ExitCode != 0)
                throw new InvalidOperationException($"`npm pack {package}` failed (exit {run.ExitCode}): {run.ErrorTail()}. " +
                    "Check network access to the npm registry (`npm config get registry`, proxy settings), " +
                    $"or put {package.TarballName} into {CacheDirectory} by hand");
            var written = FileNameFromJson(run.StandardOutput) ?? package.TarballName;
            var produced = Path.Combine(scratch, written);
            if (!File.Exists(produced))
                throw new InvalidOperationException($"`npm pack {package}` reported success but wrote no {written} in {scratch}");
            File.Move(produced, target, overwrite: true);
        }
        finally
        {
            try { Directory.Delete(scratch, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>npm pack --json prints [{"filename": "..."}]; older clients print other text first, which is tolerated.</summary>
    static string? FileNameFromJson(string stdout)
    {
        int start = stdout.IndexOf('[');
        if (start < 0) return null;
        try
        {
            using var doc = JsonDocument.Parse(stdout[start..]);
            return doc.RootElement.ValueKind == JsonValueKind.Array && doc.RootElement.GetArrayLength() > 0
                && doc.RootElement[0].TryGetProperty("filename", out var f) ? Path.GetFileName(f.GetString()) : null;
        }
        catch (JsonException) { return null; }
    }
}
