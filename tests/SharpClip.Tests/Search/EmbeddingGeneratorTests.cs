using Microsoft.Extensions.AI;
using SharpClip.Search;
using SharpClip.Demos.Toy;

namespace SharpClip.Tests.Search;

/// <summary>SharpClip through Microsoft.Extensions.AI: store image embeddings, search them with a text embedding.</summary>
public class EmbeddingGeneratorTests
{
    [Fact]
    public async Task StoreImagesAndSearchByTextThroughIEmbeddingGenerator()
    {
        using var encoder = new ToyColorEncoder(0);
        IEmbeddingGenerator<DataContent, Embedding<float>> images = new ClipImageEmbeddingGenerator(encoder);
        IEmbeddingGenerator<string, Embedding<float>> texts = new ClipTextEmbeddingGenerator(encoder);

        var photos = new Dictionary<string, DataContent>
        {
            ["tomato"] = new(TestBmp.Solid(8, 8, 230, 40, 30), "image/bmp"),
            ["lawn"] = new(TestBmp.Solid(8, 8, 40, 170, 50), "image/bmp"),
            ["sea"] = new(TestBmp.Solid(8, 8, 20, 60, 230), "image/bmp"),
        };
        var stored = await images.GenerateAsync(photos.Values);
        Assert.Equal(3, stored.Count);
        // a minimal vector store: name -> vector, ranked by dot product (the vectors are unit length)
        var store = photos.Keys.Zip(stored, (name, e) => (name, vector: e.Vector.ToArray())).ToList();
        Assert.All(store, s => Assert.Equal(1.0, Math.Sqrt(s.vector.Sum(x => (double)x * x)), 5));

        foreach (var (query, expected) in new[] { ("something green", "lawn"), ("deep blue", "sea"), ("red", "tomato") })
        {
            var q = await texts.GenerateVectorAsync(query);
            var best = store.OrderByDescending(s => Vectors.Dot(s.vector, q.Span)).First().name;
            Assert.Equal(expected, best);
        }

        var meta = texts.GetService<EmbeddingGeneratorMetadata>()!;
        Assert.Equal((encoder.Dimension, encoder.Fingerprint), (meta.DefaultModelDimensions, meta.DefaultModelId));
        Assert.Same(encoder, texts.GetService<IImageTextEncoder>());
        await Assert.ThrowsAsync<NotSupportedException>(() => images.GenerateAsync([new DataContent(new byte[] { 1 }, "text/plain")]));
        await Assert.ThrowsAsync<NotSupportedException>(() => texts.GenerateAsync(["red"], new EmbeddingGenerationOptions { Dimensions = 3 }));
    }

    [Fact]
    public async Task GeneratorEmbeddingsSearchAnIndexLikeTheEngineDoes()
    {
        using var dir = new TempDir();
        for (int i = 0; i < 6; i++) dir.Write($"p/{i}.bmp", TestBmp.Solid(4, 4, (byte)(40 * i), (byte)(255 - 40 * i), 90));
        using var encoder = new ToyColorEncoder(0);
        using (var index = ImageIndex.Open(dir["i.db"], create: true)) Indexer.Run(index, encoder, ToyColorEncoder.ModelName, [dir["p"]]);
        using var engine = SearchEngine.Open(dir["i.db"], encoder);
        var generator = new ClipTextEmbeddingGenerator(encoder);
        var viaGenerator = engine.Search((await generator.GenerateVectorAsync("orange")).ToArray(), 6);
        var viaEngine = engine.Search(new SearchQuery { Text = "orange" }, 6);
        Assert.Equal(viaEngine.Select(h => h.Id), viaGenerator.Select(h => h.Id));
    }
}
