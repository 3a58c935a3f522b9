using ScottPlot;
using SharpClip.Vision;
using SkiaSharp;

namespace SharpClip.Plotting;

/// <summary>Renders a ScottPlot <see cref="Plot"/> into our <see cref="RgbImage"/>, the type the reports save as PNG.</summary>
static class PlotImage
{
    /// <summary>A new plot on white whose every label uses <see cref="PlotFont"/>.</summary>
    public static Plot Create()
    {
        PlotFont.Register();
        var plot = new Plot();
        plot.FigureBackground.Color = Colors.White;
        plot.DataBackground.Color = Colors.White;
        plot.Font.Set(PlotFont.Name);
        return plot;
    }

    /// <summary>Rasterises <paramref name="plot"/> at <paramref name="width"/>×<paramref name="height"/> pixels.</summary>
    public static RgbImage Render(Plot plot, int width, int height)
    {
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var bitmap = new SKBitmap(info);
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.White);
            plot.Render(canvas, width, height);
        }
        return SkiaImages.ToRgbImage(bitmap);   // opaque: the figure background is white
    }
}
