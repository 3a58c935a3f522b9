using System.Runtime.InteropServices;
using SharpClip.Data;
using SharpClip.Vision;

namespace SharpClip.Demos.Emoji;

/// <summary>
/// Renders SVG documents to RGB on white with librsvg (GNOME's SVG renderer) through its C API and cairo. No SVG
/// library for .NET on our package feed renders real-world SVG (gradients, masks, clip paths) correctly; librsvg does
/// and ships with most Linux systems. The document is scaled to fit the square (aspect kept, centred).
/// </summary>
public static partial class SvgRasterizer
{
    const string Rsvg = "librsvg-2.so.2";
    const string Cairo = "libcairo.so.2";
    const string GObject = "libgobject-2.0.so.0";
    const string GLib = "libglib-2.0.so.0";

    /// <summary>What to install when librsvg cannot be loaded.</summary>
    public const string InstallHint = "SVG rendering needs librsvg and cairo: install them with `apt-get install librsvg2-2` (Debian/Ubuntu) or `dnf install librsvg2` (Fedora)";

    static readonly Lazy<Exception?> LoadError = new(() =>
    {
        foreach (var lib in new[] { Rsvg, Cairo, GObject })
        {
            if (!NativeLibrary.TryLoad(lib, typeof(SvgRasterizer).Assembly, null, out _))
                return new NotSupportedException($"cannot load {lib}. {InstallHint}");
        }
        return null;
    });

    /// <summary>Throws <see cref="NotSupportedException"/> with <see cref="InstallHint"/> when the native libraries are missing.</summary>
    public static void EnsureAvailable()
    {
        if (LoadError.Value is { } e) throw new NotSupportedException(e.Message, e);
    }

    /// <summary>Renders <paramref name="svg"/> into a <paramref name="size"/>×<paramref name="size"/> RGB image on white.</summary>
    public static RgbImage Render(byte[] svg, int size, string name) => Render(svg, size, name, new SvgViewport(0, 0, size, size));

    /// <summary>
    /// Renders with the document fitted into <paramref name="viewport"/>, given in pixels of the
    /// <paramref name="size"/>×<paramref name="size"/> canvas. A viewport larger than the canvas, shifted left/up, zooms
    /// in on part of the drawing (cairo clips the rest): clipart often sits small on a large page, and rendering only
    /// its ink keeps the detail that a full-page render would lose.
    /// </summary>
    public static RgbImage Render(byte[] svg, int size, string name, SvgViewport viewport)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        if (!(viewport.Width > 0 && viewport.Height > 0)) throw new ArgumentOutOfRangeException(nameof(viewport), $"{name}: viewport {viewport} has no area");
        EnsureAvailable();
        IntPtr handle = rsvg_handle_new_from_data(svg, (nuint)svg.Length, out var error);
        if (handle == IntPtr.Zero) throw new InvalidDataException($"{name}: librsvg cannot parse the SVG ({TakeError(error)})");
        IntPtr surface = IntPtr.Zero, cr = IntPtr.Zero;
        try
        {
            surface = cairo_image_surface_create(1 /* CAIRO_FORMAT_RGB24 */, size, size);
            cr = cairo_create(surface);
            cairo_set_source_rgb(cr, 1, 1, 1);
            cairo_paint(cr);
            var rect = new RsvgRectangle { X = viewport.X, Y = viewport.Y, Width = viewport.Width, Height = viewport.Height };
            if (rsvg_handle_render_document(handle, cr, ref rect, out error) == 0)
                throw new InvalidDataException($"{name}: librsvg failed to render ({TakeError(error)})");
            cairo_surface_flush(surface);
            int stride = cairo_image_surface_get_stride(surface);
            IntPtr data = cairo_image_surface_get_data(surface);
            var row = new byte[stride];
            var rgb = new byte[size * size * 3];
            for (int y = 0; y < size; y++)
            {
                Marshal.Copy(data + y * stride, row, 0, stride);
                for (int x = 0; x < size; x++)
                {
                    // RGB24 is a native-endian 32-bit 0x00RRGGBB word: B, G, R, X in memory on little-endian machines.
                    uint px = BitConverter.ToUInt32(row, x * 4);
                    int o = (y * size + x) * 3;
                    rgb[o] = (byte)(px >> 16);
                    rgb[o + 1] = (byte)(px >> 8);
                    rgb[o + 2] = (byte)px;
                }
            }
            return new RgbImage(size, size, rgb);
        }
        finally
        {
            if (cr != IntPtr.Zero) cairo_destroy(cr);
            if (surface != IntPtr.Zero) cairo_surface_destroy(surface);
            g_object_unref(handle);
        }
    }

    static string TakeError(IntPtr error)
    {
        if (error == IntPtr.Zero) return "no details";
        var message = Marshal.PtrToStringUTF8(Marshal.ReadIntPtr(error, 8)) ?? "no details"; // GError { quark; int code; char* message }
        g_error_free(error);
        return message;
    }

    [StructLayout(LayoutKind.Sequential)]
    struct RsvgRectangle { public double X, Y, Width, Height; }

    [LibraryImport(Rsvg)] private static partial IntPtr rsvg_handle_new_from_data(byte[] data, nuint length, out IntPtr error);
    [LibraryImport(Rsvg)] private static partial int rsvg_handle_render_document(IntPtr handle, IntPtr cr, ref RsvgRectangle viewport, out IntPtr error);
    [LibraryImport(Cairo)] private static partial IntPtr cairo_image_surface_create(int format, int width, int height);
    [LibraryImport(Cairo)] private static partial IntPtr cairo_create(IntPtr surface);
    [LibraryImport(Cairo)] private static partial void cairo_set_source_rgb(IntPtr cr, double r, double g, double b);
    [LibraryImport(Cairo)] private static partial void cairo_paint(IntPtr cr);
    [LibraryImport(Cairo)] private static partial void cairo_surface_flush(IntPtr surface);
    [LibraryImport(Cairo)] private static partial int cairo_image_surface_get_stride(IntPtr surface);
    [LibraryImport(Cairo)] private static partial IntPtr cairo_image_surface_get_data(IntPtr surface);
    [LibraryImport(Cairo)] private static partial void cairo_destroy(IntPtr cr);
    [LibraryImport(Cairo)] private static partial void cairo_surface_destroy(IntPtr surface);
    [LibraryImport(GObject)] private static partial void g_object_unref(IntPtr obj);
    [LibraryImport(GLib)] private static partial void g_error_free(IntPtr error);
}

/// <summary>Where <see cref="SvgRasterizer"/> lays out a document, in canvas pixels (the aspect ratio is kept, centred).</summary>
public readonly record struct SvgViewport(double X, double Y, double Width, double Height);
