using SharpClip.Evaluation;
using SharpClip.Modeling;
using SharpClip.Runtime;
using SharpClip.Tests.Data;
using SharpClip.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Tests.Training;

public class TrainingConfigTests
{
    [Theory]
    [InlineData("{ \"steps\": \"many\" }", "field 'steps' must be a whole number")]
    [InlineData("{ \"batch_size\": 12.5 }", "field 'batch_size' must be a whole number")]
    [InlineData("{ \"learning_rate\": \"fast\" }", "field 'learning_rate' must be a number")]
    [InlineData("{ \"freeze_image_tower\": 3 }", "field 'freeze_image_tower' must be true or false")]
    [InlineData("{ \"stepz\": 3 }", "unknown field 'stepz'")]
    public void AMalformedFieldIsNamedWithoutDotNetTypeNames(string json, string expected)
    {
        using var dir = new TempDir();
        var path = dir.File("bad.json", json);
        var e = Assert.Throws<InvalidDataException>(() => TrainingConfig.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain("System.", e.Message);
    }

    [Fact]
    public void JsonRoundTripsWithSnakeCaseNamesAndStringEnums()
    {
        var config = new TrainingConfig
        {
            Architecture = TrainingPresets.Tiny, Objective = ObjectiveKind.SigLip, Precision = Precision.BFloat16,
            MicroBatchSize = 16, Steps = 1234, MaxGradNorm = null, FreezeImageTower = true,
        };
        var json = config.ToJson();
        Assert.Contains("\"micro_batch_size\": 16", json);
        Assert.Contains("\"objective\": \"SigLip\"", json);
        Assert.Contains("\"precision\": \"BFloat16\"", json);
        Assert.Contains("\"vision_patch_size\": 8", json);

        using var dir = new TempDir();
        var back = TrainingConfig.Load(dir.File("c.json", json));
        Assert.Equal(config.ToJson(), back.ToJson());
        Assert.Equal(TrainingPresets.Tiny, back.Architecture);
    }

    [Fact]
    public void HandWrittenJsonIsReadCaseInsensitivelyWithComments()
    {
        using var dir = new TempDir();
        var path = dir.File("c.json", """
            {
              // train the tiny preset with SigLIP
              "model": "tiny", "objective": "siglip", "precision": "auto",
              "batch_size": 32, "steps": 10, "data": "synthetic:shapes:train",
            }
            """);
        var c = TrainingConfig.Load(path);
        Assert.Equal(ObjectiveKind.SigLip, c.Objective);
        Assert.Equal(Precision.Auto, c.Precision);
        Assert.Equal(32, c.BatchSize);
        Assert.Equal(10L, c.Steps);
        Assert.Equal(0.98, c.Beta2);   // untouched fields keep their defaults
    }

    [Fact]
    public void TheQuickstartConfigLoads()
    {
        var c = TrainingConfig.Load(Path.Combine(SharpClip.Tests.Infrastructure.Fixtures.RepoRoot, "examples", "train-tiny-shapes.json")).Validate();
        Assert.Equal("tiny", c.Model);
        Assert.Equal(32, SharpClip.Demos.Synthetic.SyntheticShapesSpec.SettingsIn(c.DataOptions)!.ImageSize);
    }

    [Fact]
    public void TheEmojiExampleIsTheQuickstartsRecipe()
    {
        var file = TrainingConfig.Load(Path.Combine(SharpClip.Tests.Infrastructure.Fixtures.RepoRoot, "examples", "train-emoji.json")).Validate();
        var recipe = TrainingRecipes.Emoji(file.Output).Validate();
        Assert.Equal(recipe.ToJson(), file.ToJson()); // every field, so a tuned recipe cannot drift from the documented command
    }

    [Fact]
    public void UnknownOrBadFieldsAreNamed()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<InvalidDataException>(() => TrainingConfig.Load(dir.File("a.json", """{ "batchsize": 32 }""")));
        Assert.Contains("batchsize", e.Message);
        Assert.Contains("a.json", e.Message);
        var bad = Assert.Throws<ArgumentException>(() => new TrainingConfig { BatchSize = 1 }.Validate());
        Assert.Contains("batch_size", bad.Message);
        Assert.Throws<ArgumentException>(() => new TrainingConfig { FreezeImageTower = true, FreezeTextTower = true }.Validate());
        Assert.Throws<ArgumentException>(() => TrainingPresets.Get("ViT-Z/99"));
        Assert.Equal(ClipPresets.VitB32, TrainingPresets.Get("ViT-B/32"));
    }

    [Fact]
    public void ARunAskedToEvaluateWithoutAnEvaluationFailsBeforeAnyWork()
    {
        using var dir = new TempDir();
        var config = new TrainingConfig { Output = Path.Combine(dir.Path, "run"), EvalData = "synthetic:shapes:validation" };
        var e = Assert.Throws<ArgumentException>(() => Trainer.Run(config));
        Assert.Contains("eval_data", e.Message);
        Assert.Contains("TrainingEvaluator.Create", e.Message);   // names the one call that gives today's evaluation
        Assert.False(Directory.Exists(config.Output), "nothing should be written before the refusal");
    }

