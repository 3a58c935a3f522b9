using System.Numerics;
using System.Runtime.InteropServices;

namespace SharpClip.Evaluation;

/// <summary>
/// Multinomial logistic regression with an L2 penalty on the weights (not the intercepts), fitted by L-BFGS: the
/// linear probe of the CLIP paper, which used scikit-learn's <c>LogisticRegression</c>. The objective is
/// scikit-learn's, <c>C · Σᵢ −log softmax(W xᵢ + b)[yᵢ] + ½‖W‖²</c>, minimised here in the equivalent form divided by
/// C·n (better conditioned). Convex, so L-BFGS with a backtracking line search reaches the unique optimum.
/// </summary>
public sealed class LogisticRegression
{
    LogisticRegression(double[] weights, int classes, int features, double c, int iterations, double objective)
    {
        Weights = weights;
        ClassCount = classes;
        FeatureCount = features;
        C = c;
        Iterations = iterations;
        Objective = objective;
    }

    /// <summary>[classes, features + 1] row-major: per class the weights, then the intercept.</summary>
    public double[] Weights { get; }
    public int ClassCount { get; }
    public int FeatureCount { get; }

    /// <summary>Inverse regularisation strength (scikit-learn's C).</summary>
    public double C { get; }
    public int Iterations { get; }

    /// <summary>scikit-learn's objective at the solution: C·(summed cross-entropy) + ½‖W‖².</summary>
    public double Objective { get; }

    /// <summary>
    /// Fits on <paramref name="x"/> ([n, d] row-major) and labels in 0..classes−1. <paramref name="warmStart"/> (a
    /// previous fit's <see cref="Weights"/>) speeds up a sweep over C.
    /// </summary>
    public static LogisticRegression Fit(ReadOnlySpan<float> x, IReadOnlyList<int> y, int classes, double c,
        int maxIterations = 1000, double tolerance = 1e-6, double[]? warmStart = null, CancellationToken cancellationToken = default)
    {
        int n = y.Count;
        if (n == 0) throw new ArgumentException("no training samples");
        if (x.Length % n != 0) throw new ArgumentException($"{x.Length} feature values for {n} samples");
        if (c <= 0 || double.IsNaN(c)) throw new ArgumentOutOfRangeException(nameof(c), c, "C must be positive");
        int d = x.Length / n, p = d + 1;
        foreach (var label in y) if (label < 0 || label >= classes) throw new ArgumentException($"label {label} outside 0..{classes - 1}");
        var xs = new double[x.Length]; // widened once: the loss then runs on SIMD double lanes
        for (int i = 0; i < xs.Length; i++) xs[i] = x[i];
        var labels = y.ToArray();
        double lambda = 1.0 / (c * n); // penalty weight after dividing the objective by C·n
        var w = warmStart is { } ws && ws.Length == classes * p ? (double[])ws.Clone() : new double[classes * p];

        double Evaluate(double[] wt, double[] grad) => LossAndGradient(xs, labels, n, d, classes, wt, grad, lambda);

        int iterations = Lbfgs.Minimize(Evaluate, w, maxIterations, tolerance, cancellationToken);
        double mean = Evaluate(w, new double[w.Length]);
        return new LogisticRegression(w, classes, d, c, iterations, mean * c * n);
    }

