using System.Text.Json;
using SharpClip.Search;
using SharpClip.Demos.Toy;

namespace SharpClip.Tests.Search;

/// <summary>The index/search/dedup verbs end to end in real processes, including a kill -9 in the middle of indexing.</summary>
public class CliSearchTests : IDisposable
{
    readonly TempDir dir = new();
    const string Toy = ToyColorEncoder.ModelName;

    /// <summary>n solid images with distinct colours along a hue ramp; returns their (r,g,b) in [0,1].</summary>
    Dictionary<string, (float R, float G, float B)> MakeImages(int n)
    {
        var colours = new Dictionary<string, (float, float, float)>();
        for (int i = 0; i < n; i++)
        {
            byte r = (byte)(255 - i * 200 / n), g = (byte)(i * 230 / n), b = (byte)(40 + i * 150 / n);
            string path = dir.Write($"photos/{i / 10}/img{i:D3}.bmp", TestBmp.Solid(4, 3, r, g, b));
            colours[path] = (r / 255f, g / 255f, b / 255f);
        }
        return colours;
    }

    [Fact]
    public void IndexSearchAndDedupVerbsWork()
    {
        var colours = MakeImages(12);
        dir.Write("photos/copy-of-first.bmp", File.ReadAllBytes(colours.Keys.First()));
        dir.Write("photos/broken.png", "this is not a PNG");
        var (exit, stdout, stderr) = CliProcess.Run("index", dir["photos"], "--model", Toy, "--index", dir["i.db"], "--json");
        Assert.True(exit == 0, stderr);
        var summary = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(14, summary.GetProperty("scanned").GetInt32());
        Assert.Equal(12, summary.GetProperty("embedded").GetInt32());
        Assert.Equal(1, summary.GetProperty("reused").GetInt32());   // the copy: same bytes, embedding reused
        Assert.Equal(1, summary.GetProperty("failed").GetInt32());

        (exit, stdout, stderr) = CliProcess.Run("search", "--index", dir["i.db"], "green", "-k", "3", "--json");
        Assert.True(exit == 0, stderr);
        var got = JsonDocument.Parse(stdout).RootElement.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("path").GetString()!).ToList();
        // expected order computed here by brute force from the known colours
        var green = ToyColorEncoder.EmbedColor(0f, 0.63f, 0f);
        var expected = colours.OrderByDescending(c => Vectors.Dot(ToyColorEncoder.EmbedColor(c.Value.R, c.Value.G, c.Value.B), green)).Take(3).Select(c => c.Key);
        Assert.Equal(expected, got);

        // Into a pipe, the same hits as plain tab-separated lines: whole paths, no 80-column table (-m: the index's model).
        (exit, stdout, stderr) = CliProcess.Run("search", "--index", dir["i.db"], "green", "-k", "3", "-m", Toy);
        Assert.True(exit == 0, stderr);
        var rows = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')).ToList();
        Assert.All(rows, r => Assert.Equal(4, r.Length));
        Assert.Equal(["1", "2", "3"], rows.Select(r => r[0]));
        Assert.Equal(expected, rows.Select(r => r[2]));
        Assert.DoesNotContain("─", stdout);

        (exit, stdout, stderr) = CliProcess.Run("dedup", "--index", dir["i.db"], "--threshold", "0.9999", "--json");
        Assert.True(exit == 0, stderr);
        var group = Assert.Single(JsonDocument.Parse(stdout).RootElement.GetProperty("groups").EnumerateArray());
        Assert.Equal(new[] { colours.Keys.First(), dir["photos/copy-of-first.bmp"] }.Order(),
            group.GetProperty("images").EnumerateArray().Select(i => i.GetProperty("path").GetString()!).Order());
    }

    [Fact]
    public void UserErrorsPrintOneLineAndExitNonZero()
    {
        MakeImages(2);
        var (exit, _, stderr) = CliProcess.Run("index", dir["photos"], "--model", "no-such-model.safetensors", "--index", dir["i.db"]);
        Assert.Equal(1, exit);
        Assert.Contains("no-such-model.safetensors", stderr);
        Assert.Single(stderr.Trim().Split('\n'));

        (exit, _, stderr) = CliProcess.Run("search", "--index", dir["missing.db"], "red");
        Assert.Equal(1, exit);
        Assert.Contains("missing.db", stderr);
    }

    [Fact]
    public void KilledIndexingProcessLeavesAValidIndexAndTheNextRunReEmbedsNothingCommitted()
    {
        const int total = 80;   // with 250 ms per image the run would take ~10 s; it is killed after ~1 s
        var colours = MakeImages(total);
        string index = dir["killed.db"];
        using var slow = CliProcess.Start(["index", dir["photos"], "--model", Toy, "--index", index, "--batch-size", "4", "--json"],
            new Dictionary<string, string> { ["SHARPCLIP_TOY_DELAY_MS"] = "250" });
        long seenBeforeKill = 0;
        var log = new List<string>();
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (seenBeforeKill < 8)
        {
            if (slow.HasExited) Assert.Fail("the indexer finished before it could be killed: " + slow.StandardError.ReadToEnd());
            Assert.True(DateTime.UtcNow < deadline, "the indexer committed nothing within 60 s");
            Thread.Sleep(50);
            if (!File.Exists(index)) continue;
            try
            {
                using var peek = ImageIndex.Open(index);
                seenBeforeKill = peek.Metadata is null ? 0 : peek.Count();
                log.Add($"{sw.ElapsedMilliseconds}:{seenBeforeKill}");
            }
            catch (InvalidDataException e) { log.Add(e.Message); }   // file exists but the schema is not committed yet
        }
        slow.Kill();                            // SIGKILL: no cleanup code runs
        slow.WaitForExit();

        long committed;
        using (var idx = ImageIndex.Open(index))
        {
            Assert.Equal("ok", idx.IntegrityCheck());
            committed = idx.Count();
            Assert.True(committed < total, string.Join(" ", log) + $" killed at {sw.ElapsedMilliseconds}");
            Assert.InRange(committed, seenBeforeKill, total - 1);
            // every committed row is complete and correct
            var rows = new List<(long Id, float[] V)>();
            idx.ReadEmbeddings(0, (id, v) => rows.Add((id, v.ToArray())));
            Assert.Equal(committed, rows.Count);
            foreach (var (id, v) in rows)
            {
                var c = colours[idx.Get(id)!.Path];
                var expected = ToyColorEncoder.EmbedColor(c.R, c.G, c.B);
                for (int i = 0; i < v.Length; i++) Assert.Equal(expected[i], v[i], 5);
            }
        }

        var (exit, stdout, stderr) = CliProcess.Run("index", dir["photos"], "--model", Toy, "--index", index, "--batch-size", "4", "--json");
        Assert.True(exit == 0, stderr);
        var summary = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(total - committed, summary.GetProperty("embedded").GetInt32());
        Assert.Equal(committed, summary.GetProperty("unchanged").GetInt32());
        using var done = ImageIndex.Open(index);
        Assert.Equal(total, done.Count());
    }

    public void Dispose() => dir.Dispose();
}
