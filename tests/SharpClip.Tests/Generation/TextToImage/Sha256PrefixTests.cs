using System.Security.Cryptography;
using SharpClip.Generation.TextToImage;
using Xunit;

namespace SharpClip.Tests.Generation.TextToImage;

/// <summary>The record's model hash is remembered per file, so it must follow the file when it changes.</summary>
public sealed class Sha256PrefixTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("sharpclip-sha-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static string Expected(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes))[..16];

    [Fact]
    public void ARewrittenFileIsHashedAgainAndARepeatGivesTheSameAnswer()
    {
        var file = Path.Combine(_dir, "model.safetensors");
        byte[] first = [1, 2, 3, 4], second = [4, 3, 2, 1];   // same length: only the write time tells them apart
        File.WriteAllBytes(file, first);
        File.SetLastWriteTimeUtc(file, new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        Assert.Equal(Expected(first), TextToImageRun.Sha256Prefix(file));
        Assert.Equal(Expected(first), TextToImageRun.Sha256Prefix(file));

        File.WriteAllBytes(file, second);
        File.SetLastWriteTimeUtc(file, new DateTime(2026, 1, 2, 0, 0, 0, DateTimeKind.Utc));
        Assert.Equal(Expected(second), TextToImageRun.Sha256Prefix(file));
    }

    [Fact]
    public void AFolderIsHashedAgainWhenAFileIsAdded()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_dir, "model")).FullName;
        File.WriteAllBytes(Path.Combine(folder, "a.bin"), [7]);
        var before = TextToImageRun.Sha256Prefix(folder);
        File.WriteAllBytes(Path.Combine(folder, "b.bin"), [8]);
        var after = TextToImageRun.Sha256Prefix(folder);
        Assert.NotEqual(before, after);
        // name + "\n" + contents per file, in name order
        Assert.Equal(Expected([.. "a.bin\n"u8, 7, .. "b.bin\n"u8, 8]), after);
    }
}
