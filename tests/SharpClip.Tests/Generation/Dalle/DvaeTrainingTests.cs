using SharpClip.Generation.Dalle;
using SharpClip.Generation.Dalle.Dvae;
using SharpClip.Generation.Dalle.Training;
using SharpClip.Tests.Training;
using SharpClip.Training;
using TorchSharp;
using static TorchSharp.torch;
using SharpClip.Generation.Training;

namespace SharpClip.Tests.Generation.Dalle;

/// <summary>dVAE training: each loss piece against its formula evaluated here in doubles, the schedules, learning, determinism, resume.</summary>
public class DvaeObjectiveTests
{
    [Fact]
    public void LogitLaplaceNllIsThePapersDensity()
    {
        var gen = new torch.Generator(7);
        using var output = torch.randn([2, 6, 3, 4], generator: gen);
        using var image = torch.rand([2, 3, 3, 4], generator: gen);
        using var loss = DvaeObjective.Reconstruction(output, image, ReconstructionLoss.LogitLaplace);
        var o = output.data<float>().ToArray();
        var x = image.data<float>().ToArray();
        double sum = 0;
        int n = 0;
        for (int b = 0; b < 2; b++)
            for (int c = 0; c < 3; c++)
                for (int p = 0; p < 12; p++)
                {
                    double xm = 0.8 * x[(b * 3 + c) * 12 + p] + 0.1;      // map_pixels
                    double mu = o[(b * 6 + c) * 12 + p], lnB = o[(b * 6 + 3 + c) * 12 + p], scale = Math.Exp(lnB);
                    // density f(x) = exp(−|logit x − μ| / b) / (2 b x (1 − x))
                    double density = Math.Exp(-Math.Abs(Math.Log(xm / (1 - xm)) - mu) / scale) / (2 * scale * xm * (1 - xm));
                    sum += -Math.Log(density);
                    n++;
                }
        Assert.Equal(sum / n, loss.item<float>(), 4);
    }

    [Fact]
    public void L1AndL2CompareTheUnmappedSigmoidMeans()
    {
        var gen = new torch.Generator(8);
        using var output = torch.randn([1, 6, 2, 2], generator: gen);
        using var image = torch.rand([1, 3, 2, 2], generator: gen);
        var o = output.data<float>().ToArray();
        var x = image.data<float>().ToArray();
        double l1 = 0, l2 = 0;
        for (int i = 0; i < 12; i++)
        {
            double mean = Math.Clamp((1 / (1 + Math.Exp(-o[i])) - 0.1) / 0.8, 0, 1);
            l1 += Math.Abs(mean - x[i]) / 12;
            l2 += (mean - x[i]) * (mean - x[i]) / 12;
        }
        using var a = DvaeObjective.Reconstruction(output, image, ReconstructionLoss.L1);
        using var b = DvaeObjective.Reconstruction(output, image, ReconstructionLoss.L2);
        Assert.Equal(l1, a.item<float>(), 5);
        Assert.Equal(l2, b.item<float>(), 5);
    }

    [Fact]
    public void KlToTheUniformPriorSumsOverTokensPerSubpixel()
    {
        using var logits = torch.randn([2, 5, 2, 3], generator: new torch.Generator(9));
        var l = logits.data<float>().ToArray();
        double kl = 0;
        for (int b = 0; b < 2; b++)
            for (int p = 0; p < 6; p++)
            {
                var row = Enumerable.Range(0, 5).Select(k => (double)l[(b * 5 + k) * 6 + p]).ToArray();
                double z = row.Sum(Math.Exp);
                foreach (var v in row) { double q = Math.Exp(v) / z; kl += q * Math.Log(q / (1.0 / 5)); }
            }
        using var got = DvaeObjective.KlToUniform(logits, 1000);
        Assert.Equal(kl / 1000, got.item<float>(), 6);
        using var uniform = DvaeObjective.KlToUniform(torch.zeros(2, 5, 2, 3), 10);
        Assert.Equal(0, uniform.item<float>(), 6);
    }

