namespace SharpClip.Search;

/// <summary>
/// Keeps the k best (score, id) pairs under the search order: higher score first, then smaller id. The worst kept
/// pair sits at the root, so each offer costs O(log k).
/// </summary>
internal sealed class TopKSelector(int k)
{
    sealed class WorstFirst : IComparer<ScoredId>
    {
        public static readonly WorstFirst Instance = new();
        public int Compare(ScoredId a, ScoredId b) => a.Score != b.Score ? a.Score.CompareTo(b.Score) : b.Id.CompareTo(a.Id);
    }

    readonly PriorityQueue<ScoredId, ScoredId> queue = new(WorstFirst.Instance);

    public void Offer(ScoredId s)
    {
        if (queue.Count < k) queue.Enqueue(s, s);
        else if (WorstFirst.Instance.Compare(s, queue.Peek()) > 0) queue.DequeueEnqueue(s, s);
    }

    public void OfferAll(TopKSelector other)
    {
        foreach (var (s, _) in other.queue.UnorderedItems) Offer(s);
    }

    /// <summary>The kept pairs, best first.</summary>
    public List<ScoredId> Sorted()
    {
        var list = queue.UnorderedItems.Select(e => e.Element).ToList();
        list.Sort((a, b) => WorstFirst.Instance.Compare(b, a));
        return list;
    }
}
