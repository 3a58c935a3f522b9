using System.Net;
using System.Runtime.InteropServices;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using SharpClip.Search;
using SharpClip.Demos.Toy;
using SharpClip.Tests.Search;

namespace SharpClip.Web.Tests;

[Collection("web")]
public class ApiTests(WebAppFixture web)
{
    async Task<JsonElement> Json(string url)
    {
        var r = await web.Http.GetAsync(url);
        Assert.True(r.IsSuccessStatusCode, $"{url}: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
        return JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement;
    }

    static async Task AssertProblem(HttpResponseMessage r, HttpStatusCode status, string? detailContains = null)
    {
        string body = await r.Content.ReadAsStringAsync();
        Assert.True(status == r.StatusCode, $"expected {status}, got {r.StatusCode}: {body}");
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        var p = JsonDocument.Parse(body).RootElement;
        Assert.Equal((int)status, p.GetProperty("status").GetInt32());
        if (detailContains is not null) Assert.Contains(detailContains, p.GetProperty("detail").GetString());
    }

    [Fact]
    public void BindsLoopbackOnly() => Assert.StartsWith("http://127.0.0.1:", web.BaseUrl);

    [Theory]
    [InlineData("api/stats")]
    [InlineData("api/search?q=red")]
    [InlineData("api/image/1")]
    [InlineData("")]
    public async Task RefusesAForeignHostNameAgainstDnsRebinding(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Host = $"attacker.example:{new Uri(web.BaseUrl).Port}";
        var r = await web.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.DoesNotContain("images", await r.Content.ReadAsStringAsync());

        foreach (var host in new[] { "localhost", "127.0.0.1" })
        {
            using var ok = new HttpRequestMessage(HttpMethod.Get, "api/stats");
            ok.Headers.Host = $"{host}:{new Uri(web.BaseUrl).Port}";
            Assert.Equal(HttpStatusCode.OK, (await web.Http.SendAsync(ok)).StatusCode);
        }
    }

    [Fact]
    public async Task StatsDescribeTheIndex()
    {
        var s = await Json("api/stats");
        Assert.True(s.GetProperty("images").GetInt32() >= WebAppFixture.Colours.Length);
        Assert.Equal(1, s.GetProperty("failures").GetInt32());
        Assert.Equal(ToyColorEncoder.ModelName, s.GetProperty("model").GetString());
        Assert.Equal(web.Encoder.Dimension, s.GetProperty("dimension").GetInt32());
    }

    [Fact]
    public async Task TextSearchReturnsTheEncodersRankingWithScores()
    {
        var q = web.Encoder.EmbedText("green");
        var expected = web.ExpectedOrder(q).Take(5).ToList();
        var got = (await Json("api/search?q=green&k=5")).GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(expected, got.Select(h => Path.GetFileNameWithoutExtension(h.GetProperty("name").GetString())));
        var scores = got.Select(h => h.GetProperty("score").GetSingle()).ToList();
        Assert.Equal(scores.OrderByDescending(x => x), scores);
        Assert.StartsWith("/api/thumb/", got[0].GetProperty("thumb").GetString());
    }

    static List<string> Names(JsonElement response) =>
        [.. response.GetProperty("results").EnumerateArray().Select(h => h.GetProperty("name").GetString()!)];

    [Fact]
    public async Task SearchPagesWithOffsetAndSaysTheTotal()
    {
        int searchable = (await Json("api/stats")).GetProperty("searchable").GetInt32();
        var all = await Json("api/search?q=orange&k=200");
        Assert.Equal(searchable, all.GetProperty("total").GetInt32());
        Assert.Equal(searchable, all.GetProperty("count").GetInt32());     // every indexed image is ranked
        var ranking = Names(all);

        for (int offset = 0; offset < searchable; offset += 5)
        {
            var page = await Json($"api/search?q=orange&k=5&offset={offset}");
            Assert.Equal(ranking.Skip(offset).Take(5), Names(page));
            Assert.Equal((offset, 5, searchable), (page.GetProperty("offset").GetInt32(), page.GetProperty("k").GetInt32(), page.GetProperty("total").GetInt32()));
        }
        var beyond = await Json($"api/search?q=orange&k=5&offset={searchable}");
        Assert.Equal((0, searchable), (beyond.GetProperty("count").GetInt32(), beyond.GetProperty("total").GetInt32()));

        await AssertProblem(await web.Http.GetAsync("api/search?q=red&offset=-1"), HttpStatusCode.BadRequest, "offset must be");
        await AssertProblem(await web.Http.GetAsync("api/search?q=red&offset=x"), HttpStatusCode.BadRequest, "offset must be");
        await AssertProblem(await web.Http.GetAsync($"api/search?q=red&offset={web.Options.MaxOffset + 1}"), HttpStatusCode.BadRequest, "offset must be");
    }

    [Fact]
    public async Task UploadSearchPagesToo()
    {
        var upload = TestBmp.Solid(20, 10, 30, 200, 200);
        async Task<JsonElement> Post(int k, int offset)
        {
            var form = Upload(upload);
            form.Add(new StringContent(k.ToString(System.Globalization.CultureInfo.InvariantCulture)), "k");
            form.Add(new StringContent(offset.ToString(System.Globalization.CultureInfo.InvariantCulture)), "offset");
            var r = await web.Http.PostAsync("api/search/image", form);
            Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
            return JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement;
        }
        var first = Names(await Post(8, 0));
        Assert.Equal(first.Skip(4), Names(await Post(4, 4)));
    }

    [Fact]
    public async Task TheBlank16BitGreyImageIsIndexedWithAWarningThatTheApiReturns()
    {
        Assert.Equal(1, (await Json("api/stats")).GetProperty("warnings").GetInt32());
        var warning = Assert.Single((await Json("api/warnings")).EnumerateArray());
        Assert.Equal("grey16.png", warning.GetProperty("name").GetString());
        Assert.Equal(web.Grey16Path, warning.GetProperty("path").GetString());
        string reason = warning.GetProperty("reason").GetString()!;
        Assert.Equal("16-bit grey image: Pillow's conversion clips it; it embeds as (nearly) blank (100% of pixels clip to white)", reason);

        // still searchable (the embedding keeps Pillow's conversion: it is the white card), and its hit carries the warning
        var hits = (await Json("api/search?q=white&k=200")).GetProperty("results").EnumerateArray().ToList();
        Assert.Equal("grey16.png", hits[0].GetProperty("name").GetString());
        Assert.Equal(warning.GetProperty("id").GetInt64(), hits[0].GetProperty("id").GetInt64());
        Assert.Equal(reason, hits[0].GetProperty("warning").GetString());
        Assert.All(hits.Skip(1), h => Assert.Equal(JsonValueKind.Null, h.GetProperty("warning").ValueKind));
    }

    [Fact]
    public async Task TheFaviconIsAnSvgAndFaviconIcoLeadsToIt()
    {
        var svg = await web.Http.GetAsync("favicon.svg");
        Assert.Equal(HttpStatusCode.OK, svg.StatusCode);
        Assert.Equal("image/svg+xml", svg.Content.Headers.ContentType?.MediaType);
        var doc = System.Xml.Linq.XDocument.Parse(await svg.Content.ReadAsStringAsync());
        Assert.Equal("{http://www.w3.org/2000/svg}svg", doc.Root!.Name.ToString());

        using var noRedirects = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = web.Http.BaseAddress };
        var ico = await noRedirects.GetAsync("favicon.ico");
        Assert.Equal(HttpStatusCode.MovedPermanently, ico.StatusCode);
        Assert.Equal("/favicon.svg", ico.Headers.Location?.ToString());
    }

