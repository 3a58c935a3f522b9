namespace SharpClip.Evaluation;

/// <summary>
/// Cross-modal retrieval recall as reported for Flickr30k/MSCOCO in the CLIP paper: with several captions per image,
/// image→text R@k is the share of images for which any of their captions is among the k nearest texts, and
/// text→image R@k the share of captions whose image is among the k nearest images.
/// </summary>
public sealed record RetrievalMetrics(int Images, int Texts, IReadOnlyDictionary<int, double> ImageToText, IReadOnlyDictionary<int, double> TextToImage)
{
    public static readonly int[] DefaultKs = [1, 5, 10];

    /// <summary>
    /// From embeddings (row-major, any norm: cosine similarity is used) and, per text, the index of its image.
    /// Ties are ranked by position (the earlier item first), so the result is deterministic.
    /// </summary>
    public static RetrievalMetrics Compute(ReadOnlySpan<float> images, ReadOnlySpan<float> texts, int dimension, IReadOnlyList<int> imageOfText, IReadOnlyList<int>? ks = null)
    {
        ks ??= DefaultKs;
        int n = images.Length / dimension, m = texts.Length / dimension;
        if (n * dimension != images.Length || m * dimension != texts.Length) throw new ArgumentException($"embedding lengths are not multiples of {dimension}");
        if (imageOfText.Count != m) throw new ArgumentException($"{imageOfText.Count} text→image links for {m} texts");
        if (n == 0 || m == 0) throw new ArgumentException("retrieval needs at least one image and one text");
        var a = Normalize(images, n, dimension);
        var b = Normalize(texts, m, dimension);
        var sim = new double[n, m];
        Parallel.For(0, n, i =>
        {
            for (int j = 0; j < m; j++)
            {
                double dot = 0;
                for (int d = 0; d < dimension; d++) dot += a[i * dimension + d] * b[j * dimension + d];
                sim[i, j] = dot;
            }
        });
        foreach (var (j, i) in imageOfText.Select((i, j) => (j, i)))
            if (i < 0 || i >= n) throw new ArgumentException($"text {j} points at image {i}, outside 0..{n - 1}");

        // image → text: the best rank among the image's own captions.
        var i2tRank = new int[n];
        Array.Fill(i2tRank, int.MaxValue);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++)
            {
                if (imageOfText[j] != i) continue;
                int rank = 0;
                for (int t = 0; t < m; t++) if (sim[i, t] > sim[i, j] || (sim[i, t] == sim[i, j] && t < j)) rank++;
                i2tRank[i] = Math.Min(i2tRank[i], rank);
            }
        // text → image.
        var t2iRank = new int[m];
        for (int j = 0; j < m; j++)
        {
            int own = imageOfText[j], rank = 0;
            for (int i = 0; i < n; i++) if (sim[i, j] > sim[own, j] || (sim[i, j] == sim[own, j] && i < own)) rank++;
            t2iRank[j] = rank;
        }
        var withCaptions = Enumerable.Range(0, n).Where(i => i2tRank[i] != int.MaxValue).ToList();
        return new RetrievalMetrics(n, m,
            ks.ToDictionary(k => k, k => withCaptions.Count == 0 ? double.NaN : withCaptions.Count(i => i2tRank[i] < k) / (double)withCaptions.Count),
            ks.ToDictionary(k => k, k => t2iRank.Count(r => r < k) / (double)m));
    }

    static double[] Normalize(ReadOnlySpan<float> x, int rows, int dim)
    {
        var y = new double[rows * dim];
        for (int r = 0; r < rows; r++)
        {
            double s = 0;
            for (int d = 0; d < dim; d++) s += (double)x[r * dim + d] * x[r * dim + d];
            s = s == 0 ? 1 : Math.Sqrt(s);
            for (int d = 0; d < dim; d++) y[r * dim + d] = x[r * dim + d] / s;
        }
        return y;
    }
}
