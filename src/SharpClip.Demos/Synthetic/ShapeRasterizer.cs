using SharpClip.Data;

namespace SharpClip.Demos.Synthetic;

/// <summary>
/// Draws a <see cref="ShapeScene"/> into RGB bytes with anti-aliasing by supersampling: each pixel inside an object's
/// bounding box tests an n×n grid of sample points against the shape, and the covered fraction blends the object
/// colour over what is below. Shapes are defined in a unit frame (all within radius 1 of the centre, y down) and every
/// sample point is mapped into it, so rotation and scale need no special cases.
/// </summary>
public static class ShapeRasterizer
{
    /// <summary>Renders to [size, size, 3] bytes (HWC). The result depends only on the scene and the arguments.</summary>
    public static byte[] Render(ShapeScene scene, int size, int supersampling = 4)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(supersampling, 1);
        var bg = scene.Background;
        var buf = new float[size * size * 3];
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                double shade = bg.GradientX * ((x + 0.5) / size - 0.5) + bg.GradientY * ((y + 0.5) / size - 0.5);
                int i = (y * size + x) * 3;
                buf[i] = (float)(bg.R + shade);
                buf[i + 1] = (float)(bg.G + shade);
                buf[i + 2] = (float)(bg.B + shade);
            }

        foreach (var o in scene.Objects) Draw(buf, size, supersampling, scene.Shape, o);

        var noise = new Random(bg.NoiseSeed);
        var rgb = new byte[buf.Length];
        for (int i = 0; i < buf.Length; i++)
        {
            double v = buf[i] + (bg.Noise > 0 ? (noise.NextDouble() * 2 - 1) * bg.Noise : 0);
            rgb[i] = (byte)Math.Clamp(Math.Round(v), 0, 255);
        }
        return rgb;
    }

    private static void Draw(float[] buf, int size, int ss, ShapeKind shape, ShapeInstance o)
    {
        double cx = o.X * size, cy = o.Y * size, r = o.Radius * size;
        int x0 = Math.Max(0, (int)Math.Floor(cx - r - 1)), x1 = Math.Min(size - 1, (int)Math.Ceiling(cx + r + 1));
        int y0 = Math.Max(0, (int)Math.Floor(cy - r - 1)), y1 = Math.Min(size - 1, (int)Math.Ceiling(cy + r + 1));
        double cos = Math.Cos(-o.Rotation), sin = Math.Sin(-o.Rotation);
        var polygon = Polygon(shape);
        float samples = ss * ss;
        // Only pixels that straddle an edge need supersampling: a pixel whose circumscribed circle lies inside the
        // shape's inscribed circle is fully covered, one entirely beyond radius 1 is empty.
        double halfDiagonal = Math.Sqrt(0.5) / r, inscribed = InscribedRadius(shape);
        for (int py = y0; py <= y1; py++)
            for (int px = x0; px <= x1; px++)
            {
                double d = Math.Sqrt(Math.Pow((px + 0.5 - cx) / r, 2) + Math.Pow((py + 0.5 - cy) / r, 2));
                if (d - halfDiagonal > 1) continue;
                if (shape == ShapeKind.Ring && d + halfDiagonal < RingHole) continue;
                int hits = 0;
                if (d + halfDiagonal < inscribed && (shape != ShapeKind.Ring || d - halfDiagonal > RingHole)) hits = ss * ss;
                else for (int sy = 0; sy < ss; sy++)
                    for (int sx = 0; sx < ss; sx++)
                    {
                        double dx = (px + (sx + 0.5) / ss - cx) / r, dy = (py + (sy + 0.5) / ss - cy) / r;
                        double ux = dx * cos - dy * sin, uy = dx * sin + dy * cos;   // into the unrotated frame
                        if (Inside(shape, polygon, ux, uy)) hits++;
                    }
                if (hits == 0) continue;
                float a = hits / samples;
                int i = (py * size + px) * 3;
                buf[i] += (o.R - buf[i]) * a;
                buf[i + 1] += (o.G - buf[i + 1]) * a;
                buf[i + 2] += (o.B - buf[i + 2]) * a;
            }
    }

    private const double RingHole = 0.55;

    /// <summary>
    /// Radius of a circle around the centre that lies inside the shape (a lower bound, for the fast path; every
    /// shape lies inside radius 1).
    /// </summary>
    internal static double InscribedRadius(ShapeKind shape) => shape switch
    {
        ShapeKind.Circle or ShapeKind.Ring => 0.95,
        ShapeKind.Square => 0.7,
        ShapeKind.Diamond => 0.61,            // distance to the edge x/0.8 + y/0.98 = 1 is 0.6197
        ShapeKind.Cross => 0.28,
        ShapeKind.Triangle => 0.49,           // inradius of an equilateral triangle of circumradius 1 is 0.5
        ShapeKind.Hexagon => 0.82,            // 0.95 * cos 30°
        ShapeKind.Star => 0.33,               // the inner vertices are at 0.42; the edges come no closer than ~0.34
        _ => 0,
    };

    /// <summary>Point-in-shape in the unit frame.</summary>
    internal static bool Inside(ShapeKind shape, (double X, double Y)[]? polygon, double x, double y)
    {
        double ax = Math.Abs(x), ay = Math.Abs(y);
        switch (shape)
        {
            case ShapeKind.Circle: return x * x + y * y <= 0.95 * 0.95;
            case ShapeKind.Ring: { double d2 = x * x + y * y; return d2 <= 0.95 * 0.95 && d2 >= RingHole * RingHole; }
            case ShapeKind.Square: return ax <= 0.7 && ay <= 0.7;
            case ShapeKind.Diamond: return ax / 0.8 + ay / 0.98 <= 1;
            case ShapeKind.Cross: return (ax <= 0.28 && ay <= 0.92) || (ay <= 0.28 && ax <= 0.92);
            default: return InPolygon(polygon!, x, y);
        }
    }

    /// <summary>Vertices for the polygonal shapes (null for the analytic ones).</summary>
    internal static (double X, double Y)[]? Polygon(ShapeKind shape) => shape switch
    {
        ShapeKind.Triangle => Regular(3, 1.0, -Math.PI / 2, 0),
        ShapeKind.Hexagon => Regular(6, 0.95, 0, 0),
        ShapeKind.Star => Regular(5, 1.0, -Math.PI / 2, 0.42),
        _ => null,
    };

    private static readonly Dictionary<(int, double, double, double), (double, double)[]> _cache = [];

    /// <summary>A regular polygon, or a star when <paramref name="inner"/> is positive (alternating radii).</summary>
    private static (double X, double Y)[] Regular(int n, double radius, double start, double inner)
    {
        lock (_cache)
        {
            if (_cache.TryGetValue((n, radius, start, inner), out var cached)) return cached;
            var pts = new List<(double, double)>();
            for (int k = 0; k < n; k++)
            {
                double a = start + 2 * Math.PI * k / n;
                pts.Add((radius * Math.Cos(a), radius * Math.Sin(a)));
                if (inner > 0)
                {
                    double b = a + Math.PI / n;
                    pts.Add((inner * Math.Cos(b), inner * Math.Sin(b)));
                }
            }
            return _cache[(n, radius, start, inner)] = pts.ToArray();
        }
    }

    /// <summary>Even-odd rule: count edge crossings of a ray towards +x.</summary>
    private static bool InPolygon((double X, double Y)[] p, double x, double y)
    {
        bool inside = false;
        for (int i = 0, j = p.Length - 1; i < p.Length; j = i++)
            if ((p[i].Y > y) != (p[j].Y > y) && x < (p[j].X - p[i].X) * (y - p[i].Y) / (p[j].Y - p[i].Y) + p[i].X)
                inside = !inside;
        return inside;
    }
}
