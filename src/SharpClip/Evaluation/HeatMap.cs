using SharpClip.Vision;

namespace SharpClip.Evaluation;

/// <summary>
/// Renders a matrix of values in [0, 1] as a grid of coloured cells (white → dark blue), with thin grey lines between
/// cells and the diagonal outlined: enough to read a confusion matrix's structure at a glance without a plotting library.
/// </summary>
public static class HeatMap
{
    /// <summary>Row-normalised confusion matrix (each row sums to 1 where the class has images) as an image.</summary>
    public static RgbImage Confusion(int[,] confusion, int cellSize = 0)
    {
        int c = confusion.GetLength(0);
        var v = new double[c, c];
        for (int i = 0; i < c; i++)
        {
            double sum = 0;
            for (int j = 0; j < c; j++) sum += confusion[i, j];
            for (int j = 0; j < c; j++) v[i, j] = sum == 0 ? 0 : confusion[i, j] / sum;
        }
        return Render(v, cellSize <= 0 ? Math.Clamp(640 / Math.Max(c, 1), 4, 48) : cellSize, outlineDiagonal: true);
    }

    public static RgbImage Render(double[,] values, int cellSize, bool outlineDiagonal = false)
    {
        int rows = values.GetLength(0), cols = values.GetLength(1);
        int w = cols * cellSize + 1, h = rows * cellSize + 1;
        var img = new RgbImage(w, h);
        Array.Fill(img.Pixels, (byte)160); // grid lines
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
            {
                var (R, G, B) = Colour(values[r, c]);
                bool diag = outlineDiagonal && r == c && cellSize >= 6;
                for (int y = 1; y < cellSize; y++)
                    for (int x = 1; x < cellSize; x++)
                    {
                        bool edge = diag && (x == 1 || y == 1 || x == cellSize - 1 || y == cellSize - 1);
                        int i = ((r * cellSize + y) * w + c * cellSize + x) * 3;
                        img.Pixels[i] = edge ? (byte)220 : R;
                        img.Pixels[i + 1] = edge ? (byte)40 : G;
                        img.Pixels[i + 2] = edge ? (byte)40 : B;
                    }
            }
        return img;
    }

    /// <summary>0 → white, 1 → dark blue, linear in between.</summary>
    public static (byte R, byte G, byte B) Colour(double v)
    {
        v = double.IsNaN(v) ? 0 : Math.Clamp(v, 0, 1);
        return ((byte)Math.Round(255 - v * (255 - 8)), (byte)Math.Round(255 - v * (255 - 48)), (byte)Math.Round(255 - v * (255 - 107)));
    }
}
