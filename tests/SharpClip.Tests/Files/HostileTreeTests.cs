using System.Runtime.InteropServices;
using SharpClip.Checkpoints;
using SharpClip.Files;
using SharpClip.Search;
using SharpClip.Tests.Infrastructure;
using SharpClip.Tests.Search;

namespace SharpClip.Tests.Files;

/// <summary>
/// Real file-system objects a careless or hostile user leaves in a folder or passes as a model: a link loop, a FIFO
/// named like an image, dangling links, links to files and folders, a link to a weights file (the Hugging Face cache
/// is made of them). Each call runs under a deadline, so a hang fails the test instead of stalling the suite.
/// </summary>
public class HostileTreeTests : IDisposable
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [DllImport("libc", SetLastError = true)]
    static extern int mkfifo([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode);

    string Fifo(string relative)
    {
        var path = _dir.Combine(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        Assert.Equal(0, mkfifo(path, Convert.ToUInt32("644", 8)));
        return path;
    }

    static T WithinDeadline<T>(Func<T> work)
    {
        var task = Task.Run(work);
        Assert.True(Task.WhenAny(task, Task.Delay(Deadline)).GetAwaiter().GetResult() == task, $"did not finish within {Deadline.TotalSeconds} s (hang)");
        return task.GetAwaiter().GetResult();
    }

    /// <summary>photos/ with a.png, sub/b.png, and every hostile kind of entry beside them.</summary>
    string HostileFolder()
    {
        _dir.File("photos/a.png", "1 0 0 0");
        _dir.File("photos/sub/b.png", "0 1 0 0");
        Directory.CreateSymbolicLink(_dir.Combine("photos/loop"), ".");
        Directory.CreateSymbolicLink(_dir.Combine("photos/sub/up"), "..");
        Directory.CreateSymbolicLink(_dir.Combine("photos/linked-sub"), "sub");
        File.CreateSymbolicLink(_dir.Combine("photos/link.png"), "a.png");
        File.CreateSymbolicLink(_dir.Combine("photos/dangling.png"), "/nonexistent/x.png");
        Fifo("photos/x.png");
        return _dir.Combine("photos");
    }

    [Fact]
    public void WalkSkipsFolderLinksFifosAndDanglingLinksAndSaysSo()
    {
        var photos = HostileFolder();
        var walk = WithinDeadline(() => FileTree.Walk(photos, f => f.EndsWith(".png", StringComparison.Ordinal)));
        Assert.Equal(["a.png", "link.png", "sub/b.png"], walk.Files.Select(f => Path.GetRelativePath(photos, f.Path)));
        Assert.Equal(new FileInfo(Path.Combine(photos, "a.png")).Length, walk.Files[1].Size); // the target's size, not the link's
        var skipped = walk.Skipped.ToDictionary(s => Path.GetRelativePath(photos, s.Path), s => s.Reason);
        Assert.Equal(["dangling.png", "linked-sub", "loop", "sub/up", "x.png"], skipped.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("FIFO", skipped["x.png"]);
        Assert.Contains("not followed", skipped["loop"]);
        Assert.Contains("dangling", skipped["dangling.png"]);
    }

    [Fact]
    public void IndexingAHostileFolderFinishesAndReportsWhatItSkipped()
    {
        var photos = HostileFolder();
        using var index = ImageIndex.Open(_dir.Combine("index.db"), create: true);
        var summary = WithinDeadline(() => Indexer.Run(index, new VectorFileEncoder(), "vectors", [photos]));
        Assert.Equal((3, 2, 1, 0), (summary.Scanned, summary.Embedded, summary.Reused, summary.Failed)); // link.png has a.png's bytes
        Assert.Equal(5, summary.Skipped.Count);
        Assert.Equal(3L, index.Stats().Images);
    }

    [Fact]
    public void AChangedLinkTargetIsReEmbedded()
    {
        var target = _dir.File("elsewhere/a.png", "1 0 0 0");
        Directory.CreateDirectory(_dir.Combine("photos"));
        var link = _dir.Combine("photos/pic.png");
        File.CreateSymbolicLink(link, target);
        var encoder = new VectorFileEncoder();
        using (var index = ImageIndex.Open(_dir.Combine("index.db"), create: true))
            Assert.Equal(1, Indexer.Run(index, encoder, "vectors", [_dir.Combine("photos")]).Embedded);

        // Same size, new bytes, a later time on the target; the link itself is untouched.
        File.WriteAllText(target, "0 1 0 0");
        File.SetLastWriteTimeUtc(target, DateTime.UtcNow.AddMinutes(5));
        using (var index = ImageIndex.Open(_dir.Combine("index.db")))
        {
            var summary = Indexer.Run(index, encoder, "vectors", [_dir.Combine("photos")]);
            Assert.Equal(1, summary.Embedded);
            var stored = new List<float[]>();
            index.ReadEmbeddings(0, (_, v) => stored.Add(v.ToArray()));
            Assert.Equal([0f, 1f, 0f, 0f], Assert.Single(stored));
        }
    }

    [Fact]
    public void ALinkToAWeightsFileLoadsLikeTheFile()
    {
        var weights = Fixtures.PathOf(Fixtures.Array("models").First().GetProperty("weights").GetString()!);
        var link = _dir.Combine("link.safetensors");
        File.CreateSymbolicLink(link, weights);
        using (var file = SafeTensorsFile.Open(link))
        using (var original = SafeTensorsFile.Open(weights))
            Assert.Equal(original.Names.Order(StringComparer.Ordinal), file.Names.Order(StringComparer.Ordinal));
        using var checkpoint = CheckpointLoader.Read(link);
        Assert.NotNull(checkpoint.ResolvedConfig);
        var (exit, stdout, err) = CliProcess.Run("info", link);
        Assert.True(exit == 0, err);
        Assert.Contains("param", stdout, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void AFifoGivenAsAModelOrImageIsOneClearErrorNotAHang()
    {
        var fifo = Fifo("weights.safetensors");
        var e = Assert.ThrowsAny<IOException>(() => WithinDeadline<object>(() => CheckpointLoader.Read(fifo)));
        Assert.Contains("FIFO", e.Message);
        Assert.Contains(fifo, e.Message);
        var imageFifo = Fifo("photo.png");
        var (exit, _, err) = WithinDeadline(() => CliProcess.Run("info", fifo));
        Assert.NotEqual(0, exit);
        Assert.Contains("FIFO", err);
        Assert.DoesNotContain("   at ", err); // no stack trace
        var walkFifo = FileStatus.Of(imageFifo);
        Assert.Equal(FileKind.Fifo, walkFifo.Kind);
    }
}
