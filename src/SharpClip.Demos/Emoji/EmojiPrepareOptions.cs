using SharpClip.Data;

namespace SharpClip.Demos.Emoji;

/// <summary>Settings of <see cref="EmojiDataset.Prepare"/>; the defaults are the documented recipe.</summary>
public sealed record EmojiPrepareOptions
{
    /// <summary>Output folder; null → <see cref="EmojiDataset.DefaultDirectory"/>.</summary>
    public string? Directory { get; init; }

    /// <summary>The default <see cref="ImageSize"/>: the vendor sheets' cell size.</summary>
    public const int DefaultImageSize = 32;

    /// <summary>Side of the written images (32 or 64 is sensible: the vendor sheets are 32 px).</summary>
    public int ImageSize { get; init; } = DefaultImageSize;

    /// <summary>Side SVGs are rendered at before crop-and-pad (then downsampled, so edges are antialiased).</summary>
    public int SvgRenderSize { get; init; } = 96;

    /// <summary>Subgroups with at least this many (non-flag, base) emoji become the fine-grained zero-shot task.</summary>
    public int SubgroupMinMembers { get; init; } = 10;

    /// <summary>The npm client to run.</summary>
    public string NpmCommand { get; init; } = "npm";

    /// <summary>Parallel image workers.</summary>
    public int Threads { get; init; } = Math.Max(1, Environment.ProcessorCount);
}

/// <summary>A progress report: the stage ("fetch", "read", "render google", "write") and its counts.</summary>
public readonly record struct EmojiPrepareProgress(string Stage, int Done, int Total);

/// <summary>Images per style and split (base emoji; skin variants counted separately) and what was reused.</summary>
public sealed record EmojiStyleCounts(string Style, EmojiStyleRole Role, int Train, int Validation, int Test, int SkinVariants,
    int ZeroShotTest, int Rendered, int Reused, int Blank);

/// <summary>What <see cref="EmojiDataset.Prepare"/> wrote and how long it took.</summary>
public sealed record EmojiPrepareResult(string Directory, int Emoji, int Identities, int TestIdentities,
    int TrainSamples, int ValidationSamples, IReadOnlyList<EmojiStyleCounts> Styles,
    IReadOnlyList<string> GroupClasses, IReadOnlyList<string> SubgroupClasses,
    TimeSpan FetchTime, TimeSpan ReadTime, TimeSpan RenderTime);
