namespace SharpClip.Tests.Evaluation;

/// <summary>
/// Labels for the reference eval images that make a "style" whose accuracy the reference predictions imply: each
/// image is filed under the class the reference predicts plus <c>shift</c> (0: all right, 1: all wrong), and image 0
/// under every class as well so that no class is empty. The accuracies are counted here, independently of the code
/// under test.
/// </summary>
internal sealed record ShiftedLabels(IReadOnlyList<(int Image, int Class)> Rows, double Top1, double BalancedAccuracy)
{
    public static ShiftedLabels Of(int[] predicted, int classes, int shift)
    {
        var rows = (from c in Enumerable.Range(0, classes)
                    from i in Enumerable.Range(0, predicted.Length)
                    where (predicted[i] + shift) % classes == c || i == 0
                    select (i, c)).ToList();
        double top1 = rows.Count(r => predicted[r.i] == r.c) / (double)rows.Count;
        double balanced = Enumerable.Range(0, classes).Average(c =>
        {
            var ofClass = rows.Where(r => r.c == c).ToList();
            return ofClass.Count(r => predicted[r.i] == c) / (double)ofClass.Count;
        });
        return new ShiftedLabels(rows, top1, balanced);
    }
}
