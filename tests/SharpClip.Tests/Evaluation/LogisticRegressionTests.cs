using System.Text.Json;
using SharpClip.Evaluation;
using SharpClip.Tests.Infrastructure;

namespace SharpClip.Tests.Evaluation;

/// <summary>
/// The probe's solver against scikit-learn's LogisticRegression(lbfgs, multinomial) on seeded synthetic features;
/// the reference file is made by data/make_logreg_reference.py (how to regenerate is in the script).
/// </summary>
public class LogisticRegressionTests
{
    static readonly Lazy<JsonDocument> Reference = new(() => JsonDocument.Parse(File.ReadAllText(
        Path.Combine(Fixtures.RepoRoot, "tests", "SharpClip.Tests", "Evaluation", "data", "logreg_reference.json"))));

    static (float[] X, int[] Y) Split(string name)
    {
        var root = Reference.Value.RootElement;
        var x = root.GetProperty($"x_{name}").EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => (float)v.GetDouble())).ToArray();
        var y = root.GetProperty($"y_{name}").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        return (x, y);
    }

    public static IEnumerable<object[]> Cs => Reference.Value.RootElement.GetProperty("fits").EnumerateArray()
        .Select(f => new object[] { f.GetProperty("C").GetDouble() });

    [Theory, MemberData(nameof(Cs))]
    public void AgreesWithScikitLearnWithinHalfAPoint(double c)
    {
        var root = Reference.Value.RootElement;
        var fit = root.GetProperty("fits").EnumerateArray().Single(f => f.GetProperty("C").GetDouble() == c);
        var (xTrain, yTrain) = Split("train");
        var (xTest, yTest) = Split("test");
        var model = LogisticRegression.Fit(xTrain, yTrain, root.GetProperty("classes").GetInt32(), c);
        double sklearnAccuracy = fit.GetProperty("test_accuracy").GetDouble();
        Assert.InRange(model.Accuracy(xTest, yTest), sklearnAccuracy - 0.005, sklearnAccuracy + 0.005);
        // Same objective, same optimum: ours is as low as scikit-learn's (to solver precision).
        double objective = fit.GetProperty("objective").GetDouble();
        Assert.True(model.Objective <= objective * (1 + 1e-6) + 1e-9, $"C={c}: objective {model.Objective} vs scikit-learn {objective}");
        Assert.True(model.Objective >= objective * (1 - 1e-4), $"C={c}: objective {model.Objective} below scikit-learn's {objective}?");
    }

    [Fact]
    public void SeparableClassesAreLearned()
    {
        // Two clusters per class on opposite axes: any sensible fit gets them all right.
        float[] x = [3, 0, 0, 3, 4, 1, -3, 0, 0, -3, -4, -1, 0, 0.1f];
        int[] y = [0, 1, 0, 2, 3, 2, 0];
        var model = LogisticRegression.Fit(x, y, 4, 100);
        Assert.Equal(y[..6], model.Predict(x.AsSpan(0, 12)));
    }

    [Fact]
    public void WarmStartFromASmallerCConvergesAsACold()
    {
        // Strong regularisation, unit-norm features (as CLIP's) and unequal classes: the sweep's warm start sits one
        // decade away along the weights' direction with the intercepts already right, so the remaining steps are tiny.
        // The solver must still keep its curvature pairs and finish, not crawl to the iteration cap.
        var rng = new Random(11);
        int n = 80, d = 64, k = 5;
        var x = new float[n * d];
        var y = new int[n];
        for (int i = 0; i < n; i++)
        {
            y[i] = i < 20 ? 0 : i < 36 ? 1 : i < 50 ? 2 : i < 66 ? 3 : 4;
            double norm = 0;
            for (int j = 0; j < d; j++) { x[i * d + j] = (float)(rng.NextDouble() - 0.5 + (j == y[i] ? 0.3 : 0)); norm += x[i * d + j] * x[i * d + j]; }
            for (int j = 0; j < d; j++) x[i * d + j] /= (float)Math.Sqrt(norm);
        }
        var previous = LogisticRegression.Fit(x, y, k, 1e-6);
        foreach (var c in new[] { 1e-5, 1e-4 })
        {
            var cold = LogisticRegression.Fit(x, y, k, c);
            var warm = LogisticRegression.Fit(x, y, k, c, warmStart: previous.Weights);
            Assert.True(warm.Iterations < 100, $"C={c}: warm start took {warm.Iterations} iterations (cold {cold.Iterations})");
            Assert.Equal(cold.Objective, warm.Objective, cold.Objective * 1e-9);
            previous = warm;
        }
    }
}
