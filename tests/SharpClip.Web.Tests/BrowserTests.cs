using System.Diagnostics;
using Microsoft.Playwright;
using SharpClip.Tests.Search;
using static Microsoft.Playwright.Assertions;

namespace SharpClip.Web.Tests;

/// <summary>
/// The page in real headless Chromium: type a query, the URL round trip with back/forward, page size and paging, the
/// viewer, upload, favicon, the index's warnings; screenshots go to artifacts/web/ at the repository root (not committed).
/// </summary>
[Collection("web")]
public class BrowserTests(WebAppFixture web) : IAsyncLifetime
{
    IBrowserContext context = null!;
    IPage page = null!;
    readonly Stopwatch clock = Stopwatch.StartNew();

    public async Task InitializeAsync()
    {
        context = await web.Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1100, Height = 760 } });
        page = await context.NewPageAsync();
        page.PageError += (_, e) => Console.WriteLine($"page error: {e}");
        page.Console += (_, m) => { if (m.Type == "error") Console.WriteLine($"console error: {m.Text}"); };
        await page.GotoAsync(web.BaseUrl);
        await Expect(page.Locator("#stats")).ToContainTextAsync("images");
    }

    async Task<List<string>> ShownNames() =>
        [.. (await page.Locator("figure.hit .name").AllTextContentsAsync()).Select(n => Path.GetFileNameWithoutExtension(n))];

    /// <summary>The names the JSON API ranks for a query (the API's own ranking is checked against the encoder in ApiTests).</summary>
    async Task<List<string>> ApiNames(string query)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(await web.Http.GetStringAsync("api/search?" + query));
        return [.. doc.RootElement.GetProperty("results").EnumerateArray().Select(h => Path.GetFileNameWithoutExtension(h.GetProperty("name").GetString()!))];
    }

    /// <summary>artifacts/web/ at the repository root (found by walking up to SharpClip.sln); git ignores /artifacts/.</summary>
    internal static string Screenshot(string name)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "SharpClip.sln"))) dir = dir.Parent;
        string target = Path.Combine(dir?.FullName ?? AppContext.BaseDirectory, "artifacts", "web");
        Directory.CreateDirectory(target);
        return Path.Combine(target, name);
    }

    async Task Shoot(string name, bool fullPage = true)
    {
        string shot = Screenshot(name);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = shot, FullPage = fullPage });
        Assert.True(new FileInfo(shot).Length > 1000, $"screenshot {shot} not written");
    }

    Task Searched() => Expect(page.Locator("#status")).ToContainTextAsync("results for");

    string Query => new Uri(page.Url).Query;

    [Fact]
    public async Task TypedQueryShowsResultsInTheEncodersOrderAndTheScreenshotIsSaved()
    {
        await Expect(page.Locator("#stats")).ToContainTextAsync("1 failure ·");
        await page.FillAsync("#q", "orange");
        await page.ClickAsync("#go");
        await Expect(page.Locator("#status")).ToContainTextAsync("results for");
        var expected = web.ExpectedOrder(web.Encoder.EmbedText("orange"));
        var shown = await ShownNames();
        Assert.Equal(expected, shown);
        // every thumbnail actually decoded in the browser
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('figure.hit img')].every(i => i.complete && i.naturalWidth > 0)");
        await Shoot("search-page.png");
    }

    [Fact]
    public async Task TheSearchLivesInTheUrlAndBackAndForwardReplayIt()
    {
        // A bookmarked URL runs its search on load and fills the form from it.
        await page.GotoAsync(web.BaseUrl + "?q=red&neg=blue&k=12");
        await Searched();
        Assert.Equal(("red", "blue", "12"), (await page.InputValueAsync("#q"), await page.InputValueAsync("#negative"), await page.InputValueAsync("#k")));
        var red = await ShownNames();
        Assert.Equal((await ApiNames("q=red&negative=blue&k=12")), red);
        await Expect(page.Locator("#status")).ToContainTextAsync("“red” without “blue”");

        // Typing a search puts it in the URL as a new history entry.
        await page.FillAsync("#q", "green");
        await page.FillAsync("#negative", "");
        await page.PressAsync("#q", "Enter");
        await Expect(page.Locator("#status")).ToContainTextAsync("“green”");
        Assert.Equal("?q=green&k=12", Query);
        var green = await ShownNames();
        Assert.Equal(await ApiNames("q=green&k=12"), green);

        await page.GoBackAsync();
        await Expect(page.Locator("#status")).ToContainTextAsync("“red” without “blue”");
        Assert.Equal("?q=red&neg=blue&k=12", Query);
        Assert.Equal(("red", "blue"), (await page.InputValueAsync("#q"), await page.InputValueAsync("#negative")));
        Assert.Equal(red, await ShownNames());

        await page.GoForwardAsync();
        await Expect(page.Locator("#status")).ToContainTextAsync("“green”");
        Assert.Equal(green, await ShownNames());

        // Reloading (what opening a shared link does) gives the same page.
        await page.ReloadAsync();
        await Expect(page.Locator("#status")).ToContainTextAsync("“green”");
        Assert.Equal(green, await ShownNames());

        await page.GoBackAsync();
        await page.GoBackAsync();                                 // the blank page the test started on
        await Expect(page.Locator("figure.hit")).ToHaveCountAsync(0);
        Assert.Equal("", await page.InputValueAsync("#q"));
    }

    [Fact]
    public async Task PageSizeIsSelectableAndPagesStepThroughTheRanking()
    {
        using var stats = System.Text.Json.JsonDocument.Parse(await web.Http.GetStringAsync("api/stats"));
        int total = stats.RootElement.GetProperty("searchable").GetInt32();
        Assert.InRange(total, 13, 24);                           // one full page of 12 and a partial second one
        var ranking = await ApiNames("q=orange&k=200");

        await page.FillAsync("#q", "orange");
        await page.PressAsync("#q", "Enter");
        await Searched();
        Assert.Equal(ranking, await ShownNames());                // the default 24 hold everything: no pager
        await Expect(page.Locator("#pager")).ToBeHiddenAsync();

        await page.SelectOptionAsync("#k", "12");
        await Expect(page.Locator("#page-info")).ToContainTextAsync($"page 1 of 2 · 1–12 of {total}");
        Assert.Equal("?q=orange&k=12", Query);
        Assert.Equal(ranking.Take(12), await ShownNames());
        await Expect(page.Locator("#prev")).ToBeDisabledAsync();

        await page.ClickAsync("#next");
        await Expect(page.Locator("#page-info")).ToContainTextAsync($"page 2 of 2 · 13–{total} of {total}");
        Assert.Equal("?q=orange&k=12&page=2", Query);
        Assert.Equal(ranking.Skip(12), await ShownNames());
        await Expect(page.Locator("#next")).ToBeDisabledAsync();
        await Shoot("paging.png");

        await page.ClickAsync("#prev");
        await Expect(page.Locator("#page-info")).ToContainTextAsync("page 1 of 2");
        Assert.Equal(ranking.Take(12), await ShownNames());
        await page.GoBackAsync();                                 // back to page 2
        await Expect(page.Locator("#page-info")).ToContainTextAsync("page 2 of 2");
        Assert.Equal(ranking.Skip(12), await ShownNames());

        await page.GotoAsync(web.BaseUrl + "?q=orange&k=12&page=2"); // a bookmarked page
        await Expect(page.Locator("#page-info")).ToContainTextAsync("page 2 of 2");
        Assert.Equal(ranking.Skip(12), await ShownNames());
    }

    [Fact]
    public async Task AResultOpensTheOriginalWithItsCaptionAndTheKeyboardStepsAndCloses()
    {
        await page.FillAsync("#q", "red");
        await page.PressAsync("#q", "Enter");
        await Searched();
        var names = await ShownNames();
        int scarlet = names.IndexOf("scarlet");
        Assert.True(scarlet >= 0 && scarlet + 1 < names.Count, string.Join(",", names));
        await Expect(page.Locator("figure.hit .caption")).ToContainTextAsync(["a scarlet test card"]); // caption under the thumbnail
        await page.Locator("figure.hit").Nth(scarlet).ClickAsync();

        var viewer = page.Locator("#viewer");
        await Expect(viewer).ToBeVisibleAsync();
        await Expect(page.Locator("#viewer-caption")).ToHaveTextAsync("a scarlet test card"); // from the sidecar scarlet.txt
        await Expect(page.Locator("#viewer-path")).ToContainTextAsync(Path.Combine(web.PhotoDir, "scarlet.bmp"));
        // the original file, full size (48x36), not the 32-px thumbnail
        await page.WaitForFunctionAsync("() => { const i = document.getElementById('viewer-img'); return i.complete && i.naturalWidth > 0; }");
        Assert.Equal(48, await page.EvalOnSelectorAsync<int>("#viewer-img", "i => i.naturalWidth"));
        string src = (await page.GetAttributeAsync("#viewer-img", "src"))!;
        Assert.StartsWith("/api/image/", src);
        Assert.Equal(src, await page.GetAttributeAsync("#viewer-open", "href"));
        await Shoot("viewer.png", fullPage: false);

        await page.Keyboard.PressAsync("ArrowRight");
        string next = names[scarlet + 1];
        await Expect(page.Locator("#viewer-caption")).ToHaveTextAsync(next + ".bmp");  // no caption: the file name
        await Expect(page.Locator("#viewer-pos")).ToHaveTextAsync($"{scarlet + 2} / {names.Count}");
        await page.Keyboard.PressAsync("ArrowLeft");
        await Expect(page.Locator("#viewer-caption")).ToHaveTextAsync("a scarlet test card");

        await page.Keyboard.PressAsync("Escape");
        await Expect(viewer).ToBeHiddenAsync();
        Assert.Contains("q=red", Query);                          // closing the viewer leaves the search as it was
    }

    [Fact]
    public async Task FindSimilarInTheViewerSearchesByThatImageAndTheUrlKeepsIt()
    {
        await page.FillAsync("#q", "blue");
        await page.PressAsync("#q", "Enter");
        await Searched();
        var third = page.Locator("figure.hit").Nth(2);
        string name = Path.GetFileNameWithoutExtension(await third.Locator(".name").TextContentAsync())!;
        string id = (await third.GetAttributeAsync("data-id"))!;
        await third.ClickAsync();
        await page.ClickAsync("#viewer-similar");
        await Expect(page.Locator("#status")).ToContainTextAsync("images like " + name);
        Assert.Equal($"?like={id}&k=24", Query);
        var shown = await ShownNames();
        Assert.Equal(name, shown[0]);
        Assert.Equal("1.0000", await page.Locator("figure.hit .score").First.TextContentAsync());
        var like = web.Encoder.EmbedImages([Path.Combine(web.PhotoDir, name + ".bmp")])[0].Embedding!;
        Assert.Equal(web.ExpectedOrder(like), shown);

        await page.ReloadAsync();
        await Expect(page.Locator("#status")).ToContainTextAsync("images like " + name + ".bmp");
        Assert.Equal(shown, await ShownNames());
    }

    [Fact]
    public async Task TheFaviconIsLinkedAndServedAndThePageLoadsWithoutErrors()
    {
        var fresh = await context.NewPageAsync();
        var errors = new List<string>();
        fresh.Console += (_, m) => { if (m.Type == "error") errors.Add(m.Text); };
        fresh.Response += (_, r) => { if (r.Status >= 400) lock (errors) errors.Add($"{r.Status} {r.Url}"); };
        await fresh.GotoAsync(web.BaseUrl + "?q=yellow");
        await Expect(fresh.Locator("#status")).ToContainTextAsync("results for");
        await fresh.WaitForFunctionAsync("() => [...document.querySelectorAll('figure.hit img')].every(i => i.complete && i.naturalWidth > 0)");
        Assert.Equal("/favicon.svg", await fresh.GetAttributeAsync("link[rel=icon]", "href"));
        var icon = await fresh.APIRequest.GetAsync(web.BaseUrl + "favicon.svg");
        Assert.Equal(200, icon.Status);
        Assert.StartsWith("image/svg+xml", icon.Headers["content-type"]);
        // the icon decodes as an image in the browser (the header shows it too)
        Assert.True(await fresh.EvalOnSelectorAsync<bool>("h1 img", "i => i.complete && i.naturalWidth > 0"));
        Assert.Empty(errors);
        await fresh.CloseAsync();
    }

    [Fact]
    public async Task TheIndexsWarningsAreShownOnThePageAndOnTheResult()
    {
        await Expect(page.Locator("#stats")).ToContainTextAsync("1 warning");
        var notes = page.Locator("#notes");
        await Expect(notes).ToBeVisibleAsync();
        await Expect(page.Locator("#notes-summary")).ToContainTextAsync("1 warning");
        await page.ClickAsync("#notes-summary");
        var warning = page.Locator("#notes-list li.warning");
        await Expect(warning).ToHaveCountAsync(1);
        await Expect(warning).ToContainTextAsync("grey16.png");
        await Expect(warning).ToContainTextAsync("16-bit grey image: Pillow's conversion clips it; it embeds as (nearly) blank");
        await Expect(page.Locator("#notes-list li.failure")).ToContainTextAsync("corrupt.png");

        await page.FillAsync("#q", "white");
        await page.PressAsync("#q", "Enter");
        await Searched();
        var first = page.Locator("figure.hit").First;
        await Expect(first.Locator(".name")).ToHaveTextAsync("grey16.png");
        await Expect(first.Locator(".badge")).ToBeVisibleAsync();
        Assert.Equal(1, await page.Locator("figure.hit .badge").CountAsync());
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('figure.hit img')].every(i => i.complete && i.naturalWidth > 0)");
        await Shoot("warnings.png");

        await first.ClickAsync();
        await Expect(page.Locator("#viewer-warning")).ToContainTextAsync("embeds as (nearly) blank");
        await Shoot("viewer-warning.png", fullPage: false);
    }

    [Fact]
    public async Task UploadingAnImageSearchesByIt()
    {
        string upload = Path.Combine(web.Root, "query-upload.bmp");
        File.WriteAllBytes(upload, TestBmp.Solid(30, 20, 250, 240, 60));      // yellowish
        await page.SetInputFilesAsync("#file", upload);
        await Expect(page.Locator("#status")).ToContainTextAsync("uploaded query-upload.bmp");
        var expected = web.ExpectedOrder(web.Encoder.EmbedImages([upload])[0].Embedding!);
        Assert.Equal(expected, (await ShownNames()));
        Assert.Equal("lemon", (await ShownNames())[0]);
    }

    [Fact]
    public async Task ServerErrorsAreShownToTheUser()
    {
        string bad = Path.Combine(web.Root, "not-an-image.bmp");
        File.WriteAllText(bad, "plain text");
        await page.SetInputFilesAsync("#file", bad);
        await Expect(page.Locator("#status.error")).ToContainTextAsync("Unreadable image");
    }

    public async Task DisposeAsync()
    {
        await context.DisposeAsync();
        Console.WriteLine($"{GetType().Name}: {clock.Elapsed.TotalSeconds:F1} s");
    }
}