    /// <summary>Mean cross-entropy + λ/2‖W‖² and its gradient (intercepts unpenalised).</summary>
    static double LossAndGradient(double[] x, int[] y, int n, int d, int k, double[] w, double[] grad, double lambda)
    {
        int p = d + 1;
        int chunks = Math.Min(Environment.ProcessorCount * 4, Math.Max(1, n / 64));
        var partialGrad = new double[chunks][];
        var partialLoss = new double[chunks];
        Parallel.For(0, chunks, ch =>
        {
            var g = new double[k * p];
            var z = new double[k];
            double loss = 0;
            int from = (int)((long)n * ch / chunks), to = (int)((long)n * (ch + 1) / chunks);
            for (int i = from; i < to; i++)
            {
                var xi = x.AsSpan(i * d, d);
                double max = double.NegativeInfinity;
                for (int c = 0; c < k; c++)
                {
                    double s = w[c * p + d] + Dot(w.AsSpan(c * p, d), xi);
                    z[c] = s;
                    if (s > max) max = s;
                }
                double sum = 0;
                for (int c = 0; c < k; c++) { z[c] = Math.Exp(z[c] - max); sum += z[c]; }
                loss += Math.Log(sum) + max - (Math.Log(z[y[i]]) + max);
                for (int c = 0; c < k; c++)
                {
                    double r = z[c] / sum - (c == y[i] ? 1 : 0);
                    if (r == 0) continue;
                    Axpy(r, xi, g.AsSpan(c * p, d));
                    g[c * p + d] += r;
                }
            }
            partialGrad[ch] = g;
            partialLoss[ch] = loss;
        });
        Array.Clear(grad);
        double total = 0;
        for (int ch = 0; ch < chunks; ch++)
        {
            total += partialLoss[ch];
            for (int t = 0; t < grad.Length; t++) grad[t] += partialGrad[ch][t];
        }
        double penalty = 0;
        for (int t = 0; t < grad.Length; t++)
        {
            grad[t] /= n;
            if (t % p != d) { grad[t] += lambda * w[t]; penalty += w[t] * w[t]; }
        }
        return total / n + 0.5 * lambda * penalty;
    }

    /// <summary>Σ a[j]·b[j], a SIMD vector at a time.</summary>
    static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        var va = MemoryMarshal.Cast<double, Vector<double>>(a);
        var vb = MemoryMarshal.Cast<double, Vector<double>>(b);
        var acc = Vector<double>.Zero;
        for (int i = 0; i < va.Length; i++) acc += va[i] * vb[i];
        double sum = Vector.Sum(acc);
        for (int i = va.Length * Vector<double>.Count; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }

    /// <summary>y[j] += a·x[j], a SIMD vector at a time.</summary>
    static void Axpy(double a, ReadOnlySpan<double> x, Span<double> y)
    {
        var vx = MemoryMarshal.Cast<double, Vector<double>>(x);
        var vy = MemoryMarshal.Cast<double, Vector<double>>(y);
        var va = new Vector<double>(a);
        for (int i = 0; i < vx.Length; i++) vy[i] += va * vx[i];
        for (int i = vx.Length * Vector<double>.Count; i < x.Length; i++) y[i] += a * x[i];
    }

    /// <summary>Class scores [n, classes] (logits) for <paramref name="x"/> ([n, d] row-major).</summary>
    public float[] Decision(ReadOnlySpan<float> x)
    {
        int d = FeatureCount, p = d + 1, n = x.Length / d;
        var scores = new float[n * ClassCount];
        for (int i = 0; i < n; i++)
        {
            var xi = x.Slice(i * d, d);
            for (int c = 0; c < ClassCount; c++)
            {
                double s = Weights[c * p + d];
                for (int j = 0; j < d; j++) s += Weights[c * p + j] * xi[j];
                scores[i * ClassCount + c] = (float)s;
            }
        }
        return scores;
    }

    /// <summary>Most likely class per row.</summary>
    public int[] Predict(ReadOnlySpan<float> x)
    {
        var s = Decision(x);
        int k = ClassCount;
        return Enumerable.Range(0, s.Length / k).Select(i =>
        {
            int best = 0;
            for (int c = 1; c < k; c++) if (s[i * k + c] > s[i * k + best]) best = c;
            return best;
        }).ToArray();
    }

    /// <summary>Share of rows predicted as their label.</summary>
    public double Accuracy(ReadOnlySpan<float> x, IReadOnlyList<int> y)
    {
        var pred = Predict(x);
        return pred.Where((p, i) => p == y[i]).Count() / (double)y.Count;
    }
}

