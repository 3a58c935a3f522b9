using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Generation.Diffusion.Sampling;

/// <summary>
/// Gaussian noise for a batch in which every image has its own seed: row i is drawn from a generator seeded with
/// <c>seed + i</c>. Image i of a batch is therefore the same image as a run of one with seed + i, whatever the batch
/// size, so every image a user keeps can be reproduced on its own (the seed is written beside it). Each generator
/// draws in the order the run asks (initial noise, then the autoencoder's posterior sample and the img2img noise,
/// then the sampler's per-step noise), the same for every row.
/// </summary>
public sealed class BatchNoise : IDisposable
{
    readonly Generator[] _generators;

    /// <param name="seed">The first image's seed.</param>
    /// <param name="rows">Images in the batch.</param>
    public BatchNoise(long seed, int rows)
    {
        if (rows < 1) throw new ArgumentOutOfRangeException(nameof(rows), rows, "a batch needs at least one image");
        Seed = seed;
        _generators = [.. Enumerable.Range(0, rows).Select(i => new Generator(unchecked((ulong)(seed + i))))];
    }

    /// <summary>Seed of row 0; row i uses <c>Seed + i</c>.</summary>
    public long Seed { get; }

    public int Rows => _generators.Length;

    /// <summary>The seed of row <paramref name="row"/>.</summary>
    public long SeedOf(int row) => Seed + row;

    /// <summary>Standard normal noise of <paramref name="shape"/> ([rows, ...]), each row from its own generator, float32 on the CPU then moved.</summary>
    public Tensor Randn(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        if (shape.Length == 0 || shape[0] != Rows)
            throw new ArgumentException($"noise of shape [{string.Join(",", shape)}] must have {Rows} rows", nameof(shape));
        using var scope = torch.NewDisposeScope();
        long[] row = [1, .. shape.Skip(1)];
        var rows = _generators.Select(g => torch.randn(row, dtype: ScalarType.Float32, generator: g)).ToArray();
        var all = rows.Length == 1 ? rows[0] : torch.cat(rows, 0);
        return all.to(dtype, device ?? CPU).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        foreach (var g in _generators) g.Dispose();
    }
}
