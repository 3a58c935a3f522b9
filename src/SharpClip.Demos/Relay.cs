namespace SharpClip.Demos;

/// <summary>A synchronous IProgress (System.Progress posts to the thread pool, which reorders reports).</summary>
internal sealed class Relay<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
