namespace SharpClip.Search;

/// <summary>
/// What the last <see cref="EmbeddingMatrix.TopK(ReadOnlySpan{float}, int)"/> did: how many rows the int8 scan
/// covered, how many it could not rule out and were rescored exactly in float32, and whether the candidate set was
/// so large that every row was scored exactly instead (results are exact either way).
/// </summary>
public readonly record struct ScanStatistics(int Rows, int Rescored, bool FullExactScan, string Kernel);
