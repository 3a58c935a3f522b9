using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using SharpClip.Pipelines;
using SharpClip.Tests.Infrastructure;
using SharpClip.Tests.Modeling;

namespace SharpClip.Tests.Api;

/// <summary>
/// <c>services.AddSharpClip(path)</c> as an app uses it: everything through the Microsoft.Extensions.AI interfaces the
/// container hands out. A batch of N inputs is one forward pass (counted at the pipeline's forward seam), and gives what
/// N single calls give.
/// </summary>
public sealed class DependencyInjectionTests(ModelFolders folders) : IClassFixture<ModelFolders>
{
    static string FirstId => (string)ModelFolders.Ids.First()[0];

    static string[] EvalImages(string id)
    {
        using var reference = new ReferenceModel(id);
        return Fixtures.ImagePaths(reference.Section("eval"));
    }

    static void Close(ReadOnlyMemory<float> expected, ReadOnlyMemory<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        var e = expected.Span;
        var a = actual.Span;
        double worst = 0;
        for (int i = 0; i < e.Length; i++) worst = Math.Max(worst, Math.Abs((double)e[i] - a[i]));
        Assert.True(worst <= 1e-5, $"{what}: max diff {worst:E2}"); // unit vectors: batching changes only float32 rounding
    }

    /// <summary>Counts the forward passes of the model behind a container's <see cref="Clip"/>.</summary>
    static List<(string Tower, int Batch)> CountForwards(Clip clip)
    {
        var passes = new List<(string, int)>();
        clip.Pipeline.ForwardObserver = (tower, batch) => { lock (passes) passes.Add((tower, batch)); };
        return passes;
    }

    [Fact]
    public async Task TextsAreEmbeddedInOneForwardPassPerBatchAndEqualOneByOne()
    {
        using var provider = new ServiceCollection().AddSharpClip(folders.For(FirstId)).BuildServiceProvider();
        var generator = provider.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>();
        var passes = CountForwards(provider.GetRequiredService<Clip>());
        string[] texts = ["a photo of a cat", "a red bicycle leaning on a wall at night", "café & croissant", "🚀"];

        var batch = await generator.GenerateAsync(texts);
        Assert.Equal([("text", texts.Length)], passes);

        passes.Clear();
        for (int i = 0; i < texts.Length; i++)
            Close((await generator.GenerateAsync([texts[i]]))[0].Vector, batch[i].Vector, $"text {i}");
        Assert.Equal(texts.Length, passes.Count);

        var meta = generator.GetService<EmbeddingGeneratorMetadata>()!;
        Assert.Equal(provider.GetRequiredService<Clip>().Dimension, meta.DefaultModelDimensions);
        Assert.Equal(provider.GetRequiredService<Clip>().Fingerprint, meta.DefaultModelId);
    }

    [Fact]
    public async Task ImagesAreEmbeddedInOneForwardPassPerBatchAndEqualOneByOne()
    {
        var images = EvalImages(FirstId);
        using var provider = new ServiceCollection()
            .AddSharpClip(folders.For(FirstId), new ClipPipelineOptions { BatchSize = 4 })
            .BuildServiceProvider();
        var generator = provider.GetRequiredService<IEmbeddingGenerator<DataContent, Embedding<float>>>();
        var clip = provider.GetRequiredService<Clip>();
        var passes = CountForwards(clip);
        var contents = images.Select(p => new DataContent(File.ReadAllBytes(p), "image/" + Path.GetExtension(p).TrimStart('.')) { Name = p }).ToList();

        var batch = await generator.GenerateAsync(contents);
        // Batches of the configured size after a quarter batch (the model starts while the rest decode): about
        // N / 4 passes, not N.
        var expected = new List<(string, int)>();
        for (int start = 0, size = ClipPipeline.FirstBatchSize(4); start < images.Length; start += size, size = 4)
            expected.Add(("image", Math.Min(size, images.Length - start)));
        Assert.Equal(expected, passes);
        Assert.True(passes.Count <= images.Length / 4 + 2, $"{passes.Count} passes for {images.Length} images");

        passes.Clear();
        for (int i = 0; i < contents.Count; i++)
        {
            Close((await generator.GenerateAsync([contents[i]]))[0].Vector, batch[i].Vector, $"image {i}");
            Close(clip.EmbedImage(images[i]), batch[i].Vector, $"image {i} from its file");
        }
        Assert.Equal(2 * contents.Count, passes.Count);
    }

