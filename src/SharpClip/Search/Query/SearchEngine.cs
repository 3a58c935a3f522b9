namespace SharpClip.Search;

/// <summary>
/// Queries over an index: loads every embedding once into an <see cref="EmbeddingMatrix"/> and, before each query,
/// picks up rows that another process (a running indexer) committed since, by change sequence; deletions trigger a
/// reload. The encoder is needed for text and uploaded-image queries only. Thread-safe (queries are serialised;
/// each query's scan already uses every core).
/// </summary>
public sealed class SearchEngine : IDisposable
{
    readonly object gate = new();
    readonly bool ownsIndex;
    readonly int blockRows;
    EmbeddingMatrix? matrix;
    long lastSeq;
    long lastDataVersion = long.MinValue;
    DateTime createdUtc;

    public SearchEngine(ImageIndex index, IImageTextEncoder? encoder, bool ownsIndex = false, int blockRows = 65536)
    {
        Index = index;
        Encoder = encoder;
        this.ownsIndex = ownsIndex;
        this.blockRows = blockRows;
        Refresh();
    }

    /// <summary>Opens an existing index file for searching.</summary>
    public static SearchEngine Open(string indexPath, IImageTextEncoder? encoder) => new(ImageIndex.Open(indexPath), encoder, ownsIndex: true);

    public ImageIndex Index { get; }
    public IImageTextEncoder? Encoder { get; }

    /// <summary>Images currently searchable (after the last refresh).</summary>
    public int Count { get { lock (gate) return matrix?.Count ?? 0; } }

    /// <summary>Reads rows committed since the last call; returns true if anything changed. Cheap when nothing did.</summary>
    public bool Refresh()
    {
        lock (gate)
        {
            long version = Index.DataVersion();
            if (version == lastDataVersion && matrix is not null) return false;
            var meta = Index.ReloadMetadata();
            lastDataVersion = version;
            if (meta is null) { matrix?.Clear(); lastSeq = 0; return false; }
            if (Encoder is not null && meta.Fingerprint != Encoder.Fingerprint)
                throw new ModelMismatchException(Index.Path, meta.Model, meta.Fingerprint, "(the encoder given)", Encoder.Fingerprint);
            if (matrix is null || matrix.Dimension != meta.Dimension || meta.CreatedUtc != createdUtc)
            {
                // first load, or the index was rebuilt (new creation time, sequence numbers start again)
                matrix?.Dispose();
                matrix = new EmbeddingMatrix(meta.Dimension, blockRows);
                lastSeq = 0;
                createdUtc = meta.CreatedUtc;
            }
            var m = matrix;
            int before = m.Count;
            var (count, maxSeq) = Index.ReadEmbeddings(lastSeq, (id, v) => m.Upsert(id, v));
            bool changed = maxSeq != lastSeq;
            if (count != m.Count)
            {
                // rows were deleted (or the index was rebuilt): reload everything from one snapshot
                m.Clear();
                (_, maxSeq) = Index.ReadEmbeddings(0, (id, v) => m.Upsert(id, v));
                changed = true;
            }
            lastSeq = maxSeq;
            return changed || before != m.Count;
        }
    }

    /// <summary>The unit-length query vector for a composed query (see <see cref="SearchQuery"/>).</summary>
    public float[] Compose(SearchQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        lock (gate)
        {
            int d = matrix?.Dimension ?? Encoder?.Dimension ?? throw new InvalidOperationException($"index '{Index.Path}' is empty");
            var sum = new float[d];
            bool any = false;
            void Add(float[] v, float w, string what)
            {
                if (v.Length != d) throw new ArgumentException($"{what} embedding has {v.Length} values, the index has {d}");
                var u = Vectors.Normalize(v);
                for (int i = 0; i < d; i++) sum[i] += w * u[i];
                any = true;
            }
            if (!string.IsNullOrWhiteSpace(query.Text)) Add(RequireEncoder().EmbedText(query.Text), query.TextWeight, "text");
            if (query.Image is { } image) Add(image, query.ImageWeight, "image");
            if (query.LikeId is { } id)
                Add(Index.GetEmbedding(id) ?? throw new KeyNotFoundException($"image id {id} is not in index '{Index.Path}'"), query.ImageWeight, "indexed image");
            if (!any) throw new ArgumentException("a query needs a text, an image or an indexed image id");
            var q = Vectors.Normalize(sum);
            if (!string.IsNullOrWhiteSpace(query.Negative))
            {
                var neg = Vectors.Normalize(RequireEncoder().EmbedText(query.Negative));
                for (int i = 0; i < d; i++) q[i] -= query.NegativeWeight * neg[i];
                q = Vectors.Normalize(q);
            }
            return q;
        }
    }

    /// <summary>The <paramref name="k"/> most similar images, best first, after picking up new rows.</summary>
    public IReadOnlyList<SearchHit> Search(SearchQuery query, int k = 20)
    {
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be at least 1");
        lock (gate)
        {
            Refresh();
            var q = Compose(query);
            if (matrix is null || matrix.Count == 0) return [];
            return Hits(matrix.TopK(q, k));
        }
    }

    /// <summary>Top-k for a ready-made unit query vector (e.g. from an <c>IEmbeddingGenerator</c>).</summary>
    public IReadOnlyList<SearchHit> Search(float[] queryEmbedding, int k = 20)
    {
        lock (gate)
        {
            Refresh();
            if (matrix is null || matrix.Count == 0) return [];
            return Hits(matrix.TopK(queryEmbedding, k));
        }
    }

    /// <summary>Near-duplicate groups over the whole index (see <see cref="Deduplicator"/>).</summary>
    public IReadOnlyList<DuplicateGroup> FindDuplicates(float threshold, CancellationToken ct = default)
    {
        lock (gate)
        {
            Refresh();
            return matrix is null ? [] : Deduplicator.FindGroups(matrix, threshold, ct: ct);
        }
    }

    List<SearchHit> Hits(IReadOnlyList<ScoredId> top)
    {
        var hits = new List<SearchHit>(top.Count);
        foreach (var s in top)
            if (Index.Get(s.Id) is { } r) hits.Add(new SearchHit(s.Id, s.Score, r.Path, r.Caption, r.Width, r.Height));
        return hits;
    }

    IImageTextEncoder RequireEncoder() => Encoder ?? throw new InvalidOperationException("this query needs a model: open the search engine with an encoder");

    public void Dispose()
    {
        lock (gate)
        {
            matrix?.Dispose();
            if (ownsIndex) Index.Dispose();
        }
    }
}