/// <summary>
/// Limited-memory BFGS (Nocedal and Wright, algorithm 7.4: the two-loop recursion over the last m steps) with a
/// backtracking Armijo line search; enough for smooth convex objectives such as the probe's.
/// </summary>
public static class Lbfgs
{
    /// <summary>Minimises <paramref name="f"/> (returns the value, writes the gradient) from <paramref name="x"/> in place; returns iterations used.</summary>
    public static int Minimize(Func<double[], double[], double> f, double[] x, int maxIterations = 1000, double tolerance = 1e-6,
        CancellationToken cancellationToken = default, int memory = 10)
    {
        int n = x.Length;
        var g = new double[n];
        double fx = f(x, g);
        var s = new List<double[]>();
        var yv = new List<double[]>();
        var rho = new List<double>();
        var direction = new double[n];
        var xNew = new double[n];
        var gNew = new double[n];
        var alpha = new double[memory];
        int iter = 0;
        for (; iter < maxIterations; iter++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (MaxAbs(g) <= tolerance) break;
            // Two-loop recursion: direction = −H·g.
            Array.Copy(g, direction, n);
            for (int i = s.Count - 1; i >= 0; i--)
            {
                alpha[i] = rho[i] * Dot(s[i], direction);
                Axpy(-alpha[i], yv[i], direction);
            }
            double gamma = s.Count > 0 ? Dot(s[^1], yv[^1]) / Dot(yv[^1], yv[^1]) : 1.0 / Math.Max(1.0, Math.Sqrt(Dot(g, g)));
            for (int t = 0; t < n; t++) direction[t] *= gamma;
            for (int i = 0; i < s.Count; i++)
            {
                double beta = rho[i] * Dot(yv[i], direction);
                Axpy(alpha[i] - beta, s[i], direction);
            }
            for (int t = 0; t < n; t++) direction[t] = -direction[t];
            double slope = Dot(g, direction);
            if (slope >= 0) // not a descent direction (numerical trouble): restart from steepest descent
            {
                s.Clear(); yv.Clear(); rho.Clear();
                for (int t = 0; t < n; t++) direction[t] = -g[t];
                slope = Dot(g, direction);
            }
            // Backtracking line search (Armijo).
            double step = 1, fNew;
            while (true)
            {
                for (int t = 0; t < n; t++) xNew[t] = x[t] + step * direction[t];
                fNew = f(xNew, gNew);
                if (fNew <= fx + 1e-4 * step * slope || step < 1e-20) break;
                step *= 0.5;
            }
            var sk = new double[n];
            var yk = new double[n];
            for (int t = 0; t < n; t++) { sk[t] = xNew[t] - x[t]; yk[t] = gNew[t] - g[t]; }
            double sy = Dot(sk, yk);
            double previous = fx;
            Array.Copy(xNew, x, n);
            Array.Copy(gNew, g, n);
            fx = fNew;
            if (sy > 1e-10 * Dot(yk, yk)) // relative: an absolute floor drops every pair once steps get small
            {
                if (s.Count == memory) { s.RemoveAt(0); yv.RemoveAt(0); rho.RemoveAt(0); }
                s.Add(sk); yv.Add(yk); rho.Add(1 / sy);
            }
            if (Math.Abs(previous - fx) <= 1e-14 * Math.Max(1, Math.Abs(fx)) && MaxAbs(g) <= tolerance * 100) { iter++; break; }
            if (step < 1e-20) { iter++; break; }
        }
        return iter;
    }

    static double Dot(double[] a, double[] b) { double s = 0; for (int i = 0; i < a.Length; i++) s += a[i] * b[i]; return s; }
    static void Axpy(double a, double[] x, double[] y) { for (int i = 0; i < x.Length; i++) y[i] += a * x[i]; }
    static double MaxAbs(double[] a) { double m = 0; foreach (var v in a) m = Math.Max(m, Math.Abs(v)); return m; }
}
