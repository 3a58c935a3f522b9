using SharpClip.Training;
using TorchSharp.Modules;

namespace SharpClip.Generation.Training;

/// <summary>
/// The data, optimisation and run fields every generative training config has (dVAE, DALL-E, latent diffusion), with
/// their own defaults per config. They are checked, and turned into the optimizer and the learning rate, once here.
/// </summary>
public interface IGenerativeRunSettings
{
    string Data { get; }
    int? Workers { get; }
    int BatchSize { get; }
    long Steps { get; }
    double LearningRate { get; }
    double MinLearningRate { get; }
    long WarmupSteps { get; }
    double WeightDecay { get; }
    double Beta1 { get; }
    double Beta2 { get; }
    double Epsilon { get; }
    double? MaxGradNorm { get; }
    string Output { get; }
    int SaveEvery { get; }
    int KeepCheckpoints { get; }
    int? Threads { get; }
}

/// <summary>What the shared fields mean: their checks, the AdamW they configure and the learning rate of a step.</summary>
public static class GenerativeRunSettings
{
    /// <summary>Checks the shared fields; each error names the snake_case field.</summary>
    public static void RequireRunSettings(this GenerativeConfigJson.Checker r, IGenerativeRunSettings c)
    {
        r.Require(!string.IsNullOrWhiteSpace(c.Data), nameof(c.Data), "no training data given");
        r.Require(c.Workers is null or > 0, nameof(c.Workers), "must be positive");
        r.Require(c.BatchSize > 0, nameof(c.BatchSize), "must be positive");
        r.Require(c.Steps > 0, nameof(c.Steps), "must be positive");
        r.Require(c.LearningRate > 0 && c.MinLearningRate >= 0 && c.MinLearningRate <= c.LearningRate, nameof(c.MinLearningRate), "must be in [0, learning_rate]");
        r.Require(c.WarmupSteps >= 0, nameof(c.WarmupSteps), "must not be negative");
        r.Require(c.WeightDecay >= 0, nameof(c.WeightDecay), "must not be negative");
        r.Require(c.Beta1 is >= 0 and < 1 && c.Beta2 is >= 0 and < 1, nameof(c.Beta2), "betas must be in [0, 1)");
        r.Require(c.Epsilon > 0, nameof(c.Epsilon), "must be positive");
        r.Require(c.MaxGradNorm is null or > 0, nameof(c.MaxGradNorm), "must be positive");
        r.Require(!string.IsNullOrWhiteSpace(c.Output), nameof(c.Output), "no output folder given");
        r.Require(c.SaveEvery >= 0, nameof(c.SaveEvery), "must not be negative");
        r.Require(c.KeepCheckpoints >= 1, nameof(c.KeepCheckpoints), "must be at least 1");
        r.Require(c.Threads is null or > 0, nameof(c.Threads), "must be positive");
    }

    /// <summary>AdamW over <paramref name="named"/>, weight decay only where <see cref="WeightDecayRule"/> puts it (not on gains, biases, embeddings).</summary>
    public static AdamWOptimizer Optimizer(this IGenerativeRunSettings c, IEnumerable<(string Name, Parameter Parameter)> named)
    {
        var (decay, noDecay) = WeightDecayRule.Split(named);
        return new AdamWOptimizer([new ParameterGroup("decay", decay, c.WeightDecay), new ParameterGroup("no_decay", noDecay, 0)], c.Beta1, c.Beta2, c.Epsilon);
    }

    /// <summary>The learning rate of <paramref name="step"/>: linear warm-up, then cosine down to the minimum.</summary>
    public static double LearningRateAt(this IGenerativeRunSettings c, long step, long totalSteps) =>
        LearningRateSchedule.WarmupCosine(step, totalSteps, c.WarmupSteps, c.LearningRate, c.MinLearningRate);
}
