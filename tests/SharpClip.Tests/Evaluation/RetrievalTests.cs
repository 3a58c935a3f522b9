using System.Text.Json;
using SharpClip.Data;
using SharpClip.Evaluation;
using SharpClip.Pipelines;
using SharpClip.Tests.Infrastructure;
using SharpClip.Tests.Modeling;
using SharpClip.Tests.Scoring;
using SharpClip.Tests.Search;

namespace SharpClip.Tests.Evaluation;

public class RetrievalTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("sharpclip-retrieval-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void RecallOfHandBuiltEmbeddingsWithSeveralCaptionsPerImage()
    {
        // Images are the 4 axes (some scaled: only direction counts).
        float[] images = [1, 0, 0, 0, /**/ 0, 3, 0, 0, /**/ 0, 0, 1, 0, /**/ 0, 0, 0, 2];
        // T0→I0 exact; T1→I1 exact; T2 belongs to I2 but points at I3 (its image ties with I0, I1 at 0 → rank 3);
        // T3 belongs to I3, close to it but less than T2; T4 is I2's second caption, nearest I2.
        float[] texts = [1, 0, 0, 0, /**/ 0, 1, 0, 0, /**/ 0, 0, 0, 1, /**/ 0, 0, 0.1f, 0.99f, /**/ 0.5f, 0, 1, 0];
        int[] imageOfText = [0, 1, 2, 3, 2];
        var m = RetrievalMetrics.Compute(images, texts, 4, imageOfText, [1, 2, 4]);
        // text→image: T2 misses at ranks 1..3 and is found at 4.
        Assert.Equal(4.0 / 5, m.TextToImage[1], 12);
        Assert.Equal(4.0 / 5, m.TextToImage[2], 12);
        Assert.Equal(1.0, m.TextToImage[4], 12);
        // image→text: I0, I1 by their caption, I2 by its second caption (T4), I3's caption T3 is second after T2.
        Assert.Equal(3.0 / 4, m.ImageToText[1], 12);
        Assert.Equal(1.0, m.ImageToText[2], 12);
    }

    [Fact]
    public void TextPointingOutsideTheImagesIsRejected()
    {
        Assert.Throws<ArgumentException>(() => RetrievalMetrics.Compute([1, 0], [1, 0], 2, [1]));
    }

    [Trait("Category", "Fidelity")]
    [Theory, MemberData(nameof(RerankAndScoreTests.Models), MemberType = typeof(RerankAndScoreTests))]
    public void CliRecallAtOneMatchesTheReferenceFeatures(string id)
    {
        using var model = new ReferenceModel(id);
        var eval = model.Section("eval");
        var images = Fixtures.ImagePaths(eval);
        var captions = Fixtures.Strings(eval, "captions");
        // Caption j describes image j mod images (so images get one or more captions).
        var csv = Path.Combine(_dir, "pairs.csv");
        var rows = captions.Select((c, j) => (Image: j % images.Length, Caption: c)).OrderBy(r => r.Image).ToList();
        File.WriteAllLines(csv, ["image,caption", .. rows.Select(r => $"{images[r.Image]},\"{r.Caption.Replace("\"", "\"\"")}\"")]);

        using var imgF = model.Tensor("eval", "image_features");
        using var txtF = model.Tensor("eval", "text_features");
        int d = (int)imgF.shape[1];
        var txt = txtF.to(TorchSharp.torch.ScalarType.Float32).data<float>().ToArray();
        var reordered = rows.SelectMany(r => txt.AsSpan(Array.IndexOf(captions, r.Caption) * d, d).ToArray()).ToArray();
        var expected = RetrievalMetrics.Compute(imgF.to(TorchSharp.torch.ScalarType.Float32).data<float>().ToArray(), reordered, d, rows.Select(r => r.Image).ToList());

        var outDir = Path.Combine(_dir, "out");
        var (exit, _, err) = CliProcess.Run("eval", "retrieval", "--model", model.WeightsPath, "--vocab", Fixtures.VocabPath, "--data", csv, "--output", outDir);
        Assert.True(exit == 0, err);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "retrieval.json")));
        var r0 = doc.RootElement.GetProperty("results")[0];
        Assert.Equal(images.Length, r0.GetProperty("images").GetInt32());
        Assert.Equal(captions.Length, r0.GetProperty("texts").GetInt32());
        Assert.Equal(expected.TextToImage[1], r0.GetProperty("textToImage").GetProperty("R@1").GetDouble(), 9);
        Assert.Equal(expected.ImageToText[1], r0.GetProperty("imageToText").GetProperty("R@1").GetDouble(), 9);
        Assert.True(File.Exists(Path.Combine(outDir, "retrieval.md")));
    }
}