    [Fact]
    public void GumbelSoftmaxIsSoftmaxOfPerturbedLogitsOverTheTemperature()
    {
        using var logits = torch.randn([1, 4, 1, 2], generator: new torch.Generator(10));
        using var soft = DvaeObjective.GumbelSoftmax(logits, 0.5, new torch.Generator(11));
        using var u = torch.rand([1, 4, 1, 2], generator: new torch.Generator(11));   // the same draw, by seed
        var l = logits.data<float>().ToArray();
        var uu = u.data<float>().ToArray();
        var s = soft.data<float>().ToArray();
        for (int p = 0; p < 2; p++)
        {
            var y = Enumerable.Range(0, 4).Select(k => (l[k * 2 + p] - Math.Log(-Math.Log(uu[k * 2 + p]))) / 0.5).ToArray();
            double z = y.Sum(Math.Exp);
            for (int k = 0; k < 4; k++) Assert.Equal(Math.Exp(y[k]) / z, s[k * 2 + p], 5);
        }
        using var hard = DvaeObjective.GumbelSoftmax(logits, 0.5, new torch.Generator(11), hard: true);
        Assert.Equal(soft.argmax(1).data<long>().ToArray(), hard.argmax(1).data<long>().ToArray());
        Assert.Equal(2.0, hard.sum().item<float>(), 5);
        Assert.True(hard.eq(0).logical_or(hard.eq(1)).all().item<bool>());
    }

    [Fact]
    public void SchedulesFollowThePaper()
    {
        // The paper's cosine from 1 to 1/16, evaluated here in doubles at every step and past the end.
        for (long step = 0; step <= 1200; step++)
        {
            double expected = step >= 1000 ? 1.0 / 16 : 1.0 / 16 + (1 - 1.0 / 16) * (1 + Math.Cos(Math.PI * step / 1000.0)) / 2;
            Assert.Equal(expected, DvaeSchedules.Temperature(step, 1000), 12);
        }
        Assert.Equal(1.0, DvaeSchedules.Temperature(0, 1000), 12);
        Assert.Equal((1 + 1.0 / 16) / 2, DvaeSchedules.Temperature(500, 1000), 12);   // half way between, not the geometric mean
        Assert.Equal(2.0 - (2.0 - 0.5) * (1 - Math.Sqrt(0.5)) / 2, DvaeSchedules.Temperature(250, 1000, start: 2.0, end: 0.5), 12);   // cos(π/4) = √½
        // The exponential alternative: the same factor every step.
        for (long step = 0; step <= 1200; step += 7)
        {
            double expected = step >= 1000 ? 1.0 / 16 : Math.Pow(1.0 / 16, step / 1000.0);
            Assert.Equal(expected, DvaeSchedules.Temperature(step, 1000, shape: TemperatureShape.Exponential), 12);
        }
        Assert.Equal(0.25, DvaeSchedules.Temperature(500, 1000, shape: TemperatureShape.Exponential), 12);   // the geometric mean of 1 and 1/16
        Assert.Equal(0.0, DvaeSchedules.KlWeight(0, 100, 6.6), 12);
        Assert.Equal(3.3, DvaeSchedules.KlWeight(50, 100, 6.6), 12);
        Assert.Equal(6.6, DvaeSchedules.KlWeight(100, 100, 6.6), 12);
        Assert.Equal(6.6 * (1 - Math.Cos(Math.PI / 4)) / 2, DvaeSchedules.KlWeight(25, 100, 6.6), 12);
    }

