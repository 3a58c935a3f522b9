using System.Net;
using System.Text.Json;
using SharpClip.Generation.TextToImage;

namespace SharpClip.Web.Tests;

/// <summary>
/// The generate API on tiny generators: PNGs and the parameter record for a valid request, byte-identical to the
/// library's own run of the same request; the same seed giving the same bytes and image i being seed + i alone; every
/// bad field a 400 naming it; cancel; the queue's place in line and its limit; DALL-E candidates reranked by CLIP.
/// </summary>
[Collection("generate")]
public class GenerateApiTests(GenerateFixture gen)
{
    static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Width and height from a PNG's IHDR chunk (bytes 16–23, big-endian).</summary>
    static (int Width, int Height) PngSize(byte[] png)
    {
        Assert.Equal(PngSignature, png[..8]);
        return (System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
    }

    static string[] Urls(JsonElement status) => [.. status.GetProperty("images").EnumerateArray().Select(i => i.GetProperty("url").GetString()!)];

    [Fact]
    public async Task AValidRequestGivesPngsAndEveryParameterAsTheLibraryWouldWriteThem()
    {
        var s = await gen.Both.Run(new { prompt = "a red circle", negative = "blurry", steps = 4, guidance = 3.0, seed = 7, count = 2, sampler = "euler", karras = true });
        var record = s.GetProperty("parameters");
        Assert.Equal("a red circle", record.GetProperty("prompt").GetString());
        Assert.Equal("blurry", record.GetProperty("negative_prompt").GetString());
        Assert.Equal("latent-diffusion", record.GetProperty("model").GetProperty("kind").GetString());
        Assert.Equal(Path.GetFullPath(gen.DiffusionModel), record.GetProperty("model").GetProperty("path").GetString());
        Assert.Equal(("euler", true, 4, 3.0), (record.GetProperty("sampler").GetString(), record.GetProperty("karras").GetBoolean(),
            record.GetProperty("steps").GetInt32(), record.GetProperty("guidance").GetDouble()));
        Assert.Equal([7L, 8L], record.GetProperty("images").EnumerateArray().Select(i => i.GetProperty("seed").GetInt64()));
        Assert.Equal([7L, 8L], s.GetProperty("images").EnumerateArray().Select(i => i.GetProperty("seed").GetInt64()));
        Assert.Equal(s.GetProperty("total").GetInt32(), s.GetProperty("done").GetInt32());

        var pngs = await Task.WhenAll(Urls(s).Select(gen.Both.Bytes));
        foreach (var png in pngs) Assert.Equal((16, 16), PngSize(png));
        var json = await gen.Both.Http.GetAsync(s.GetProperty("parametersUrl").GetString()!.TrimStart('/') + "?download=1");
        Assert.Equal("application/json", json.Content.Headers.ContentType?.MediaType);
        Assert.Equal("generation.json", json.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
        Assert.Equal(record.GetProperty("prompt").GetString(), JsonDocument.Parse(await json.Content.ReadAsStringAsync()).RootElement.GetProperty("prompt").GetString());

        // The library's own run of the request the fields describe (as `generate` makes it) writes the same bytes.
        var folder = Path.Combine(gen.Root, "library-run");
        using (var generator = TextToImageGenerators.Open(gen.DiffusionModel))
            TextToImageRun.Run(generator, new TextToImageRequest
            {
                Prompt = "a red circle", NegativePrompt = "blurry", Steps = 4, GuidanceScale = 3, Seed = 7, Count = 2, Sampler = "euler", Karras = true,
            }, folder);
        Assert.Equal(Directory.GetFiles(folder, "*.png").Order(StringComparer.Ordinal).Select(File.ReadAllBytes), pngs);
    }

    [Fact]
    public async Task TheSameSeedGivesTheSameBytesAndImageIIsSeedPlusIAlone()
    {
        var first = await Task.WhenAll(Urls(await gen.Both.Run(new { prompt = "a blue square", steps = 3, sampler = "euler", seed = 11, count = 2 })).Select(gen.Both.Bytes));
        var again = await Task.WhenAll(Urls(await gen.Both.Run(new { prompt = "a blue square", steps = 3, sampler = "euler", seed = 11, count = 2 })).Select(gen.Both.Bytes));
        var alone = await gen.Both.Bytes(Urls(await gen.Both.Run(new { prompt = "a blue square", steps = 3, sampler = "euler", seed = 12, count = 1 })).Single());
        Assert.Equal(first, again);
        Assert.Equal(first[1], alone);
        Assert.NotEqual(first[0], first[1]);
    }

    public static TheoryData<string, string> BadDiffusionRequests => new()
    {
        { """{ "prompt": "  " }""", "prompt" },
        { """{ "prompt": "x", "steps": 0 }""", "steps" },
        { """{ "prompt": "x", "steps": 501 }""", "steps" },
        { """{ "prompt": "x", "steps": "ten" }""", "steps" },
        { """{ "prompt": "x", "guidance": 0.5 }""", "guidance" },
        { """{ "prompt": "x", "seed": -1 }""", "seed" },
        { """{ "prompt": "x", "width": 15 }""", "width" },
        { """{ "prompt": "x", "height": 128 }""", "height" },
        { """{ "prompt": "x", "width": 64, "height": 32 }""", "width" },
        { """{ "prompt": "x", "count": 0 }""", "count" },
        { """{ "prompt": "x", "count": 7 }""", "count" },
        { """{ "prompt": "x", "sampler": "plms" }""", "sampler" },
        { """{ "prompt": "x", "karras": "yes" }""", "karras" },
        { """{ "prompt": "x", "temperature": 0.9 }""", "temperature" },
        { """{ "prompt": "x", "keep": 1 }""", "keep" },
        { """{ "prompt": "x", "colour": "red" }""", "colour" },
        { """{ "prompt": "x", """, "body" },
        { """["a red circle"]""", "body" },
    };

    [Theory, MemberData(nameof(BadDiffusionRequests))]
    public async Task EveryBadFieldIsA400NamingIt(string body, string field) => await AssertFieldProblem(gen.Both, body, field);

    public static TheoryData<string, string> BadDalleRequests => new()
    {
        { """{ "prompt": "x", "steps": 5 }""", "steps" },
        { """{ "prompt": "x", "negative": "blurry" }""", "negative" },
        { """{ "prompt": "x", "width": 32 }""", "width" },
        { """{ "prompt": "x", "count": 4, "keep": 5 }""", "keep" },
        { """{ "prompt": "x", "topP": 2 }""", "topP" },
        { """{ "prompt": "x", "sampler": "ddim" }""", "sampler" },
    };

    [Theory, MemberData(nameof(BadDalleRequests))]
    public async Task DalleRefusesDiffusionFieldsByName(string body, string field) => await AssertFieldProblem(gen.Dalle, body, field);

    static async Task AssertFieldProblem(GenerateFixture.Server server, string body, string field)
    {
        var r = await server.Submit(body);
        string text = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == HttpStatusCode.BadRequest, $"{body}: expected 400, got {(int)r.StatusCode}: {text}");
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        var p = JsonDocument.Parse(text).RootElement;
        Assert.Equal(field, p.GetProperty("field").GetString());
        Assert.Contains(field, p.GetProperty("detail").GetString());
        Assert.Contains($"'{field}'", p.GetProperty("title").GetString());
        Assert.DoesNotContain(" at SharpClip", text); // a message, never a stack trace
    }

    /// <summary>A long job: 500 Euler steps for each of 6 images (3000 U-Net calls), far longer than the test's reactions.</summary>
    static object Long(int seed) => new { prompt = "a long wait", steps = 500, sampler = "euler", count = 6, seed };

    [Fact]
    public async Task CancelStopsARunningJobBetweenSteps()
    {
        var id = await gen.Both.Start(Long(1));
        await gen.Both.WaitFor(id, s => s.GetProperty("done").GetInt32() > 0);
        var answer = await gen.Both.Http.PostAsync($"api/generate/{id}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var s = await gen.Both.WaitFor(id);
        Assert.Equal("cancelled", s.GetProperty("state").GetString());
        Assert.True(s.GetProperty("done").GetInt32() < s.GetProperty("total").GetInt32(), s.ToString());
        Assert.Equal(3000, s.GetProperty("total").GetInt32());
        Assert.Equal(HttpStatusCode.Conflict, (await gen.Both.Http.GetAsync($"api/generate/{id}/files/generation.json")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await gen.Both.Http.GetAsync("api/generate/0123456789abcdef/files/generation.json")).StatusCode);
    }

    [Fact]
    public async Task OneRunsOneWaitsWithItsPlaceAndTheNextIsTurnedAway()
    {
        var running = await gen.Both.Start(Long(2));
        await gen.Both.WaitFor(running, s => s.GetProperty("state").GetString() == "running");
        var waiting = await gen.Both.Start(Long(3));
        var status = await gen.Both.Status(waiting);
        Assert.Equal(("queued", 1, true), (status.GetProperty("state").GetString(), status.GetProperty("position").GetInt32(), status.GetProperty("busy").GetBoolean()));

        var refused = await gen.Both.Submit(Long(4));
        string text = await refused.Content.ReadAsStringAsync();
        Assert.True(refused.StatusCode == HttpStatusCode.ServiceUnavailable, text);
        Assert.Contains("waiting", JsonDocument.Parse(text).RootElement.GetProperty("detail").GetString());
        Assert.NotNull(refused.Headers.RetryAfter);

        // A waiting job leaves the line at once; the running one stops at its next step; then there is room again.
        await gen.Both.Http.PostAsync($"api/generate/{waiting}/cancel", null);
        Assert.Equal("cancelled", (await gen.Both.Status(waiting)).GetProperty("state").GetString());
        await gen.Both.Http.PostAsync($"api/generate/{running}/cancel", null);
        Assert.Equal("cancelled", (await gen.Both.WaitFor(running)).GetProperty("state").GetString());
        await gen.Both.Run(new { prompt = "room again", steps = 2 });
    }

    [Fact]
    public async Task DalleCandidatesAreRerankedByClipAndTheBestKept()
    {
        var s = await gen.Dalle.Run(new { prompt = "a red circle", count = 4, keep = 2, seed = 3, topK = 8 });
        var record = s.GetProperty("parameters");
        Assert.Equal("dalle", record.GetProperty("model").GetProperty("kind").GetString());
        var scores = record.GetProperty("rerank").GetProperty("scores").EnumerateArray().ToList();
        Assert.Equal([3L, 4L, 5L, 6L], scores.Select(x => x.GetProperty("seed").GetInt64()).Order());
        Assert.Equal(64, s.GetProperty("total").GetInt32()); // 4 candidates × 16 image tokens
        var images = s.GetProperty("images").EnumerateArray().ToList();
        Assert.Equal(2, images.Count);
        // The kept ones are the two best of the recorded scores, best first.
        var best = scores.OrderByDescending(x => x.GetProperty("cosine").GetDouble()).Take(2).Select(x => x.GetProperty("seed").GetInt64());
        Assert.Equal(best, images.Select(i => i.GetProperty("seed").GetInt64()));
        foreach (var png in await Task.WhenAll(Urls(s).Select(gen.Dalle.Bytes))) Assert.Equal((16, 16), PngSize(png));
        Assert.Equal(PngSignature, (await gen.Dalle.Bytes(s.GetProperty("contactSheet").GetString()!))[..8]);
    }

    [Fact]
    public async Task EachServerServesOnlyItsPagesAndSaysWhichItHas()
    {
        var dalle = JsonDocument.Parse(await gen.Dalle.Http.GetStringAsync("api/features")).RootElement;
        Assert.Equal((false, true), (dalle.GetProperty("search").GetBoolean(), dalle.GetProperty("generate").GetBoolean()));
        Assert.Contains("id=\"generate-form\"", await gen.Dalle.Http.GetStringAsync(""));
        Assert.Equal(HttpStatusCode.NotFound, (await gen.Dalle.Http.GetAsync("index.html")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await gen.Dalle.Http.GetAsync("api/stats")).StatusCode);

        var both = JsonDocument.Parse(await gen.Both.Http.GetStringAsync("api/features")).RootElement;
        Assert.Equal((true, true), (both.GetProperty("search").GetBoolean(), both.GetProperty("generate").GetBoolean()));
        Assert.Contains("id=\"search-form\"", await gen.Both.Http.GetStringAsync(""));
        Assert.Contains("id=\"generate-form\"", await gen.Both.Http.GetStringAsync("generate.html"));

        var info = JsonDocument.Parse(await gen.Dalle.Http.GetStringAsync("api/generate/info")).RootElement;
        Assert.Equal(["prompt", "seed", "width", "height", "count", "keep", "sampler", "temperature", "topK", "topP"],
            info.GetProperty("fields").EnumerateArray().Select(f => f.GetString()));
        Assert.True(info.GetProperty("fixedSize").GetBoolean());
    }
}
