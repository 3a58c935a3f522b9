using SharpClip.Demos.Emoji;
using SharpClip.Search;
using SharpClip.Training;

namespace SharpClip.Demos;

/// <summary>Which data the quickstart trains on.</summary>
public enum QuickstartData
{
    /// <summary>Emoji when the npm registry can provide it, else the synthetic shapes.</summary>
    Auto,
    Emoji,
    Synthetic,
}

/// <summary>What <see cref="Quickstart.Run"/> does.</summary>
public sealed record QuickstartOptions
{
    /// <summary>Folder for the model, its metrics, the report and the search demo.</summary>
    public required string Root { get; init; }

    /// <summary>Training steps; null = 1000 of 128 pairs on emoji, 400 of 64 on synthetic shapes.</summary>
    public int? Steps { get; init; }

    public QuickstartData Data { get; init; } = QuickstartData.Auto;

    /// <summary>Seed for data, initialisation and order.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>
    /// Delete a training run an earlier quickstart left in <see cref="Root"/> and train anew; without it, a finished
    /// run with the same settings is reused and an unfinished one resumed.
    /// </summary>
    public bool Fresh { get; init; }
}

/// <summary>
/// One report from <see cref="Quickstart.Run"/>, synchronously and in order. The quickstart is a narrated demo: its
/// script (the numbered stages and what they found) comes as <see cref="QuickstartNote"/> lines; long stages report
/// their progress.
/// </summary>
public abstract record QuickstartEvent;

/// <summary>A line of the demo's narration, to show as it is.</summary>
public sealed record QuickstartNote(string Text) : QuickstartEvent;

/// <summary>Preparing a data set (fetching, rendering): <paramref name="Done"/> of <paramref name="Total"/> in a stage.</summary>
public sealed record QuickstartPreparing(string Stage, int Done, int Total) : QuickstartEvent;

/// <summary>A report of the training run, which is configured for <paramref name="TotalSteps"/> steps.</summary>
public sealed record QuickstartTraining(TrainingEvent Event, long TotalSteps) : QuickstartEvent;

/// <summary>The per-style evaluation's current activity (emoji only).</summary>
public sealed record QuickstartEvaluating(string Activity) : QuickstartEvent;

/// <summary>The per-style evaluation's table (emoji only), before its report files are named.</summary>
public sealed record QuickstartStyleTable(StyleEvaluationResult Table) : QuickstartEvent;

/// <summary>What the quickstart left behind and found: the last stage, an index of images searched by text.</summary>
/// <param name="Training">The training run.</param>
/// <param name="ModelFolder">The trained model folder (every verb loads it).</param>
/// <param name="IndexPath">The image index built with it.</param>
/// <param name="ImagesFolder">The images indexed.</param>
/// <param name="Indexed">How many images were embedded.</param>
/// <param name="Searches">Each demo query and its top hits.</param>
public sealed record QuickstartSummary(
    TrainingResult Training, string ModelFolder, string IndexPath, string ImagesFolder, int Indexed,
    IReadOnlyList<(string Query, IReadOnlyList<SearchHit> Hits)> Searches);
