using System.Linq.Expressions;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData;
using SharpClip.Files;

namespace SharpClip.Search;

/// <summary>How an <see cref="ImageIndexCollection"/> is set up.</summary>
public sealed record ImageIndexCollectionOptions
{
    /// <summary>
    /// The model an empty index is created for (its fingerprint, dimension, storage precision), written by
    /// <see cref="ImageIndexCollection.EnsureCollectionExistsAsync"/> or the first upsert. An index that already records a
    /// model must record this one: anything else is a <see cref="ModelMismatchException"/>.
    /// </summary>
    public IndexMetadata? Model { get; init; }

    /// <summary>Lets <c>SearchAsync</c> take a <see cref="string"/> (embedded with this generator, e.g. <c>clip.AsTextEmbeddingGenerator()</c>).</summary>
    public IEmbeddingGenerator<string, Embedding<float>>? TextEmbeddingGenerator { get; init; }

    /// <summary>Lets <c>SearchAsync</c> take a <see cref="DataContent"/> image (search by example).</summary>
    public IEmbeddingGenerator<DataContent, Embedding<float>>? ImageEmbeddingGenerator { get; init; }

    /// <summary>Dispose the index with the collection.</summary>
    public bool OwnsIndex { get; init; }
}

/// <summary>
/// SharpClip's SQLite <see cref="ImageIndex"/> as a Microsoft.Extensions.VectorData collection, so code written against
/// <see cref="VectorStoreCollection{TKey,TRecord}"/> (Semantic Kernel, RAG pipelines) can read, write and search the same
/// file the <c>index</c>, <c>search</c> and <c>serve</c> commands use. Keys are image paths.
/// </summary>
/// <remarks>
/// <para>Search is exact: every stored embedding is scored by cosine similarity (the index keeps them unit length, the
/// query is normalised), as SharpClip's own search does. Scores are cosines in −1..1, higher is closer;
/// <see cref="VectorSearchOptions{TRecord}.ScoreThreshold"/> keeps scores at or above it.</para>
/// <para>Filters (<see cref="VectorSearchOptions{TRecord}.Filter"/>, the filter of <c>GetAsync</c>) and <c>OrderBy</c> may be
/// any expression over <see cref="IndexedImage.Path"/>, <see cref="IndexedImage.Caption"/>, <see cref="IndexedImage.Width"/>,
/// <see cref="IndexedImage.Height"/> and <see cref="IndexedImage.UpdatedUtc"/>: they run in .NET over the index's rows
/// (a few hundred bytes each, beside the embeddings a search reads anyway), so string methods, arithmetic and
/// <c>&amp;&amp;</c>/<c>||</c>/<c>!</c> all work. Not supported, each with a <see cref="NotSupportedException"/> saying so:
/// a filter or ordering on <see cref="IndexedImage.Embedding"/>; a <see cref="VectorSearchOptions{TRecord}.VectorProperty"/>
/// other than <see cref="IndexedImage.Embedding"/> (it is the only vector); search inputs other than
/// <see cref="ReadOnlyMemory{T}"/> of float, float[], <see cref="Embedding{T}"/> of float, and <see cref="string"/> /
/// <see cref="DataContent"/> when the matching generator was given. Keyword and hybrid search are not offered.</para>
/// <para>An upserted row takes its size, modification time and SHA-256 from the file when the path is a file, so a
/// later <c>index</c> run sees it as up to date; otherwise a later run that finds the file re-embeds it.</para>
/// </remarks>
public sealed class ImageIndexCollection : VectorStoreCollection<string, IndexedImage>
{
    readonly ImageIndex _index;
    readonly ImageIndexCollectionOptions _options;

    /// <summary>A collection over <paramref name="index"/>.</summary>
    /// <exception cref="ModelMismatchException">the index records another model than <see cref="ImageIndexCollectionOptions.Model"/>.</exception>
    public ImageIndexCollection(ImageIndex index, ImageIndexCollectionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(index);
        _index = index;
        _options = options ?? new ImageIndexCollectionOptions();
        if (_options.Model is { } wanted && index.Metadata is { } has && has.Fingerprint != wanted.Fingerprint)
        {
            if (_options.OwnsIndex) index.Dispose();
            throw new ModelMismatchException(index.Path, has.Model, has.Fingerprint, wanted.Model, wanted.Fingerprint);
        }
    }

    /// <summary>The index file's path.</summary>
    public override string Name => _index.Path;

