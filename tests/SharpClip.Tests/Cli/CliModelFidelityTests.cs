using SharpClip.Files;
using System.Text.Json;
using SharpClip.Checkpoints;
using SharpClip.Tests.Infrastructure;
using SharpClip.Tests.Modeling;
using SharpClip.Tests.Search;
using static TorchSharp.torch;

namespace SharpClip.Tests.Cli;

/// <summary>
/// The model verbs run as a user runs them (the real CLI in a child process) against every manifest model:
/// embeddings, zero-shot probabilities and logits must reproduce the reference's numbers.
/// </summary>
[Trait("Category", "Fidelity")]
public class CliModelFidelityTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("sharpclip-cli-").FullName;

    public static IEnumerable<object[]> Models => Fixtures.Ids("models");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory, MemberData(nameof(Models))]
    public void EmbedWritesTheReferenceFeatures(string id)
    {
        using var model = new ReferenceModel(id);
        var (images, texts) = EmbedEvalSection(model, model.WeightsPath, Path.Combine(_dir, "e.safetensors"));
        using var _i = images;
        using var _t = texts;
        using var expectedImages = model.Tensor("eval", "image_features");
        using var expectedTexts = model.Tensor("eval", "text_features");
        TensorAssert.Close(expectedImages, images, 1e-4, $"{id} image embeddings");
        TensorAssert.Close(expectedTexts, texts, 1e-4, $"{id} text embeddings");
    }

    /// <summary>
    /// <c>sharpclip embed --raw</c> of a model's eval images and captions with <paramref name="modelPath"/> (a weights
    /// file or any model folder); returns the raw image and text embeddings it wrote.
    /// </summary>
    internal static (Tensor Images, Tensor Texts) EmbedEvalSection(ReferenceModel model, string modelPath, string output)
    {
        var eval = model.Section("eval");
        var args = new List<string> { "embed", "--model", modelPath, "--vocab", Fixtures.VocabPath, "--raw", "--output", output };
        args.AddRange(Fixtures.ImagePaths(eval));
        foreach (var c in Fixtures.Strings(eval, "captions")) { args.Add("--text"); args.Add(c); }
        var (exit, _, err) = CliProcess.Run([.. args]);
        Assert.True(exit == 0, err);
        using var file = SafeTensorsFile.Open(output);
        return (file.ReadTensor("image_embeddings"), file.ReadTensor("text_embeddings"));
    }

    [Theory, MemberData(nameof(Models))]
    public void ClassifyGivesTheReferenceZeroShotProbabilities(string id)
    {
        using var model = new ReferenceModel(id);
        var zs = model.Section("zero_shot");
        var classes = zs.GetProperty("classnames").EnumerateArray().Select(c => c.GetString()!).ToArray();
        var labels = Path.Combine(_dir, "labels.txt");
        File.WriteAllLines(labels, classes);
        var templates = Path.Combine(_dir, "templates.json");
        File.WriteAllText(templates, zs.GetProperty("templates").GetRawText());
        var images = Fixtures.ImagePaths(model.Section("eval"));
        var (exit, stdout, err) = CliProcess.Run(["classify", "--model", model.WeightsPath, "--vocab", Fixtures.VocabPath,
            "--labels-file", labels, "--templates", templates, "--top", classes.Length.ToString(), "--json", .. images]);
        Assert.True(exit == 0, err);

        using var doc = JsonDocument.Parse(stdout);
        using var expected = model.Tensor("zero_shot", "probs"); // [B, C]
        var p = expected.data<float>().ToArray();
        var results = doc.RootElement.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(images.Length, results.Count);
        for (int i = 0; i < images.Length; i++)
        {
            Assert.Equal(images[i], results[i].GetProperty("file").GetString());
            foreach (var row in results[i].GetProperty("top").EnumerateArray())
            {
                int c = Array.IndexOf(classes, row.GetProperty("label").GetString());
                Assert.InRange(row.GetProperty("probability").GetSingle(), p[i * classes.Length + c] - 1e-4f, p[i * classes.Length + c] + 1e-4f);
            }
        }
    }

    [Theory, MemberData(nameof(Models))]
    public void SimilarityPrintsTheReferenceLogits(string id)
    {
        using var model = new ReferenceModel(id);
        var eval = model.Section("eval");
        var args = new List<string> { "similarity", "--model", model.WeightsPath, "--vocab", Fixtures.VocabPath, "--json" };
        foreach (var image in Fixtures.ImagePaths(eval)) { args.Add("--image"); args.Add(image); }
        foreach (var c in Fixtures.Strings(eval, "captions")) { args.Add("--text"); args.Add(c); }
        var (exit, stdout, err) = CliProcess.Run([.. args]);
        Assert.True(exit == 0, err);
        using var doc = JsonDocument.Parse(stdout);
        var rows = doc.RootElement.GetProperty("logits_per_image").EnumerateArray()
            .Select(r => r.EnumerateArray().Select(v => v.GetSingle()).ToArray()).ToArray();
        using var actual = tensor(rows.SelectMany(r => r).ToArray(), [rows.Length, rows[0].Length]);
        using var expected = model.Tensor("eval", "logits_per_image");
        TensorAssert.Close(expected, actual, 1e-3, $"{id} logits");
    }

    [Theory, MemberData(nameof(Models))]
    public void ConvertedFolderLoadsByNameAndEmbedsTheSame(string id)
    {
        using var model = new ReferenceModel(id);
        var folder = Path.Combine(_dir, "model");
        var (exit, _, err) = CliProcess.Run("convert", model.WeightsPath, folder, "--vocab", Fixtures.VocabPath);
        Assert.True(exit == 0, err);
        var (infoExit, info, infoErr) = CliProcess.Run("info", folder, "--json");
        Assert.True(infoExit == 0, infoErr);
        using (var doc = JsonDocument.Parse(info))
            Assert.Equal(model.Entry.GetProperty("param_count").GetInt64(), doc.RootElement.GetProperty("parameters").GetInt64());

        var caption = Fixtures.Strings(model.Section("eval"), "captions")[0];
        var output = Path.Combine(_dir, "t.safetensors");
        (exit, _, err) = CliProcess.Run("embed", "--model", folder, "--raw", "--output", output, "--text", caption); // vocabulary comes from the folder
        Assert.True(exit == 0, err);
        using var file = SafeTensorsFile.Open(output);
        using var text = file.ReadTensor("text_embeddings");
        using var expected = model.Tensor("eval", "text_features");
        TensorAssert.Close(expected.narrow(0, 0, 1), text, 1e-4, $"{id} text embedding via converted folder");
    }

    [Fact]
    public void BadImagesAreReportedSkippedAndSignalledInTheExitCode()
    {
        var id = Fixtures.Ids("models").First()[0].ToString()!;
        using var model = new ReferenceModel(id);
        var good = Fixtures.ImagePaths(model.Section("eval"))[0];
        var corrupt = Path.Combine(_dir, "corrupt.png");
        File.WriteAllBytes(corrupt, File.ReadAllBytes(good)[..40]);
        var output = Path.Combine(_dir, "e.jsonl");
        var (exit, _, err) = CliProcess.Run("embed", "--model", model.WeightsPath, "--output", output, good, corrupt);
        Assert.Equal(2, exit);
        Assert.Contains("corrupt.png", err);
        var lines = File.ReadAllLines(output);
        Assert.Single(lines);
        Assert.Contains(Path.GetFileName(good), lines[0]);
    }

    [Fact]
    public void AWrongFlagOrMissingModelGivesOneClearLine()
    {
        var (exit, _, err) = CliProcess.Run("embed", "--model", Path.Combine(_dir, "nope.safetensors"), "--output", Path.Combine(_dir, "x.npy"), "--text", "a");
        Assert.NotEqual(0, exit);
        Assert.Contains("nope.safetensors", err);
        Assert.DoesNotContain("   at ", err); // no stack trace
    }
}
