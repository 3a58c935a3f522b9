using SharpClip.Generation.TextToImage;

namespace SharpClip.Generation.Studies;

/// <summary>
/// The studies' rule that the judge is not the model that reranked: a model grading its own choices measures only
/// that it agrees with itself (the reranked cosine rises with N by construction). Issue 16 insists on a separately
/// trained judge; the same file under another path counts as the same model.
/// </summary>
public static class SeparateJudge
{
    /// <exception cref="ArgumentException">the judge and the reranker are one model and <paramref name="allowSame"/> is false.</exception>
    public static void Require(string judgePath, string rerankerPath, bool allowSame)
    {
        if (allowSame) return;
        bool same = string.Equals(Path.GetFullPath(judgePath), Path.GetFullPath(rerankerPath), StringComparison.Ordinal)
            || (Exists(judgePath) && Exists(rerankerPath) && TextToImageRun.Sha256Prefix(judgePath) == TextToImageRun.Sha256Prefix(rerankerPath));
        if (same)
            throw new ArgumentException($"--judge {judgePath} is the same model as --rerank-model {rerankerPath}: a model judging its own picks only agrees with itself; "
                + "give a separately trained CLIP as --judge (or pass --allow-same-judge to measure that agreement anyway)");
    }

    static bool Exists(string path) => File.Exists(path) || Directory.Exists(path);
}
