using SharpClip.Pipelines;
using SharpClip.Tests.Infrastructure;
using SharpClip.Tests.Modeling;
using TorchSharp;

namespace SharpClip.Tests.Api;

/// <summary>
/// The facade a .NET developer starts from (<see cref="Clip"/>): the README's "As a library" program, run the way it
/// is written on the fixture models, gives the reference's zero-shot probabilities; embeddings and similarities are
/// the reference's features and logits; unreadable files are named, not fatal for the others.
/// </summary>
[Trait("Category", "Fidelity")]
public sealed class ClipTests(ModelFolders folders) : IClassFixture<ModelFolders>
{
    public static IEnumerable<object[]> Models => ModelFolders.Ids;

    /// <summary>Float32 rows of a reference tensor.</summary>
    static float[][] Rows(torch.Tensor t)
    {
        using var f = t.to(torch.ScalarType.Float32);
        var flat = f.data<float>().ToArray();
        int width = (int)t.shape[1];
        return Enumerable.Range(0, (int)t.shape[0]).Select(i => flat.AsSpan(i * width, width).ToArray()).ToArray();
    }

    static float[] Unit(float[] v)
    {
        double n = Math.Sqrt(v.Sum(x => (double)x * x));
        return v.Select(x => (float)(x / n)).ToArray();
    }

    /// <summary>max|a − e| ≤ tolerance · max|e|, the fixtures' metric.</summary>
    static void Close(float[] expected, float[] actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = expected.Max(x => Math.Abs((double)x));
        double worst = expected.Zip(actual, (e, a) => Math.Abs((double)e - a)).Max();
        Assert.True(worst <= tolerance * scale, $"{what}: max diff {worst:E2} > {tolerance:E0} x {scale:F4}");
    }

    [Theory, MemberData(nameof(Models))]
    public void TheReadmeProgramPrintsTheReferenceZeroShotProbabilities(string id)
    {
        using var reference = new ReferenceModel(id);
        var zs = reference.Section("zero_shot");
        string[] labels = Fixtures.Strings(zs, "classnames");
        string[] templates = Fixtures.Strings(zs, "templates");
        var images = Fixtures.ImagePaths(reference.Section(zs.GetProperty("image_features_from").GetString()!.Split('.')[0]));
        using var probsTensor = reference.Tensor("zero_shot", "probs"); // [images, classes]
        var expected = Rows(probsTensor);

        // What the README's program does, with the fixture's labels and templates: load a folder, classify, print.
        using var clip = Clip.Load(folders.For(id));
        var results = clip.Classify(images, labels, templates, topK: labels.Length);

        Assert.Equal(images.Length, results.Count);
        for (int i = 0; i < images.Length; i++)
        {
            var r = results[i];
            Assert.True(r.Succeeded, r.Error);
            Assert.Equal((i, images[i]), (r.Index, r.Image));
            Assert.Equal(labels.Length, r.Top.Count);
            var ours = labels.Select(l => r.Top.Single(p => p.Label == l).Probability).ToArray();
            Close(expected[i], ours, 1e-4, $"{id} image {i} probabilities");
            Assert.Equal(labels[Array.IndexOf(expected[i], expected[i].Max())], r.Best!.Label);
            Assert.True(r.Top.Zip(r.Top.Skip(1)).All(p => p.First.Probability >= p.Second.Probability), "most probable first");
            // What the program prints: "file: label 93.1%, label 6.2%, ...", the reference's best label first.
            Assert.Matches($@"^{System.Text.RegularExpressions.Regex.Escape(images[i])}: {System.Text.RegularExpressions.Regex.Escape(r.Best.Label)} \d+\.\d%(, [^,]+ \d+\.\d%)*$", r.ToString());
        }
        // topK keeps the best k; the single-image overload agrees.
        var two = clip.Classify(images, labels, templates, topK: 2);
        Assert.All(two, r => Assert.Equal(2, r.Top.Count));
        var alone = clip.Classify(images[0], labels, templates, topK: 2); // a batch of one: the same up to float32 rounding
        Assert.Equal(results[0].Top.Take(2).Select(p => p.Label), alone.Select(p => p.Label));
        Close(results[0].Top.Take(2).Select(p => p.Probability).ToArray(), alone.Select(p => p.Probability).ToArray(), 1e-4, $"{id} image 0 alone");
    }