    [Fact]
    public async Task BadInputsAreNamedAndCancellationIsHonoured()
    {
        using var provider = new ServiceCollection().AddSharpClip(folders.For(FirstId)).BuildServiceProvider();
        var images = provider.GetRequiredService<IEmbeddingGenerator<DataContent, Embedding<float>>>();
        var texts = provider.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>();
        var good = new DataContent(File.ReadAllBytes(EvalImages(FirstId)[0]), "image/png") { Name = "good.png" };

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => images.GenerateAsync([good, new DataContent(new byte[] { 1, 2, 3 }, "image/jpeg") { Name = "upload-7.jpg" }]));
        Assert.StartsWith("upload-7.jpg", e.Message);
        e = await Assert.ThrowsAsync<InvalidDataException>(() => images.GenerateAsync([good, new DataContent(new byte[] { 1, 2, 3 }, "image/jpeg")]));
        Assert.StartsWith("image 1", e.Message);
        await Assert.ThrowsAsync<NotSupportedException>(() => images.GenerateAsync([new DataContent(new byte[] { 1 }, "text/plain")]));

        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        var passes = CountForwards(provider.GetRequiredService<Clip>());
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => texts.GenerateAsync(["a cat", "a dog"], cancellationToken: cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => images.GenerateAsync([good], cancellationToken: cancelled.Token));
        Assert.Empty(passes);
    }

    [Fact]
    public async Task TwoKeyedModelsLiveSideBySide()
    {
        var ids = ModelFolders.Ids.Select(r => (string)r[0]).Take(2).ToArray();
        Assert.Equal(2, ids.Length);
        var services = new ServiceCollection().AddKeyedSharpClip("a", folders.For(ids[0])).AddKeyedSharpClip("b", folders.For(ids[1]));
        await using var provider = services.BuildServiceProvider();
        Assert.Null(provider.GetService<Clip>()); // keyed only

        var (a, b) = (provider.GetRequiredKeyedService<Clip>("a"), provider.GetRequiredKeyedService<Clip>("b"));
        Assert.NotEqual(a.Fingerprint, b.Fingerprint);
        Assert.Same(a, provider.GetRequiredKeyedService<Clip>("a"));
        foreach (var (key, clip) in new[] { ("a", a), ("b", b) })
        {
            var generator = provider.GetRequiredKeyedService<IEmbeddingGenerator<string, Embedding<float>>>(key);
            Assert.Equal(clip.Fingerprint, generator.GetService<EmbeddingGeneratorMetadata>()!.DefaultModelId);
            Close(clip.EmbedText("a rocket"), (await generator.GenerateAsync(["a rocket"]))[0].Vector, $"model {key}");
            var images = provider.GetRequiredKeyedService<IEmbeddingGenerator<DataContent, Embedding<float>>>(key);
            Assert.Equal(clip.Dimension, images.GetService<EmbeddingGeneratorMetadata>()!.DefaultModelDimensions);
        }
    }

    [Fact]
    public void TheModelLoadsOnFirstUseAndIsDisposedWithTheContainer()
    {
        var services = new ServiceCollection().AddSharpClip("/no/such/model");
        using (var provider = services.BuildServiceProvider()) { } // registering and disposing never touch the file
        using var failing = services.BuildServiceProvider();
        Assert.Contains("/no/such/model", Assert.ThrowsAny<Exception>(() => failing.GetRequiredService<Clip>()).Message);

        Clip clip;
        using (var provider = new ServiceCollection().AddSharpClip(folders.For(FirstId)).BuildServiceProvider())
            clip = provider.GetRequiredService<Clip>();
        Assert.Throws<ObjectDisposedException>(() => clip.EmbedText("a cat"));
    }
}
