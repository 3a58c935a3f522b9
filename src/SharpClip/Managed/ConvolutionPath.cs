namespace SharpClip.Managed;

/// <summary>How a <see cref="FoldedConvolution"/> runs.</summary>
internal enum ConvolutionPath
{
    /// <summary>The engine's choice by shape.</summary>
    Auto,
    /// <summary>Gathered rows (im2col) times the weights, or one product for a 1×1.</summary>
    Direct,
    /// <summary>Winograd F(2×2, 3×3), its own choice of splitting the tiles or the columns across threads.</summary>
    Winograd,
    /// <summary>Winograd with each thread taking its own tiles.</summary>
    WinogradOwnTiles,
    /// <summary>Winograd with the threads splitting the products' columns over all tiles.</summary>
    WinogradSharedColumns,
    /// <summary>Winograd F(4×4, 3×3), its own choice of splitting.</summary>
    Winograd4,
}