    [Fact]
    public void TheReadmeLibraryExampleIsShortAndUsesOnlyTheFacade()
    {
        var readme = File.ReadAllText(Path.Combine(Fixtures.RepoRoot, "README.md"));
        int section = readme.IndexOf("## As a library", StringComparison.Ordinal);
        Assert.True(section >= 0, "README has no '## As a library' section");
        int start = readme.IndexOf("```csharp\n", section, StringComparison.Ordinal) + "```csharp\n".Length;
        var block = readme[start..readme.IndexOf("```", start, StringComparison.Ordinal)].Split('\n');
        Assert.Equal("using SharpClip;", block[0].Trim());
        Assert.DoesNotContain(block, l => l.TrimStart().StartsWith("using SharpClip.", StringComparison.Ordinal) || l.Contains("TorchSharp"));
        int printed = Array.FindIndex(block, l => l.Contains("Console.WriteLine", StringComparison.Ordinal));
        Assert.InRange(printed + 1, 1, 8); // from `using` to the printed zero-shot labels
        Assert.Contains(block.Take(printed + 1), l => l.Contains("Clip.Load(args[0])", StringComparison.Ordinal));
        Assert.Contains(block.Take(printed + 1), l => l.Contains(".Classify(", StringComparison.Ordinal));
    }

    [Theory, MemberData(nameof(Models))]
    public void EmbeddingsAndSimilaritiesAreTheReferenceFeaturesAndLogits(string id)
    {
        using var reference = new ReferenceModel(id);
        var eval = reference.Section("eval");
        var images = Fixtures.ImagePaths(eval);
        var captions = Fixtures.Strings(eval, "captions");
        using var imageTensor = reference.Tensor("eval", "image_features");
        using var textTensor = reference.Tensor("eval", "text_features");
        using var logitTensor = reference.Tensor("eval", "logits_per_image");
        var imageFeatures = Rows(imageTensor).Select(Unit).ToArray();
        var textFeatures = Rows(textTensor).Select(Unit).ToArray();
        var logits = Rows(logitTensor);
        double scale = Math.Exp(reference.Entry.GetProperty("logit_scale").GetDouble());

        using var clip = Clip.Load(folders.For(id));
        Assert.Equal(imageFeatures[0].Length, clip.Dimension);
        var texts = clip.EmbedTexts(captions);
        var files = clip.EmbedImages(images);
        for (int j = 0; j < captions.Length; j++) Close(textFeatures[j], texts[j], 1e-4, $"{id} text {j}");
        for (int i = 0; i < images.Length; i++)
        {
            Assert.True(files[i].Succeeded, files[i].Error);
            Close(imageFeatures[i], files[i].Vector!, 1e-4, $"{id} image {i}");
            Close(imageFeatures[i], clip.EmbedImage(images[i]), 1e-4, $"{id} image {i} alone");
            var row = captions.Select((_, j) => (float)(scale * clip.Similarity(files[i].Vector!, texts[j]))).ToArray();
            Close(logits[i], row, 1e-3, $"{id} logits of image {i}");
        }
        Close(texts[0], clip.EmbedText(captions[0]), 1e-5, $"{id} one text");
    }

