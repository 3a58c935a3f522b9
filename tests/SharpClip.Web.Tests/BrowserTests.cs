using System.Diagnostics;
using Microsoft.Playwright;
using SharpClip.Tests.Search;
using static Microsoft.Playwright.Assertions;

namespace SharpClip.Web.Tests;

/// <summary>The page in real headless Chromium: type a query, follow a result, upload an image, take a screenshot.</summary>
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
        await page.GotoAsync(web.BaseUrl);
        await Expect(page.Locator("#stats")).ToContainTextAsync("images");
    }

    async Task<List<string>> ShownNames() =>
        [.. (await page.Locator("figure.hit .name").AllTextContentsAsync()).Select(n => Path.GetFileNameWithoutExtension(n))];

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
        string dir = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(dir);
        string shot = Path.Combine(dir, "search-page.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = shot, FullPage = true });
        Assert.True(new FileInfo(shot).Length > 1000, "screenshot not written");
    }

    [Fact]
    public async Task ClickingAResultSearchesByThatImage()
    {
        await page.FillAsync("#q", "blue");
        await page.PressAsync("#q", "Enter");
        await Expect(page.Locator("#status")).ToContainTextAsync("results for");
        var third = page.Locator("figure.hit").Nth(2);
        string name = Path.GetFileNameWithoutExtension(await third.Locator(".name").TextContentAsync())!;
        await third.ClickAsync();
        await Expect(page.Locator("#status")).ToContainTextAsync("images like " + name);
        var shown = await ShownNames();
        Assert.Equal(name, shown[0]);
        Assert.Equal("1.0000", await page.Locator("figure.hit .score").First.TextContentAsync());
        var like = web.Encoder.EmbedImages([Path.Combine(web.PhotoDir, name + ".bmp")])[0].Embedding!;
        Assert.Equal(web.ExpectedOrder(like), shown);
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
