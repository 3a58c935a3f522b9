namespace SharpClip.Evaluation;

/// <summary>
/// One class's row of the per-class table: <c>Support</c> test images of the class, <c>Correct</c> of them right,
/// <c>Predicted</c> images given this class; <c>Recall</c> = correct / support (the class's accuracy, NaN without
/// images), <c>Precision</c> = correct / predicted (NaN when never predicted).
/// </summary>
public sealed record ClassMetrics(string Name, int Support, int Correct, int Predicted, double Recall, double Precision);

/// <summary>
/// Classification scores the CLIP paper reports: top-1 and top-5 accuracy, mean per-class recall (the paper's metric
/// for unbalanced sets such as Pets or Caltech), the per-class table and the confusion matrix (rows = true class,
/// columns = predicted class).
/// </summary>
public sealed record ClassificationMetrics(int Count, double Top1, double Top5, double MeanPerClassRecall,
    IReadOnlyList<ClassMetrics> PerClass, int[,] Confusion)
{
    public int ClassCount => PerClass.Count;

    /// <summary>Accuracy of uniform guessing.</summary>
    public double Chance => 1.0 / ClassCount;

    /// <summary>Scores from [N, C] row-major <paramref name="scores"/> (logits or probabilities) and true labels.</summary>
    public static ClassificationMetrics Compute(ReadOnlySpan<float> scores, IReadOnlyList<int> labels, IReadOnlyList<string> classNames)
    {
        int n = labels.Count, c = classNames.Count;
        if (scores.Length != n * c) throw new ArgumentException($"scores hold {scores.Length} values; {n} items × {c} classes need {n * c}");
        if (n == 0) throw new ArgumentException("no items to score");
        var confusion = new int[c, c];
        int top1 = 0, top5 = 0, k = Math.Min(5, c);
        for (int i = 0; i < n; i++)
        {
            int y = labels[i];
            if (y < 0 || y >= c) throw new ArgumentException($"label {y} of item {i} is outside 0..{c - 1}");
            var row = scores.Slice(i * c, c);
            int best = 0;
            for (int j = 1; j < c; j++) if (row[j] > row[best]) best = j;
            confusion[y, best]++;
            if (best == y) top1++;
            // Rank of the true class: classes scoring strictly higher, ties broken towards lower index as argmax does.
            int above = 0;
            for (int j = 0; j < c; j++) if (row[j] > row[y] || (row[j] == row[y] && j < y)) above++;
            if (above < k) top5++;
        }
        var perClass = new List<ClassMetrics>(c);
        for (int j = 0; j < c; j++)
        {
            int support = 0, predicted = 0;
            for (int t = 0; t < c; t++) { support += confusion[j, t]; predicted += confusion[t, j]; }
            int correct = confusion[j, j];
            perClass.Add(new ClassMetrics(classNames[j], support, correct, predicted,
                support == 0 ? double.NaN : (double)correct / support, predicted == 0 ? double.NaN : (double)correct / predicted));
        }
        var present = perClass.Where(p => p.Support > 0).ToList();
        return new ClassificationMetrics(n, (double)top1 / n, (double)top5 / n, present.Average(p => p.Recall), perClass, confusion);
    }
}
