using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SharpClip.Managed;

/// <summary>Row-wise operations of the towers (LayerNorm, adds, gathers) on row-major float32 matrices.</summary>
internal static unsafe class RowOps
{
    /// <summary>Rows below which a row-wise operation runs on the calling thread alone (splitting costs more).</summary>
    const int ParallelRows = 64;

    /// <summary>
    /// PyTorch's LayerNorm over each row (biased variance, epsilon inside the square root): <c>y = (x − mean)/√(var + ε)·γ + β</c>,
    /// the mean first, then the variance around it, both summed in float32 (within the fidelity bar of PyTorch's own sums).
    /// </summary>
    // x: [rows, width] stride ldx; y: [rows, width] stride ldy (may be x)
    public static void LayerNorm(float* x, int ldx, float* y, int ldy, int rows, int width, float* gamma, float* beta, float epsilon, int threads)
    {
        nint xs = (nint)x, ys = (nint)y, gs = (nint)gamma, bs = (nint)beta;
        ForRows(rows, threads, (from, to) =>
        {
            for (int r = from; r < to; r++)
                NormalizeRow((float*)xs + (long)r * ldx, (float*)ys + (long)r * ldy, width, (float*)gs, (float*)bs, epsilon);
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void NormalizeRow(float* x, float* y, int width, float* gamma, float* beta, float epsilon)
    {
        int vectorEnd = width - width % 16;
        var sum = Vector512<float>.Zero;
        for (int i = 0; i < vectorEnd; i += 16) sum += Vector512.Load(x + i);
        float total = Vector512.Sum(sum);
        for (int i = vectorEnd; i < width; i++) total += x[i];
        float mean = total / width;
        var meanV = Vector512.Create(mean);
        var squares = Vector512<float>.Zero;
        for (int i = 0; i < vectorEnd; i += 16)
        {
            var d = Vector512.Load(x + i) - meanV;
            squares += d * d;
        }
        float variance = Vector512.Sum(squares);
        for (int i = vectorEnd; i < width; i++) variance += (x[i] - mean) * (x[i] - mean);
        float inverse = 1f / MathF.Sqrt(variance / width + epsilon);
        var inverseV = Vector512.Create(inverse);
        for (int i = 0; i < vectorEnd; i += 16)
            ((Vector512.Load(x + i) - meanV) * inverseV * Vector512.Load(gamma + i) + Vector512.Load(beta + i)).Store(y + i);
        for (int i = vectorEnd; i < width; i++) y[i] = (x[i] - mean) * inverse * gamma[i] + beta[i];
    }

    /// <summary>Runs <paramref name="body"/> over [from, to) ranges of <paramref name="rows"/>, claimed by the threads
    /// (<see cref="WorkerTeam.Share"/>).</summary>
    public static void ForRows(int rows, int threads, Action<int, int> body)
    {
        int parts = rows < ParallelRows ? 1 : Math.Min(Math.Max(threads, 1), rows);
        if (parts == 1)
        {
            body(0, rows);
            return;
        }
        WorkerTeam.Share(rows, parts, 1, body);
    }

    /// <summary><c>Σ a[i]·b[i]</c> over <paramref name="count"/> floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Dot(float* a, float* b, int count)
    {
        var sum = Vector512<float>.Zero;
        int i = 0;
        for (; i <= count - 16; i += 16) sum = Vector512.FusedMultiplyAdd(Vector512.Load(a + i), Vector512.Load(b + i), sum);
        float total = Vector512.Sum(sum);
        for (; i < count; i++) total += a[i] * b[i];
        return total;
    }

    /// <summary><c>y[i] += s·x[i]</c> over <paramref name="count"/> floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddScaled(float* y, float* x, float s, int count)
    {
        var scale = Vector512.Create(s);
        int i = 0;
        for (; i <= count - 16; i += 16) Vector512.FusedMultiplyAdd(Vector512.Load(x + i), scale, Vector512.Load(y + i)).Store(y + i);
        for (; i < count; i++) y[i] += s * x[i];
    }

    /// <summary><c>y[i] = s·x[i]</c> over <paramref name="count"/> floats (<paramref name="y"/> may be <paramref name="x"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scale(float* x, float s, float* y, int count)
    {
        var scale = Vector512.Create(s);
        int i = 0;
        for (; i <= count - 16; i += 16) (Vector512.Load(x + i) * scale).Store(y + i);
        for (; i < count; i++) y[i] = x[i] * s;
    }

    /// <summary><c>y[i] = a[i] + b[i]</c> over <paramref name="count"/> floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Add(float* a, float* b, float* y, int count)
    {
        int i = 0;
        for (; i <= count - 16; i += 16) (Vector512.Load(a + i) + Vector512.Load(b + i)).Store(y + i);
        for (; i < count; i++) y[i] = a[i] + b[i];
    }

    /// <summary>Copies <paramref name="count"/> floats.</summary>
    public static void Copy(float* from, float* to, int count) =>
        new Span<float>(from, count).CopyTo(new Span<float>(to, count));
}
