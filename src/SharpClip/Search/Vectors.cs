namespace SharpClip.Search;

/// <summary>Small helpers on plain float vectors: the glue between encoders, query composition and storage.</summary>
public static class Vectors
{
    /// <summary>Returns a unit-length copy; a zero vector stays zero (a query that cancels itself out matches nothing in particular).</summary>
    public static float[] Normalize(ReadOnlySpan<float> v)
    {
        double sum = 0;
        foreach (float x in v) sum += (double)x * x;
        var result = v.ToArray();
        if (sum <= 0) return result;
        float inv = (float)(1.0 / Math.Sqrt(sum));
        for (int i = 0; i < result.Length; i++) result[i] *= inv;
        return result;
    }

    /// <summary>Dot product in double precision; equals cosine similarity for unit vectors.</summary>
    public static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"vector lengths differ: {a.Length} vs {b.Length}");
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += (double)a[i] * b[i];
        return s;
    }
}
