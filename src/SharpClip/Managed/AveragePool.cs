using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SharpClip.Managed;

/// <summary>
/// PyTorch's <c>AvgPool2d(s)</c> (an s×s window, stride s, no padding, the floor rule for sides that do not divide) on
/// a <see cref="FeatureMap"/>: the window's pixels summed, then divided by s², as PyTorch's CPU kernel does it. The
/// ModifiedResNet pools this way where a plain ResNet strides its convolutions (anti-aliasing).
/// </summary>
internal static unsafe class AveragePool
{
    /// <summary>The side a map of side <paramref name="side"/> pools to.</summary>
    public static int OutputSide(int side, int window) => side / window;

    // output: [images, height/s, width/s, channels]
    public static void Apply(in FeatureMap input, int window, in FeatureMap output, int threads)
    {
        if (output.Channels != input.Channels || output.Height != OutputSide(input.Height, window) || output.Width != OutputSide(input.Width, window))
            throw new ArgumentException($"average pool {window}: [{input.Height}, {input.Width}] does not give [{output.Height}, {output.Width}]");
        var from = input;
        var to = output;
        RowOps.ForRows(output.Rows, threads, (first, end) =>
        {
            for (int o = first; o < end; o++) Window(from, window, to, o);
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Window(in FeatureMap input, int window, in FeatureMap output, int o)
    {
        int pixels = output.Height * output.Width, image = o / pixels, oy = o % pixels / output.Width, ox = o % output.Width;
        int channels = input.Channels, vectorEnd = channels - channels % 16;
        float* y = output.Data + (long)o * output.Ld;
        float* corner = input.Data + (((long)image * input.Height + oy * window) * input.Width + ox * window) * input.Ld;
        var divisor = Vector512.Create((float)(window * window));
        for (int c = 0; c < vectorEnd; c += 16)
        {
            var sum = Vector512<float>.Zero;
            for (int dy = 0; dy < window; dy++)
                for (int dx = 0; dx < window; dx++) sum += Vector512.Load(corner + ((long)dy * input.Width + dx) * input.Ld + c);
            (sum / divisor).Store(y + c);
        }
        for (int c = vectorEnd; c < channels; c++)
        {
            float sum = 0;
            for (int dy = 0; dy < window; dy++)
                for (int dx = 0; dx < window; dx++) sum += corner[((long)dy * input.Width + dx) * input.Ld + c];
            y[c] = sum / (window * window);
        }
    }
}
