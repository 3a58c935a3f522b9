using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData;
using SharpClip.Demos.Toy;
using SharpClip.Search;

namespace SharpClip.Tests.Search;

/// <summary>
/// The SQLite image index through Microsoft.Extensions.VectorData only (<see cref="VectorStoreCollection{TKey,TRecord}"/>):
/// upsert, get, delete, exact top-k search with filters, skip and a score threshold, and what it refuses.
/// Expected rankings are computed here by brute force over the vectors the test wrote, not by the code under test.
/// </summary>
public sealed class ImageIndexCollectionTests : IDisposable
{
    const int Dim = 8;
    readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    static readonly IndexMetadata Model = new("test-vectors", "fingerprint-1", Dim, EmbeddingPrecision.Float32, DateTime.UtcNow);

    VectorStoreCollection<string, IndexedImage> Open(string name = "i.db", ImageIndexCollectionOptions? options = null) =>
        new ImageIndexCollection(ImageIndex.Open(_dir[name], create: true), (options ?? new()) with { Model = options?.Model ?? Model, OwnsIndex = true });

    /// <summary>Deterministic pseudo-random vectors (not unit length: the store normalises).</summary>
    static float[] Vector(int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, Dim).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
    }

    static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++) { dot += (double)a[i] * b[i]; na += (double)a[i] * a[i]; nb += (double)b[i] * b[i]; }
        return dot / Math.Sqrt(na * nb);
    }

    static IndexedImage Image(int i) => new()
    {
        Path = $"/photos/{(i % 2 == 0 ? "even" : "odd")}/{i:D2}.jpg",
        Caption = i % 3 == 0 ? null : $"picture {i}",
        Width = 100 + i,
        Height = 50,
        Embedding = Vector(i),
    };

    [Fact]
    public async Task UpsertGetDeleteRoundTrip()
    {
        using var collection = Open();
        Assert.False(await collection.CollectionExistsAsync());
        await collection.EnsureCollectionExistsAsync();
        Assert.True(await collection.CollectionExistsAsync());
        await collection.UpsertAsync(Enumerable.Range(0, 10).Select(Image));

        var got = await collection.GetAsync(Image(3).Path, new RecordRetrievalOptions { IncludeVectors = true });
        Assert.NotNull(got);
        Assert.Equal((Image(3).Caption, 103, 50), (got.Caption, got.Width, got.Height));
        var unit = Vector(3).Select(x => x / (float)Math.Sqrt(Vector(3).Sum(v => (double)v * v))).ToArray();
        Assert.Equal(unit, got.Embedding.ToArray(), (a, b) => Math.Abs(a - b) < 1e-6);
        Assert.True((await collection.GetAsync(Image(3).Path))!.Embedding.IsEmpty); // vectors only when asked
        Assert.Null(await collection.GetAsync("/photos/none.jpg"));

        // Upsert replaces by key.
        await collection.UpsertAsync(new IndexedImage { Path = Image(3).Path, Caption = "new caption", Width = 1, Height = 2, Embedding = Vector(99) });
        Assert.Equal("new caption", (await collection.GetAsync(Image(3).Path))!.Caption);
        Assert.Equal(10, await collection.GetAsync(_ => true, 100).CountAsync());

        await collection.DeleteAsync(Image(3).Path);
        await collection.DeleteAsync([Image(4).Path, Image(5).Path, "/not/there.jpg"]);
        Assert.Null(await collection.GetAsync(Image(3).Path));
        Assert.Equal(7, await collection.GetAsync(_ => true, 100).CountAsync());

        await collection.EnsureCollectionDeletedAsync();
        Assert.False(await collection.CollectionExistsAsync());
    }

    [Fact]
    public async Task SearchIsExactTopKWithFiltersSkipAndThreshold()
    {
        using var collection = Open();
        var images = Enumerable.Range(0, 40).Select(Image).ToList();
        await collection.UpsertAsync(images);
        var query = Vector(1000);
        var expected = images.Select(i => (i.Path, Score: Cosine(query, i.Embedding.ToArray()), i.Width))
            .OrderByDescending(x => x.Score).ToList();

        var top = await collection.SearchAsync(query, 5).ToListAsync();
        Assert.Equal(expected.Take(5).Select(x => x.Path), top.Select(r => r.Record.Path));
        Assert.All(top.Zip(expected), p => Assert.Equal(p.Second.Score, p.First.Score!.Value, 5));

        var even = await collection.SearchAsync(new ReadOnlyMemory<float>(query), 5, new() { Filter = r => r.Path.Contains("/even/") && r.Width > 110 }).ToListAsync();
        Assert.Equal(expected.Where(x => x.Path.Contains("/even/") && x.Width > 110).Take(5).Select(x => x.Path), even.Select(r => r.Record.Path));

        var skipped = await collection.SearchAsync(new Embedding<float>(query), 5, new() { Skip = 3, IncludeVectors = true }).ToListAsync();
        Assert.Equal(expected.Skip(3).Take(5).Select(x => x.Path), skipped.Select(r => r.Record.Path));
        Assert.All(skipped, r => Assert.Equal(Dim, r.Record.Embedding.Length));

        double threshold = (expected[7].Score + expected[8].Score) / 2; // between two stored scores: float32 rounding cannot move one across
        var above = await collection.SearchAsync(query, 100, new() { ScoreThreshold = threshold }).ToListAsync();
        Assert.Equal(expected.Where(x => x.Score >= threshold).Select(x => x.Path), above.Select(r => r.Record.Path));

        var captioned = await collection.GetAsync(r => r.Caption != null && r.Caption.EndsWith('7'), 10,
            new FilteredRecordRetrievalOptions<IndexedImage> { OrderBy = o => o.Descending(r => r.Width) }).ToListAsync();
        Assert.Equal(images.Where(i => i.Caption?.EndsWith('7') == true).OrderByDescending(i => i.Width).Select(i => i.Path), captioned.Select(r => r.Path));
    }

    [Fact]
    public async Task WhatIsNotSupportedSaysSo()
    {
        using var collection = Open();
        await collection.UpsertAsync([Image(1), Image(2)]);
        var query = Vector(7);

        var onVector = await Assert.ThrowsAsync<NotSupportedException>(async () =>
            await collection.SearchAsync(query, 1, new() { Filter = r => r.Embedding.Length > 0 }).ToListAsync());
        Assert.Contains("Embedding", onVector.Message);
        await Assert.ThrowsAsync<NotSupportedException>(async () =>
            await collection.SearchAsync(query, 1, new() { VectorProperty = r => r.Caption }).ToListAsync());
        var text = await Assert.ThrowsAsync<NotSupportedException>(async () => await collection.SearchAsync("a red car", 1).ToListAsync());
        Assert.Contains("TextEmbeddingGenerator", text.Message);
        await Assert.ThrowsAsync<NotSupportedException>(async () => await collection.SearchAsync(42, 1).ToListAsync());

        // Bad records are refused with the key named; nothing of the batch is written.
        var wrongLength = await Assert.ThrowsAsync<ArgumentException>(() => collection.UpsertAsync([Image(3), new IndexedImage { Path = "/x.jpg", Embedding = new float[3] }]));
        Assert.Contains("/x.jpg", wrongLength.Message);
        Assert.Null(await collection.GetAsync(Image(3).Path));
        await Assert.ThrowsAsync<ArgumentException>(() => collection.UpsertAsync(new IndexedImage { Path = "/zero.jpg", Embedding = new float[Dim] }));
        await Assert.ThrowsAsync<ArgumentException>(async () => await collection.SearchAsync(new float[3], 1).ToListAsync());

        // Another model's collection over this index is refused.
        var other = Model with { Fingerprint = "fingerprint-2" };
        Assert.Throws<ModelMismatchException>(() =>
            new ImageIndexCollection(ImageIndex.Open(_dir["i.db"]), new ImageIndexCollectionOptions { Model = other, OwnsIndex = true }));
        // An index with no model yet and none given cannot take records.
        using var bare = new ImageIndexCollection(ImageIndex.Open(_dir["bare.db"], create: true), new ImageIndexCollectionOptions { OwnsIndex = true });
        Assert.Contains("records no model", (await Assert.ThrowsAsync<InvalidOperationException>(() => bare.UpsertAsync(Image(1)))).Message);
    }

    [Fact]
    public async Task AnIndexBuiltByTheIndexerSearchesAsTheEngineDoes()
    {
        for (int i = 0; i < 8; i++) _dir.Write($"p/{i}.bmp", TestBmp.Solid(4, 4, (byte)(30 * i), (byte)(255 - 30 * i), 90));
        using var encoder = new ToyColorEncoder(0);
        using (var index = ImageIndex.Open(_dir["toy.db"], create: true)) Indexer.Run(index, encoder, ToyColorEncoder.ModelName, [_dir["p"]]);
        using var engine = SearchEngine.Open(_dir["toy.db"], encoder);
        var texts = new ClipTextEmbeddingGenerator(encoder);
        using VectorStoreCollection<string, IndexedImage> collection = new ImageIndexCollection(ImageIndex.Open(_dir["toy.db"]),
            new ImageIndexCollectionOptions { TextEmbeddingGenerator = texts, OwnsIndex = true });

        Assert.True(await collection.CollectionExistsAsync());
        var viaCollection = await collection.SearchAsync("orange", 5).ToListAsync();
        var viaEngine = engine.Search(new SearchQuery { Text = "orange" }, 5);
        Assert.Equal(viaEngine.Select(h => h.Path), viaCollection.Select(r => r.Record.Path));
        Assert.All(viaEngine.Zip(viaCollection), p => Assert.Equal(p.First.Score, p.Second.Score!.Value, 4));

        // A record upserted for an existing file is stamped with its size, time and hash: the next indexing run keeps it.
        var path = viaEngine[0].Path;
        await collection.UpsertAsync(new IndexedImage { Path = path, Caption = "kept", Width = 4, Height = 4, Embedding = Enumerable.Repeat(1f, encoder.Dimension).ToArray() });
        using (var index = ImageIndex.Open(_dir["toy.db"])) Indexer.Run(index, encoder, ToyColorEncoder.ModelName, [_dir["p"]]);
        Assert.Equal("kept", (await collection.GetAsync(path))!.Caption);
        var metadata = collection.GetService(typeof(VectorStoreCollectionMetadata)) as VectorStoreCollectionMetadata;
        Assert.Equal(_dir["toy.db"], metadata?.CollectionName);
    }
}