    [Fact]
    public async Task BadParametersAreProblemDetails()
    {
        await AssertProblem(await web.Http.GetAsync("api/search?q=red&k=0"), HttpStatusCode.BadRequest, "k must be");
        await AssertProblem(await web.Http.GetAsync("api/search?q=red&k=abc"), HttpStatusCode.BadRequest, "k must be");
        await AssertProblem(await web.Http.GetAsync("api/search?q=red&k=100000"), HttpStatusCode.BadRequest, "k must be");
        await AssertProblem(await web.Http.GetAsync("api/search"), HttpStatusCode.BadRequest);
        await AssertProblem(await web.Http.GetAsync("api/search?id=abc"), HttpStatusCode.BadRequest, "id must be");
        await AssertProblem(await web.Http.GetAsync("api/search?id=987654"), HttpStatusCode.NotFound, "987654");
        await AssertProblem(await web.Http.GetAsync("api/search?q=" + new string('x', 2000)), HttpStatusCode.BadRequest, "longer than");
        await AssertProblem(await web.Http.GetAsync("api/thumb/987654"), HttpStatusCode.NotFound);
        await AssertProblem(await web.Http.GetAsync("api/nothing-here"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task FilesAreServedOnlyByIndexedId()
    {
        foreach (var url in new[] { "api/thumb/..%2F..%2F..%2Fetc%2Fpasswd", "api/image/%2Fetc%2Fpasswd", "api/image/../../etc/passwd", "etc/passwd" })
        {
            var r = await web.Http.GetAsync(url);
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
            Assert.DoesNotContain("root:", await r.Content.ReadAsStringAsync());
        }
        var hit = (await Json("api/search?q=red&k=1")).GetProperty("results")[0];
        long id = hit.GetProperty("id").GetInt64();
        var original = await web.Http.GetByteArrayAsync($"api/image/{id}");
        Assert.Equal(File.ReadAllBytes(hit.GetProperty("path").GetString()!), original);
    }

    [Fact]
    public async Task ThumbnailsAreSmallAndCached()
    {
        long id = (await Json("api/search?q=blue&k=1")).GetProperty("results")[0].GetProperty("id").GetInt64();
        var cache = web.App.Services.GetRequiredService<ThumbnailCache>();
        var first = await web.Http.GetAsync($"api/thumb/{id}");
        int generated = cache.Generated;
        var second = await web.Http.GetAsync($"api/thumb/{id}");
        Assert.Equal(generated, cache.Generated);
        Assert.Equal("image/bmp", first.Content.Headers.ContentType?.MediaType);
        var bytes = await second.Content.ReadAsByteArrayAsync();
        using var s = new MemoryStream(bytes);
        var info = web.Encoder.Probe(s);
        Assert.Equal(32, Math.Max(info.Width, info.Height));
    }

    static MultipartFormDataContent Upload(byte[] bytes, string type = "image/bmp")
    {
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue(type);
        form.Add(file, "image", "upload.bmp");
        return form;
    }

    [Fact]
    public async Task UploadSearchesByImageWithinLimits()
    {
        var upload = TestBmp.Solid(20, 10, 30, 200, 200);
        var r = await web.Http.PostAsync("api/search/image", Upload(upload));
        Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
        var names = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("results").EnumerateArray()
            .Select(h => Path.GetFileNameWithoutExtension(h.GetProperty("name").GetString())).ToList();
        Assert.Equal(web.ExpectedOrder(web.Encoder.EmbedImage(new MemoryStream(upload))).Take(names.Count), names);

        await AssertProblem(await web.Http.PostAsync("api/search/image", Upload(TestBmp.Solid(150, 150, 1, 2, 3))), HttpStatusCode.RequestEntityTooLarge); // 67 KB > 64 KB
        await AssertProblem(await web.Http.PostAsync("api/search/image", Upload(TestBmp.Solid(200, 60, 1, 2, 3))), HttpStatusCode.RequestEntityTooLarge, "pixels"); // 36 KB, 12000 px
        await AssertProblem(await web.Http.PostAsync("api/search/image", Upload("hello"u8.ToArray())), HttpStatusCode.BadRequest);
        await AssertProblem(await web.Http.PostAsync("api/search/image", new StringContent("x")), HttpStatusCode.UnsupportedMediaType);
    }

    [DllImport("libc", SetLastError = true)]
    static extern int mkfifo([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode);

    [Fact]
    public async Task ServesOnlyTheFileThatWasIndexed()
    {
        // Copies of an indexed picture (same bytes: ties go to the original's smaller id, so other tests' searches
        // are unchanged), indexed, then swapped on disk for a link to /etc/passwd and for a FIFO.
        string dir = Path.Combine(web.Root, "swapped");
        Directory.CreateDirectory(dir);
        string linked = Path.Combine(dir, "linked.bmp"), piped = Path.Combine(dir, "piped.bmp");
        File.Copy(Path.Combine(web.PhotoDir, "scarlet.bmp"), linked);
        File.Copy(Path.Combine(web.PhotoDir, "scarlet.bmp"), piped);
        Dictionary<string, long> ids;
        using (var index = ImageIndex.Open(web.IndexPath))
        {
            Indexer.Run(index, web.Encoder, ToyColorEncoder.ModelName, [dir]);
            var all = new List<long>();
            index.ReadEmbeddings(0, (id, _) => all.Add(id));
            ids = all.Select(id => index.Get(id)!).Where(r => r.Path.StartsWith(dir, StringComparison.Ordinal)).ToDictionary(r => r.Path, r => r.Id);
        }
        Assert.Equal(HttpStatusCode.OK, (await web.Http.GetAsync($"api/image/{ids[linked]}")).StatusCode);

        File.Delete(linked);
        File.CreateSymbolicLink(linked, "/etc/passwd");
        var r = await web.Http.GetAsync($"api/image/{ids[linked]}");
        Assert.Equal(HttpStatusCode.Conflict, r.StatusCode);
        Assert.DoesNotContain("root:", await r.Content.ReadAsStringAsync());

        File.Delete(piped);
        Assert.Equal(0, mkfifo(piped, Convert.ToUInt32("644", 8)));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        foreach (var endpoint in new[] { "image", "thumb" })
        {
            var fifo = await web.Http.GetAsync($"api/{endpoint}/{ids[piped]}", timeout.Token);
            await AssertProblem(fifo, HttpStatusCode.NotFound, "FIFO");
        }
    }

    [Theory]
    [InlineData("multipart/form-data", "abc")]                                          // no boundary
    [InlineData("multipart/form-data; boundary=XYZ", "--XYZ\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\n\r\nabc")] // cut short
    [InlineData("multipart/form-data; boundary=XYZ", "--XYZ\r\nthis is not a header line\r\n\r\nabc\r\n--XYZ--\r\n")]
    public async Task AMalformedUploadIsABadRequestNotAServerErrorOrTooLarge(string contentType, string body)
    {
        using var content = new StringContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        var r = await web.Http.PostAsync("api/search/image", content);
        await AssertProblem(r, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task NewRowsCommittedByAnIndexerAppearWithoutRestart()
    {
        string extra = web.LaterDir;
        Directory.CreateDirectory(extra);
        File.WriteAllBytes(Path.Combine(extra, "latecomer.bmp"), TestBmp.Solid(8, 8, 255, 0, 255));
        int before = (await Json("api/stats")).GetProperty("searchable").GetInt32();
        using (var index = ImageIndex.Open(web.IndexPath))
            Indexer.Run(index, web.Encoder, ToyColorEncoder.ModelName, [extra]);
        var top = (await Json("api/search?q=magenta&k=1")).GetProperty("results")[0];
        Assert.Equal("latecomer.bmp", top.GetProperty("name").GetString());
        Assert.Equal(before + 1, (await Json("api/stats")).GetProperty("searchable").GetInt32());
    }
}
