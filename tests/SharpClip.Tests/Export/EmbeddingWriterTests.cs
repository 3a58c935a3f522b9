using System.Text;
using SharpClip.Export;

namespace SharpClip.Tests.Export;

public class EmbeddingWriterTests
{
    [Fact]
    public void NpyHeaderIsAlignedAndDataFollows()
    {
        using var ms = new MemoryStream();
        EmbeddingWriter.WriteNpy(ms, [1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
        var b = ms.ToArray();
        Assert.Equal(0x93, b[0]);
        Assert.Equal("NUMPY", Encoding.ASCII.GetString(b, 1, 5));
        int headerLen = BitConverter.ToUInt16(b, 8);
        Assert.Equal(0, (10 + headerLen) % 64);
        var header = Encoding.ASCII.GetString(b, 10, headerLen);
        Assert.Contains("'shape': (2, 3)", header);
        Assert.EndsWith("\n", header);
        Assert.Equal(6f, BitConverter.ToSingle(b, 10 + headerLen + 20));
        Assert.Equal(10 + headerLen + 24, b.Length);
    }

    [Fact]
    public void UnknownExtensionIsRefusedWithThePath()
    {
        var e = Assert.Throws<ArgumentException>(() => EmbeddingWriter.Write("out.csv", [], []));
        Assert.Contains("out.csv", e.Message);
    }
}