    /// <summary>True once the index records a model (an indexing run or <see cref="EnsureCollectionExistsAsync"/> has written it).</summary>
    public override Task<bool> CollectionExistsAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult(_index.ReloadMetadata() is not null);

    /// <summary>Records <see cref="ImageIndexCollectionOptions.Model"/> in an index that has none yet.</summary>
    public override Task EnsureCollectionExistsAsync(CancellationToken cancellationToken = default)
    {
        RequireMetadata();
        return Task.CompletedTask;
    }

    /// <summary>Empties the index: every image, every recorded failure and the model it was made with (the file stays).</summary>
    public override Task EnsureCollectionDeletedAsync(CancellationToken cancellationToken = default)
    {
        var tx = _index.BeginWrite();
        bool ok = false;
        try
        {
            _index.ClearAll(tx);
            ok = true;
        }
        finally { _index.EndWrite(tx, ok); }
        return Task.CompletedTask;
    }

    // ------------------------------------------------------------------ reading

    public override Task<IndexedImage?> GetAsync(string key, RecordRetrievalOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (_index.Metadata is null) return Task.FromResult<IndexedImage?>(null);
        var found = _index.FindByPath(key, options?.IncludeVectors == true);
        return Task.FromResult(found is { } f ? ToRecord(f.Record, f.Embedding) : null);
    }