    [Fact]
    public async Task UnreadableImagesAreNamedAndTheOthersGoOn()
    {
        var id = (string)ModelFolders.Ids.First()[0];
        using var reference = new ReferenceModel(id);
        var good = Fixtures.ImagePaths(reference.Section("eval"))[0];
        using var tmp = new TempDir();
        var broken = tmp.File("broken.jpg", [0xFF, 0xD8, 0xFF, 0x00, 0x01]);
        var missing = tmp.File("missing.png");
        using var clip = Clip.Load(folders.For(id));

        var embedded = clip.EmbedImages([broken, good, missing]);
        Assert.Equal([false, true, false], embedded.Select(r => r.Succeeded));
        Assert.StartsWith(broken, embedded[0].Error);
        Assert.Contains(missing, embedded[2].Error);

        var classified = clip.Classify([broken, good], ["cat", "rocket"]);
        Assert.False(classified[0].Succeeded);
        Assert.Empty(classified[0].Top);
        Assert.StartsWith(broken, classified[0].Error);
        Assert.Equal($"{broken}: unreadable ({classified[0].Error})", classified[0].ToString());
        Assert.True(classified[1].Succeeded);

        Assert.StartsWith(broken, Assert.ThrowsAny<IOException>(() => clip.EmbedImage(broken)).Message);
        Assert.StartsWith(missing, Assert.ThrowsAny<IOException>(() => clip.EmbedImage(missing)).Message);
        Assert.StartsWith(missing, (await Assert.ThrowsAnyAsync<IOException>(() => clip.EmbedImageAsync(missing))).Message);
        Assert.StartsWith(broken, Assert.ThrowsAny<IOException>(() => clip.Classify(broken, ["cat", "rocket"])).Message);
        Assert.Throws<ArgumentException>(() => clip.Classify([good], []));
        Assert.Throws<ArgumentException>(() => clip.Classify([good], ["cat"], ["no placeholder"]));

        var reranked = clip.Rerank("a cat", [broken, good]);
        Assert.Equal(good, Assert.Single(reranked.Ranked).Source);
        Assert.Equal(broken, Assert.Single(reranked.Failed).Source);
    }

    [Fact]
    public async Task AsyncOverloadsGiveTheSameResultsAndHonourCancellation()
    {
        var id = (string)ModelFolders.Ids.First()[0];
        using var reference = new ReferenceModel(id);
        var images = Fixtures.ImagePaths(reference.Section("eval"));
        using var clip = await Clip.LoadAsync(folders.For(id));

        Assert.Equal(clip.EmbedImage(images[0]), await clip.EmbedImageAsync(images[0]));
        Assert.Equal(clip.EmbedImages(images).Select(r => r.Vector), (await clip.EmbedImagesAsync(images)).Select(r => r.Vector));
        var sync = clip.Classify(images, ["cat", "rocket", "bicycle"]);
        var async = await clip.ClassifyAsync(images, ["cat", "rocket", "bicycle"]);
        Assert.Equal(sync.Select(r => r.ToString()), async.Select(r => r.ToString()));
        var ranked = await clip.RerankAsync("a photo of a cat", images, top: 3);
        Assert.Equal(clip.Rerank("a photo of a cat", images, top: 3).Ranked, ranked.Ranked);
        // Best first, by the facade's own similarity.
        var text = clip.EmbedText("a photo of a cat");
        var bySimilarity = images.OrderByDescending(p => clip.Similarity(text, clip.EmbedImage(p))).Take(3);
        Assert.Equal(bySimilarity, ranked.Ranked.Select(r => r.Source));

        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => clip.EmbedImageAsync(images[0], cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => clip.ClassifyAsync(images, ["cat"], cancellationToken: cancelled.Token));
        Assert.ThrowsAny<OperationCanceledException>(() => clip.EmbedImages(images, cancelled.Token));
    }

    [Fact]
    public void TensorsStayReachableThroughThePipeline()
    {
        var id = (string)ModelFolders.Ids.First()[0];
        using var clip = Clip.Load(folders.For(id), new ClipPipelineOptions { BatchSize = 4 });
        Assert.Equal(4, clip.Pipeline.Options.BatchSize);
        using var texts = clip.Pipeline.EmbedTexts(["a cat", "a dog"]); // [2, D]
        Assert.Equal([2L, clip.Dimension], texts.shape);
        Close(texts.data<float>().ToArray()[..clip.Dimension], clip.EmbedText("a cat"), 1e-5, "the first row is the text alone");
        Assert.Equal(clip.Pipeline.Fingerprint, clip.Fingerprint);
    }
}