    [Fact]
    public void CodebookUsageCountsPerplexityAndDeadCodes()
    {
        var usage = new CodebookUsage(4, window: 2);
        Assert.Equal(2.0, usage.Observe(torch.tensor(new long[] { 0, 1, 0, 1 }), 1), 9);   // two codes equally used
        Assert.Equal(1.0, usage.Observe(torch.tensor(new long[] { 0, 0 }), 2), 9);
        Assert.Equal(Math.Exp(-(0.75 * Math.Log(0.75) + 0.25 * Math.Log(0.25))), usage.Observe(torch.tensor(new long[] { 0, 0, 0, 3 }), 3), 9);
        Assert.Equal(2, usage.DeadCodes(3));      // at step 3: code 1 is 2 steps old, code 2 never used; 0 and 3 used now
        Assert.Equal(4, usage.DeadCodes(5));      // nothing used in steps 4-5
        Assert.Equal(0, new CodebookUsage(4, window: 10).DeadCodes(3));   // no full window yet
    }
}

[Collection(TrainerRunsCollection.Name)]
public class DvaeTrainerTests
{
    internal static string Config(TempDir dir, string name, int steps, string extra = "") => Cli.TinyDalleFolder.DvaeConfig(dir, name, steps, extra);

    [Fact]
    public void OneStepReducesTheLossOnATinyBatch()
    {
        torch.manual_seed(3);
        using var model = new TrainableDvae(new DvaeEncoderConfig(3, 16, 1, 3, 32), new DvaeDecoderConfig(3, 16, 16, 1, 3, 32));
        using var optimizer = new AdamWOptimizer([new ParameterGroup("all", model.named_parameters().Select(p => (p.name, p.parameter)).ToList(), 0)], 0.9, 0.999, 1e-8);
        using var images = torch.rand([4, 3, 16, 16], generator: new torch.Generator(4));
        double Loss(bool step)
        {
            using var scope = torch.NewDisposeScope();
            var f = model.Forward(images, 1.0, new torch.Generator(5), hard: false);
            var loss = DvaeObjective.Reconstruction(f.Output, images, ReconstructionLoss.LogitLaplace)
                .add(DvaeObjective.KlToUniform(f.Logits, images.numel()));
            if (step)
            {
                optimizer.ZeroGrad();
                loss.backward();
                optimizer.Step(1e-3);
            }
            return loss.item<float>();
        }
        double before = Loss(step: true);
        double after = Loss(step: false);
        Assert.True(after < before, $"loss {before} → {after}");
    }

    [Fact]
    public void TrainsIsSeedDeterministicResumesIdenticallyAndLoadsAsADiscreteVae()
    {
        using var dir = new TempDir();
        var full = DvaeTrainer.Run(DvaeTrainingConfig.Load(DvaeTrainerTests.Config(dir, "full", 6)));
        var again = DvaeTrainer.Run(DvaeTrainingConfig.Load(DvaeTrainerTests.Config(dir, "again", 6)));
        Assert.Equal(full.Losses, again.Losses);                                  // same seed, same run

        // Stopped after step 4 (a checkpoint at 3 and one at the interruption), then resumed to 6.
        using var cts = new CancellationTokenSource();
        var stopped = DvaeTrainer.Run(DvaeTrainingConfig.Load(DvaeTrainerTests.Config(dir, "split", 6)),
            new SyncProgress(e => { if (e is GenerativeStepFinished { Metrics.Step: 4 }) cts.Cancel(); }), cts.Token);
        Assert.True(stopped.Interrupted);
        Assert.Equal(4, stopped.Step);
        var resumed = DvaeTrainer.Run(DvaeTrainingConfig.Load(DvaeTrainerTests.Config(dir, "split", 6)) with { Resume = true });
        Assert.Equal(full.Losses.Skip(4), resumed.Losses);
        var log = MetricsLog.Read(Path.Combine(dir.Path, "split", MetricsLog.FileName));
        Assert.Equal([1L, 2, 3, 4, 5, 6], log.Select(r => (long)r["step"]!));
        Assert.All(log, r => Assert.True((double)r["perplexity"]! >= 1 && (double)r["temperature"]! <= 1));

        using var dvae = DiscreteVae.Load(Path.Combine(dir.Path, "split"));
        Assert.Equal(32, dvae.VocabSize);
        using var codes = dvae.Encode(torch.rand([1, 3, 16, 16]));
        Assert.Equal([1L, 4, 4], codes.Tokens.shape);
    }
}
