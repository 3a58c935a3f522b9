using SharpClip.Data;
using SharpClip.Demos.Emoji;

namespace SharpClip.Demos.OpenClipart;

/// <summary>Settings of <see cref="OpenClipartDataset.Prepare"/>; the defaults are the documented recipe.</summary>
public sealed record OpenClipartPrepareOptions
{
    /// <summary>Output folder; null → <see cref="OpenClipartDataset.DefaultDirectory"/>.</summary>
    public string? Directory { get; init; }

    /// <summary>Side of the written images: the emoji dataset's, so a model trained there sees the same scale.</summary>
    public int ImageSize { get; init; } = EmojiPrepareOptions.DefaultImageSize;

    /// <summary>Side the ink is rendered at before crop-and-pad (then downsampled, so thin lines stay visible).</summary>
    public int SvgRenderSize { get; init; } = 128;

    /// <summary>Seed of the sample drawn from capped classes (the flags).</summary>
    public int Seed { get; init; }

    /// <summary>
    /// Use this instead of fetching: an unpacked SVG folder (e.g. <c>/usr/share/openclipart/svg</c> when the package
    /// is installed) or an <c>openclipart-svg_*.deb</c> file.
    /// </summary>
    public string? Source { get; init; }

    /// <summary>The class list (default: the 22 classes of <see cref="OpenClipartClasses.All"/>).</summary>
    public IReadOnlyList<OpenClipartClass> Classes { get; init; } = OpenClipartClasses.All;

    /// <summary>The apt client to run and the .deb unpacker.</summary>
    public string AptCommand { get; init; } = "apt-get";
    public string DpkgDebCommand { get; init; } = "dpkg-deb";

    /// <summary>Parallel render workers.</summary>
    public int Threads { get; init; } = Math.Max(1, Environment.ProcessorCount);
}

/// <summary>A progress report: the stage ("fetch", "scan", "render", "write") and its counts.</summary>
public readonly record struct OpenClipartProgress(string Stage, int Done, int Total);

/// <summary>Per class: drawings found, kept (after the sample), PNGs drawn this run, reused from the cache, and failed.</summary>
public sealed record OpenClipartClassResult(string Class, int Found, int Kept, int Rendered, int Reused, int Failed)
{
    /// <summary>Images in the written dataset.</summary>
    public int Images => Rendered + Reused;
}

/// <summary>A drawing that produced no image: librsvg's error, or "renders blank".</summary>
public sealed record OpenClipartFailure(string Class, string Source, string Reason);

/// <summary>What <see cref="OpenClipartDataset.Prepare"/> wrote and how long it took.</summary>
public sealed record OpenClipartPrepareResult(string Directory, string CsvPath, string? PackageVersion, string SvgRoot,
    IReadOnlyList<OpenClipartClassResult> Classes, IReadOnlyList<OpenClipartFailure> Failures,
    int Files, int Links, int Duplicates, int Ambiguous, int Unresolved,
    TimeSpan FetchTime, TimeSpan ScanTime, TimeSpan RenderTime)
{
    public int Images => Classes.Sum(c => c.Images);
}
