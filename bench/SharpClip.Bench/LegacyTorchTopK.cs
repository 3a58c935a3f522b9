using SharpClip.Search;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Bench;

/// <summary>
/// The float32 search as EmbeddingMatrix did it before the two-stage search (kept here only so the benchmark can time
/// old against new in one run): rows in transposed [D, 65536] TorchSharp blocks, one [1,D]x[D,B] GEMM and a topk per
/// block, then a topk over the block winners.
/// </summary>
sealed class LegacyTorchTopK : IDisposable
{
    const int BlockRows = 65536;
    readonly int dimension;
    readonly List<Tensor> blocks = [];
    long count;

    public LegacyTorchTopK(int dimension) => this.dimension = dimension;

    /// <summary>Appends rows given as a row-major [n, D] tensor; row r gets id = its position.</summary>
    public void Append(Tensor rows)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        long n = rows.shape[0], done = 0;
        while (done < n)
        {
            long col = count % BlockRows;
            if (col == 0) blocks.Add(torch.zeros(dimension, BlockRows).DetachFromDisposeScope());
            long take = Math.Min(n - done, BlockRows - col);
            blocks[^1].narrow(1, col, take).copy_(rows.narrow(0, done, take).t());
            done += take;
            count += take;
        }
    }

    public IReadOnlyList<ScoredId> TopK(float[] query, int k)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var q = torch.tensor(query, [1, dimension]);                       // [1, D]
        var values = new List<Tensor>();
        var rows = new List<Tensor>();
        long start = 0;
        foreach (var block in blocks)
        {
            long n = Math.Min(BlockRows, count - start);
            var scores = q.mm(block.narrow(1, 0, n));                     // [1, n]
            var (v, ix) = scores.topk((int)Math.Min(k, n), dim: 1);
            values.Add(v);
            rows.Add(ix + start);
            start += n;
        }
        var allV = torch.cat(values, 1);
        var allR = torch.cat(rows, 1);
        var (bestV, pos) = allV.topk((int)Math.Min(k, allV.shape[1]), dim: 1);
        var sv = bestV.data<float>().ToArray();
        var sr = allR.gather(1, pos).data<long>().ToArray();
        var result = sv.Select((s, i) => new ScoredId(sr[i], s)).ToList();
        result.Sort((a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Id.CompareTo(b.Id));
        return result;
    }

    public void Dispose()
    {
        foreach (var b in blocks) b.Dispose();
        blocks.Clear();
    }
}