    public override async IAsyncEnumerable<IndexedImage> GetAsync(Expression<Func<IndexedImage, bool>> filter, int top,
        FilteredRecordRetrievalOptions<IndexedImage>? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        options ??= new FilteredRecordRetrievalOptions<IndexedImage>();
        ArgumentOutOfRangeException.ThrowIfNegative(options.Skip);
        var predicate = Compile(filter, "filter");
        if (_index.Metadata is null) yield break;
        IEnumerable<(ImageRecord Row, IndexedImage Record)> rows = _index.ReadRecords().Select(r => (r, ToRecord(r, null))).Where(x => predicate(x.Item2));
        var sorts = options.OrderBy?.Invoke(new FilteredRecordRetrievalOptions<IndexedImage>.OrderByDefinition()).Values ?? [];
        IOrderedEnumerable<(ImageRecord Row, IndexedImage Record)>? ordered = null;
        foreach (var sort in sorts)
        {
            var key = Compile(sort.PropertySelector, "OrderBy");
            Func<(ImageRecord Row, IndexedImage Record), object?> by = x => key(x.Record);
            ordered = ordered is null
                ? (sort.Ascending ? rows.OrderBy(by, Comparer<object?>.Default) : rows.OrderByDescending(by, Comparer<object?>.Default))
                : (sort.Ascending ? ordered.ThenBy(by, Comparer<object?>.Default) : ordered.ThenByDescending(by, Comparer<object?>.Default));
        }
        foreach (var (row, record) in (ordered ?? rows).Skip(options.Skip).Take(top))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (options.IncludeVectors) record.Embedding = _index.GetEmbedding(row.Id) ?? ReadOnlyMemory<float>.Empty;
            yield return record;
        }
        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <summary>
    /// The <paramref name="top"/> stored images closest to <paramref name="searchValue"/> (an embedding, or a text or
    /// image when the matching generator was given), best first, with their cosine scores.
    /// </summary>
    public override async IAsyncEnumerable<VectorSearchResult<IndexedImage>> SearchAsync<TInput>(TInput searchValue, int top,
        VectorSearchOptions<IndexedImage>? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(searchValue);
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        options ??= new VectorSearchOptions<IndexedImage>();
        ArgumentOutOfRangeException.ThrowIfNegative(options.Skip);
        if (options.VectorProperty is { } property && !IsEmbedding(property.Body))
            throw new NotSupportedException($"index '{Name}': VectorProperty {property} is not supported; IndexedImage.Embedding is the only vector");
        var predicate = options.Filter is null ? null : Compile(options.Filter, "filter");
        var query = await QueryVector(searchValue, cancellationToken).ConfigureAwait(false);
        var meta = _index.Metadata;
        if (meta is null) yield break;
        if (query.Length != meta.Dimension)
            throw new ArgumentException($"index '{Name}' stores {meta.Dimension}-d embeddings; the query has {query.Length} values", nameof(searchValue));
        var unit = Vectors.Normalize(query.Span);

        Dictionary<long, ImageRecord>? allowed = null;
        if (predicate is not null)
            allowed = _index.ReadRecords().Where(r => predicate(ToRecord(r, null))).ToDictionary(r => r.Id);
        int keep = checked(options.Skip + top);
        var best = new PriorityQueue<long, (double Score, long Negated)>(); // min-heap: the worst kept result leaves first
        _index.ReadEmbeddings(0, (id, embedding) =>
        {
            if (allowed is not null && !allowed.ContainsKey(id)) return;
            double score = Vectors.Dot(unit, embedding);
            if (options.ScoreThreshold is { } threshold && score < threshold) return;
            var priority = (score, -id); // equal scores: the earlier row ranks first
            if (best.Count < keep) best.Enqueue(id, priority);
            else if (best.TryPeek(out _, out var worst) && priority.CompareTo(worst) > 0) best.EnqueueDequeue(id, priority);
        });
        var ranked = new List<(long Id, double Score)>(best.Count);
        while (best.TryDequeue(out var id, out var p)) ranked.Add((id, p.Score));
        ranked.Reverse();
        foreach (var (id, score) in ranked.Skip(options.Skip))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var row = allowed?.GetValueOrDefault(id) ?? _index.Get(id);
            if (row is null) continue; // deleted since the scan
            var record = ToRecord(row, options.IncludeVectors ? _index.GetEmbedding(id) : null);
            yield return new VectorSearchResult<IndexedImage>(record, score);
        }
    }

    // ------------------------------------------------------------------ writing

    public override Task UpsertAsync(IndexedImage record, CancellationToken cancellationToken = default) =>
        UpsertAsync([record], cancellationToken);

    /// <summary>Writes all records in one transaction (all or none), each embedding checked against the index's dimension and stored unit length.</summary>
    public override Task UpsertAsync(IEnumerable<IndexedImage> records, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        var list = records.ToList();
        var meta = RequireMetadata();
        var rows = list.Select(r => Prepare(r, meta)).ToList(); // validate and hash before taking the write lock
        cancellationToken.ThrowIfCancellationRequested();
        var tx = _index.BeginWrite();
        bool ok = false;
        try
        {
            long seq = _index.NextSeq(tx);
            var now = DateTime.UtcNow;
            foreach (var r in rows)
                _index.UpsertImage(tx, seq++, r.Path, r.Size, r.Mtime, r.Hash, r.Width, r.Height, r.Caption, 0, r.Embedding, now);
            ok = true;
        }
        finally { _index.EndWrite(tx, ok); }
        return Task.CompletedTask;
    }

    public override Task DeleteAsync(string key, CancellationToken cancellationToken = default) => DeleteAsync([key], cancellationToken);

    /// <summary>Removes the images with these paths in one transaction; unknown keys are ignored.</summary>
    public override Task DeleteAsync(IEnumerable<string> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var list = keys.ToList();
        if (list.Any(k => k is null)) throw new ArgumentException("a key is null", nameof(keys));
        var tx = _index.BeginWrite();
        bool ok = false;
        try
        {
            foreach (var key in list) _index.DeleteImage(tx, key);
            ok = true;
        }
        finally { _index.EndWrite(tx, ok); }
        return Task.CompletedTask;
    }

    public override object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null) return null;
        if (serviceType == typeof(VectorStoreCollectionMetadata))
            return new VectorStoreCollectionMetadata { VectorStoreSystemName = "sharpclip-sqlite", VectorStoreName = _index.Path, CollectionName = Name };
        if (serviceType.IsInstanceOfType(_index)) return _index;
        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && _options.OwnsIndex) _index.Dispose();
        base.Dispose(disposing);
    }

    // ------------------------------------------------------------------ helpers

    sealed record PreparedRow(string Path, long Size, long Mtime, byte[] Hash, int Width, int Height, string? Caption, byte[] Embedding);

    PreparedRow Prepare(IndexedImage record, IndexMetadata meta)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (string.IsNullOrEmpty(record.Path)) throw new ArgumentException("a record has an empty Path (the key)");
        if (record.Embedding.Length != meta.Dimension)
            throw new ArgumentException($"record '{record.Path}': Embedding has {record.Embedding.Length} values; index '{Name}' stores {meta.Dimension}-d embeddings");
        var unit = Vectors.Normalize(record.Embedding.Span);
        if (unit.All(x => x == 0) || unit.Any(x => !float.IsFinite(x)))
            throw new ArgumentException($"record '{record.Path}': Embedding is all zeros or not finite");
        if (record.Width < 0 || record.Height < 0) throw new ArgumentException($"record '{record.Path}': negative Width or Height");
        long size = 0, mtime = 0;
        byte[] hash = new byte[32]; // no file: matches no real file's SHA-256, so the indexer never reuses this embedding for other bytes
        var status = FileStatus.Of(record.Path);
        if (status.Kind == FileKind.Regular)
        {
            try
            {
                using var stream = File.OpenRead(record.Path);
                hash = SHA256.HashData(stream);
                (size, mtime) = (status.Size, status.ModifiedTicksUtc);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // unreadable now: stamped as absent, re-examined by the next run
        }
        return new PreparedRow(record.Path, size, mtime, hash, record.Width, record.Height, record.Caption,
            EmbeddingCodec.Encode(unit, meta.Precision));
    }

    IndexMetadata RequireMetadata()
    {
        if (_index.ReloadMetadata() is { } existing)
        {
            if (_options.Model is { } wanted && wanted.Fingerprint != existing.Fingerprint)
                throw new ModelMismatchException(_index.Path, existing.Model, existing.Fingerprint, wanted.Model, wanted.Fingerprint);
            return existing;
        }
        var model = _options.Model ?? throw new InvalidOperationException(
            $"index '{Name}' records no model yet: give ImageIndexCollectionOptions.Model (fingerprint, dimension) or index images first");
        if (model.Dimension <= 0) throw new ArgumentException($"ImageIndexCollectionOptions.Model.Dimension must be positive, got {model.Dimension}");
        var tx = _index.BeginWrite();
        bool ok = false;
        try
        {
            _index.WriteMetadata(tx, model);
            ok = true;
        }
        finally { _index.EndWrite(tx, ok); }
        return model;
    }

    async Task<ReadOnlyMemory<float>> QueryVector<TInput>(TInput value, CancellationToken cancellationToken) => value switch
    {
        ReadOnlyMemory<float> m => m,
        float[] a => a,
        Embedding<float> e => e.Vector,
        string text when _options.TextEmbeddingGenerator is { } g => await g.GenerateVectorAsync(text, cancellationToken: cancellationToken).ConfigureAwait(false),
        DataContent image when _options.ImageEmbeddingGenerator is { } g => await g.GenerateVectorAsync(image, cancellationToken: cancellationToken).ConfigureAwait(false),
        string or DataContent => throw new NotSupportedException(
            $"searching index '{Name}' with a {value!.GetType().Name} needs ImageIndexCollectionOptions.{(value is string ? "TextEmbeddingGenerator" : "ImageEmbeddingGenerator")}"),
        _ => throw new NotSupportedException(
            $"searching index '{Name}' with a {typeof(TInput).Name} is not supported: give ReadOnlyMemory<float>, float[], Embedding<float>, or a string/DataContent with a generator"),
    };

    static IndexedImage ToRecord(ImageRecord row, float[]? embedding) => new()
    {
        Path = row.Path,
        Caption = row.Caption,
        Width = row.Width,
        Height = row.Height,
        UpdatedUtc = row.UpdatedUtc,
        Embedding = embedding ?? ReadOnlyMemory<float>.Empty,
    };

    /// <summary>Compiles a filter or ordering after checking it leaves the embedding alone (rows are read without it).</summary>
    Func<IndexedImage, T> Compile<T>(Expression<Func<IndexedImage, T>> expression, string what)
    {
        var finder = new EmbeddingUse();
        finder.Visit(expression.Body);
        if (finder.Found)
            throw new NotSupportedException($"index '{Name}': a {what} on IndexedImage.Embedding is not supported ({expression}); filter on Path, Caption, Width, Height or UpdatedUtc");
        return expression.Compile();
    }

    static bool IsEmbedding(Expression body) => body switch
    {
        UnaryExpression { NodeType: ExpressionType.Convert or ExpressionType.ConvertChecked } u => IsEmbedding(u.Operand),
        MemberExpression m => m.Member.Name == nameof(IndexedImage.Embedding) && m.Member.DeclaringType == typeof(IndexedImage),
        _ => false,
    };

    sealed class EmbeddingUse : ExpressionVisitor
    {
        public bool Found { get; private set; }

        protected override Expression VisitMember(MemberExpression node)
        {
            if (node.Member.DeclaringType == typeof(IndexedImage) && node.Member.Name == nameof(IndexedImage.Embedding)) Found = true;
            return base.VisitMember(node);
        }
    }
}