    [Fact]
    public void StepAndEvaluationRecordsAreTheMetricsLogLines()
    {
        var step = new StepMetrics(Step: 7, TotalSteps: 20, Epoch: 1, Loss: 4.159117f, LearningRate: 1.7e-5, LogitScale: 14.1159,
            GradNorm: null, SamplesPerSecond: 83.0649, Elapsed: TimeSpan.FromSeconds(40.53149), Remaining: TimeSpan.FromSeconds(60));
        var line = step.ToJson();
        Assert.Equal(["step", "epoch", "loss", "lr", "logit_scale", "grad_norm", "samples_per_s", "elapsed_s"], line.Select(kv => kv.Key));
        Assert.Equal("""{"step":7,"epoch":1,"loss":4.159117,"lr":1.7E-05,"logit_scale":14.1159,"grad_norm":null,"samples_per_s":83.06,"elapsed_s":40.531}""",
            line.ToJsonString());

        var evaluation = new EvaluationFinished(20, 1, new Dictionary<string, double> { ["retrieval/image_to_text_r1"] = 0.5, ["zero_shot/shape"] = 0.25 });
        Assert.Equal("""{"step":20,"epoch":1,"eval":{"retrieval/image_to_text_r1":0.5,"zero_shot/shape":0.25}}""", evaluation.ToJson().ToJsonString());
    }

    [Fact]
    public void RetrievalRecallRanksBothWays()
    {
        using var scope = torch.NewDisposeScope();
        // Similarities (rows images, columns texts): image→text ranks of the own caption 0, 1, 1; text→image ranks 0, 2, 1.
        var images = torch.tensor(new float[] { 1, 0, 0, 1, 0.6f, 0.8f }, [3, 2]);
        var texts = torch.tensor(new float[] { 1, 0, 0.8f, 0.6f, 0, 1 }, [3, 2]);
        var r = TrainingEvaluator.RetrievalRecall(images, texts, [1, 2]);
        Assert.Equal(1 / 3.0, r["retrieval/image_to_text_r1"], 1e-12);
        Assert.Equal(1.0, r["retrieval/image_to_text_r2"], 1e-12);
        Assert.Equal(1 / 3.0, r["retrieval/text_to_image_r1"], 1e-12);
        Assert.Equal(2 / 3.0, r["retrieval/text_to_image_r2"], 1e-12);
    }

    [Fact]
    public void ObjectivesMatchTheirFormulas()
    {
        using var scope = torch.NewDisposeScope();
        var generator = new torch.Generator(9);
        var image = torch.randn([5, 4], generator: generator);
        var text = torch.randn([5, 4], generator: generator);
        var logitScale = torch.tensor(1.3f);
        var i = image.data<float>().ToArray();
        var t = text.data<float>().ToArray();
        double Norm(float[] a, int row) => Math.Sqrt(Enumerable.Range(0, 4).Sum(k => (double)a[row * 4 + k] * a[row * 4 + k]));
        double[,] logits = new double[5, 5];
        for (int a = 0; a < 5; a++)
            for (int b = 0; b < 5; b++)
                logits[a, b] = Math.Exp(1.3) * Enumerable.Range(0, 4).Sum(k => (double)i[a * 4 + k] * t[b * 4 + k]) / (Norm(i, a) * Norm(t, b));

        // CLIP: mean over both directions of −log softmax at the diagonal.
        double ce = 0;
        for (int a = 0; a < 5; a++)
        {
            double rowLse = Math.Log(Enumerable.Range(0, 5).Sum(b => Math.Exp(logits[a, b])));
            double colLse = Math.Log(Enumerable.Range(0, 5).Sum(b => Math.Exp(logits[b, a])));
            ce += (rowLse - logits[a, a]) + (colLse - logits[a, a]);
        }
        using var clip = ContrastiveObjective.Create(ObjectiveKind.Clip);
        Assert.Equal(ce / 10, clip.Loss(image, text, logitScale).item<float>(), 1e-5);

        // SigLIP: −Σ log σ(z·(logit + b)) / N with z = +1 on the diagonal, −1 elsewhere, b = −10 initially.
        double sig = 0;
        for (int a = 0; a < 5; a++)
            for (int b = 0; b < 5; b++)
            {
                double z = a == b ? 1 : -1, x = z * (logits[a, b] - 10);
                sig += -(x >= 0 ? -Math.Log(1 + Math.Exp(-x)) : x - Math.Log(1 + Math.Exp(x)));
            }
        using var siglip = ContrastiveObjective.Create(ObjectiveKind.SigLip);
        Assert.Equal(sig / 5, siglip.Loss(image, text, logitScale).item<float>(), 1e-4);
        Assert.Equal(Math.Log(10), siglip.InitialLogitScale, 12);
        Assert.Equal(Math.Log(1 / 0.07), clip.InitialLogitScale, 12);

        var tooBig = torch.tensor(7f);
        ContrastiveObjective.ClampLogitScale(tooBig);
        Assert.Equal(Math.Log(100), tooBig.item<float>(), 1e-5);
    }
}
