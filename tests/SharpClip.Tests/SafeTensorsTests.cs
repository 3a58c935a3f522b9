using SharpClip.Files;
using SharpClip.Checkpoints;
using TorchSharp;

namespace SharpClip.Tests;

public class SafeTensorsTests
{
    [Fact]
    public void RoundTripKeepsDTypeShapeAndValues()
    {
        var path = Path.Combine(Path.GetTempPath(), $"st-{Guid.NewGuid():N}.safetensors");
        try
        {
            using (var scope = torch.NewDisposeScope())
            {
                var tensors = new Dictionary<string, torch.Tensor>
                {
                    ["b"] = torch.arange(6, dtype: torch.ScalarType.Float32).reshape(2, 3),
                    ["a"] = torch.tensor(3L),
                    ["h"] = torch.tensor(new float[] { 0.5f, -2f }).to(torch.ScalarType.Float16),
                };
                SafeTensorsWriter.Write(path, tensors, new Dictionary<string, string> { ["format"] = "pt" });
            }
            using var f = SafeTensorsFile.Open(path);
            Assert.Equal(new[] { "a", "b", "h" }, f.Names.OrderBy(n => n));
            Assert.Equal("pt", f.Metadata["format"]);
            Assert.Empty(f.Info("a").Shape);
            Assert.Equal(new long[] { 3 }, f.ReadInt64s("a"));
            Assert.Equal(new float[] { 0, 1, 2, 3, 4, 5 }, f.ReadFloats("b"));
            Assert.Equal(new float[] { 0.5f, -2f }, f.ReadFloats("h"));
            using var t = f.ReadTensor("b");
            Assert.Equal(new long[] { 2, 3 }, t.shape);
            Assert.Equal(5f, t[1, 2].item<float>());
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void TruncatedFileIsRejectedWithItsName()
    {
        var path = Path.Combine(Path.GetTempPath(), $"st-{Guid.NewGuid():N}.safetensors");
        try
        {
            SafeTensorsWriter.Write(path, new Dictionary<string, SafeTensorsWriter.Entry>
            {
                ["w"] = SafeTensorsWriter.FromFloats(new float[100], 10, 10),
            });
            var bytes = File.ReadAllBytes(path);
            File.WriteAllBytes(path, bytes[..^40]);
            var e = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(path).Dispose());
            Assert.Contains(path, e.Message);
            Assert.Contains("'w'", e.Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void ReferenceFixtureFilesOpen()
    {
        foreach (var m in Infrastructure.Fixtures.Array("models"))
        {
            using var f = SafeTensorsFile.Open(Infrastructure.Fixtures.PathOf(m.GetProperty("weights").GetString()!));
            Assert.Contains("logit_scale", f.Names);
        }
    }
}
