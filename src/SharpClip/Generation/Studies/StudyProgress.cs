namespace SharpClip.Generation.Studies;

/// <summary>Where a study is, for a progress line: the stage, the caption being worked on (1-based) of how many, and its text.</summary>
public sealed record StudyProgress(string Stage, int Caption, int Captions, string Text);
