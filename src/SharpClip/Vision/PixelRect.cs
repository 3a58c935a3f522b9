namespace SharpClip.Vision;

/// <summary>An axis-aligned pixel rectangle: left/top corner and size (Pillow's box is left, top, right, bottom).</summary>
public readonly record struct PixelRect(int X, int Y, int Width, int Height)
{
    public int Right => X + Width;
    public int Bottom => Y + Height;

    public static PixelRect Full(int width, int height) => new(0, 0, width, height);

    /// <summary>True when the rectangle lies inside a width × height image.</summary>
    public bool IsInside(int width, int height) => X >= 0 && Y >= 0 && Width >= 0 && Height >= 0 && Right <= width && Bottom <= height;

    public override string ToString() => $"({X},{Y},{Right},{Bottom})";
}
