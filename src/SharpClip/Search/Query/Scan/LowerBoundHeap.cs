namespace SharpClip.Search;

/// <summary>
/// The k largest lower bounds seen so far (a binary min-heap): its minimum, once k values are in, is a threshold
/// no top-k row's exact score can fall below.
/// </summary>
internal sealed class LowerBoundHeap(int k)
{
    readonly double[] heap = new double[k];

    public int Count { get; private set; }

    /// <summary>The k-th largest value offered so far, or −∞ while fewer than k were offered.</summary>
    public double Threshold => Count == heap.Length ? heap[0] : double.NegativeInfinity;

    public ReadOnlySpan<double> Values => heap.AsSpan(0, Count);

    public void Offer(double value)
    {
        if (Count < heap.Length)
        {
            int i = Count++;
            while (i > 0)
            {
                int parent = (i - 1) >> 1;
                if (heap[parent] <= value) break;
                heap[i] = heap[parent];
                i = parent;
            }
            heap[i] = value;
            return;
        }
        if (value <= heap[0]) return;
        int n = Count, at = 0;
        while (true)
        {
            int child = 2 * at + 1;
            if (child >= n) break;
            if (child + 1 < n && heap[child + 1] < heap[child]) child++;
            if (heap[child] >= value) break;
            heap[at] = heap[child];
            at = child;
        }
        heap[at] = value;
    }
}
