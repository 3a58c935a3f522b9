using SharpClip.Data;

namespace SharpClip.Demos.Synthetic;

/// <summary>
/// Draws a random scene for a given (shape, colour) pair: size, position, count, exact layout with jitter, colour
/// jitter and a contrasting background. Objects of a group are laid out in a column (left/right), a row
/// (top/bottom) or a cluster (centre), spaced so they do not overlap.
/// </summary>
internal static class SceneSampler
{
    private const double SmallMin = 0.08, SmallMax = 0.095, LargeMin = 0.14, LargeMax = 0.16;

    public static ShapeScene Sample(ShapeKind shape, int colourIndex, int maxCount, double maxNoise, Random rng)
    {
        var size = (ShapeSize)rng.Next(2);
        var position = (ShapePosition)rng.Next(ShapeVocabulary.Positions.Count);
        int count = 1 + rng.Next(maxCount);
        double rMax = size == ShapeSize.Small ? SmallMax : LargeMax, rMin = size == ShapeSize.Small ? SmallMin : LargeMin;
        double radius = rMin + rng.NextDouble() * (rMax - rMin);

        var colour = ShapeVocabulary.Colours[colourIndex];
        int jr = rng.Next(-14, 15), jg = rng.Next(-14, 15), jb = rng.Next(-14, 15);

        var (gx, gy, vertical) = position switch
        {
            ShapePosition.Left => (0.23, 0.5, true),
            ShapePosition.Right => (0.77, 0.5, true),
            ShapePosition.Top => (0.5, 0.23, false),
            ShapePosition.Bottom => (0.5, 0.77, false),
            _ => (0.5, 0.5, false),
        };
        gx += (rng.NextDouble() * 2 - 1) * 0.03;
        gy += (rng.NextDouble() * 2 - 1) * 0.03;
        double spacing = 2 * rMax * 1.12;

        var objects = new ShapeInstance[count];
        for (int k = 0; k < count; k++)
        {
            double along = (k - (count - 1) / 2.0) * spacing, across = (rng.NextDouble() * 2 - 1) * 0.015;
            double x, y;
            if (position == ShapePosition.Centre && count == 3)
            {
                // A triangle cluster keeps three objects in the middle instead of a row across the whole image.
                (x, y) = k switch
                {
                    0 => (gx, gy - spacing * 0.5),
                    1 => (gx - spacing * 0.5, gy + spacing * 0.45),
                    _ => (gx + spacing * 0.5, gy + spacing * 0.45),
                };
            }
            else if (vertical) (x, y) = (gx + across, gy + along);
            else (x, y) = (gx + along, gy + across);
            double r = radius * (1 + (rng.NextDouble() * 2 - 1) * 0.06);
            x = Math.Clamp(x, r, 1 - r);
            y = Math.Clamp(y, r, 1 - r);
            double rotation = shape is ShapeKind.Circle or ShapeKind.Ring ? 0 : (rng.NextDouble() * 2 - 1) * (12 * Math.PI / 180);
            int o = rng.Next(-5, 6);
            objects[k] = new ShapeInstance(x, y, r, rotation,
                Clamp(colour.R + jr + o), Clamp(colour.G + jg + o), Clamp(colour.B + jb + o));
        }

        var backgrounds = ShapeVocabulary.Backgrounds.Where(b => Distance(b, colour) >= ShapeVocabulary.MinContrast).ToArray();
        var bg = backgrounds[rng.Next(backgrounds.Length)];
        int bj = rng.Next(-12, 13);
        var background = new SceneBackground(Clamp(bg.R + bj), Clamp(bg.G + bj), Clamp(bg.B + bj),
            (rng.NextDouble() * 2 - 1) * 20, (rng.NextDouble() * 2 - 1) * 20, rng.NextDouble() * maxNoise, rng.Next());
        return new ShapeScene(shape, colourIndex, size, position, count, objects, background);
    }

    internal static double Distance((byte R, byte G, byte B) a, ShapeColour c) =>
        Math.Sqrt(Sq(a.R - c.R) + Sq(a.G - c.G) + Sq(a.B - c.B));

    private static double Sq(double v) => v * v;
    private static byte Clamp(int v) => (byte)Math.Clamp(v, 0, 255);
}
