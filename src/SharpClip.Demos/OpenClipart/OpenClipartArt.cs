using SharpClip.Data;
using SharpClip.Demos.Emoji;
using SharpClip.Vision;

namespace SharpClip.Demos.OpenClipart;

/// <summary>
/// Renders a clipart SVG the way the emoji styles are drawn (crop the ink, pad to a white square, resize), with one
/// step more: clipart often sits small on a large page (an A4 sheet with a 3 cm drawing), so a full-page render at a
/// few hundred pixels would leave the drawing a blur. The page is rendered once to find the ink, then again with the
/// viewport zoomed so the ink fills the canvas.
/// </summary>
public static class OpenClipartArt
{
    /// <summary>Zoom no further than this: a stray dot far from the drawing must not turn a render into a giant surface.</summary>
    public const double MaxZoom = 32;

    /// <summary>
    /// The drawing rendered at <paramref name="renderSize"/> with its ink filling the canvas, or null when it renders
    /// blank. librsvg failures throw <see cref="InvalidDataException"/> naming <paramref name="name"/>.
    /// </summary>
    public static RgbImage? RenderInk(byte[] svg, int renderSize, string name)
    {
        var page = SvgRasterizer.Render(svg, renderSize, name);
        if (EmojiArt.InkBox(page) is not { } box) return null;
        // One pixel of margin so antialiased edges just outside the first render's box are not clipped.
        double x = box.X - 1, y = box.Y - 1, side = Math.Max(box.Width, box.Height) + 2;
        double zoom = Math.Min(MaxZoom, renderSize / side);
        if (zoom < 1.25) return page; // the ink already fills the page
        var viewport = new SvgViewport(-x * zoom, -y * zoom, renderSize * zoom, renderSize * zoom);
        var zoomed = SvgRasterizer.Render(svg, renderSize, name, viewport);
        return EmojiArt.IsBlank(zoomed) ? page : zoomed;
    }

    /// <summary><see cref="RenderInk"/>, then crop-and-pad to <paramref name="size"/> (null when blank).</summary>
    public static RgbImage? Draw(byte[] svg, int size, int renderSize, string name) =>
        RenderInk(svg, renderSize, name) is { } ink ? EmojiArt.CropAndPad(ink, size) : null;
}
