using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace SharpClip.Web.Tests;

/// <summary>
/// The generate page in real headless Chromium: type a prompt, press generate, watch the progress, see the images and
/// every parameter; DALL-E's form (candidates and keep with a reranker, no denoising fields, its one size) and a field
/// error shown where it belongs; a request waiting behind another with its place in line, then running, then
/// cancelled. The screenshot goes to artifacts/web/ at the repository root (not committed; docs/images/generate-page.png
/// is a copy of it).
/// </summary>
[Collection("generate")]
public partial class GenerateBrowserTests(GenerateFixture gen) : IAsyncLifetime
{
    IBrowserContext context = null!;
    IPage page = null!;

    public async Task InitializeAsync()
    {
        context = await gen.Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1100, Height = 760 } });
        page = await context.NewPageAsync();
        page.PageError += (_, e) => Console.WriteLine($"page error: {e}");
        page.Console += (_, m) => { if (m.Type == "error") Console.WriteLine($"console error: {m.Text}"); };
    }

    public async Task DisposeAsync() => await context.DisposeAsync();

    static string Screenshot(string name) => BrowserTests.Screenshot(name);   // artifacts/web/, as the search page's

    static readonly LocatorAssertionsToHaveTextOptions Slow = new() { Timeout = 120_000 };

    [GeneratedRegex(@"steps \d+/400")]
    private static partial Regex DiffusionProgress();

    [GeneratedRegex(@"steps \d+/3000")]
    private static partial Regex LongProgress();

    [GeneratedRegex(@"seed \d+ · -?\d\.\d{4}")]
    private static partial Regex SeedAndCosine();

    [Fact]
    public async Task TypedPromptShowsProgressThenTheImagesWithEveryParameter()
    {
        await page.GotoAsync(gen.Both.Url + "generate.html");
        await Expect(page.Locator("#model")).ToContainTextAsync("latent-diffusion model");
        await Expect(page.Locator("#nav")).ToBeVisibleAsync();                  // search and generate on one server: linked
        await Expect(page.Locator("#negative")).ToBeVisibleAsync();
        await Expect(page.Locator("[data-field=temperature]")).ToBeHiddenAsync();
        await page.FillAsync("#prompt", "a red circle above a blue square");
        await page.FillAsync("#negative", "blurry");
        await page.FillAsync("#steps", "100");
        await page.FillAsync("#count", "4");
        await page.FillAsync("#seed", "5");
        await page.SelectOptionAsync("#sampler", "euler");
        await page.ClickAsync("#generate");

        await Expect(page.Locator("#gen-status")).ToHaveTextAsync(DiffusionProgress(), Slow);   // 100 steps × 4 images, counted as they run
        await Expect(page.Locator("#progress")).ToBeVisibleAsync();
        await Expect(page.Locator("#gen-status")).ToContainTextAsync("done: 4 images", new() { Timeout = 120_000 });
        var figures = page.Locator("section.generation figure");
        await Expect(figures).ToHaveCountAsync(4);
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('section.generation img')].every(i => i.complete && i.naturalWidth === 16)");
        await Expect(figures.Nth(1)).ToContainTextAsync("seed 6");
        await Expect(figures.First.Locator("a")).ToHaveAttributeAsync("download", "image-000-seed5.png");

        var parameters = page.Locator("details.parameters pre");
        await Expect(parameters).ToBeVisibleAsync();
        await Expect(parameters).ToContainTextAsync("\"prompt\": \"a red circle above a blue square\"");
        await Expect(parameters).ToContainTextAsync("\"negative_prompt\": \"blurry\"");
        await Expect(parameters).ToContainTextAsync("\"steps\": 100");
        await Expect(parameters).ToContainTextAsync("\"sampler\": \"euler\"");
        await Expect(page.Locator("section.generation > p.muted")).ToContainTextAsync("euler · 100 steps · guidance 7.5 · 16×16 · seed 5");

        string shot = Screenshot("generate-page.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = shot, FullPage = true });
        Assert.True(new FileInfo(shot).Length > 1000, $"screenshot {shot} not written");
    }

    [Fact]
    public async Task DalleFormAsksForCandidatesAndKeepAndShowsFieldErrorsInline()
    {
        await page.GotoAsync(gen.Dalle.Url);
        await Expect(page.Locator("#model")).ToContainTextAsync("dalle model");
        await Expect(page.Locator("#model")).ToContainTextAsync("reranked by");
        await Expect(page.Locator("#nav")).ToBeHiddenAsync();                   // generation only: nothing to link
        await Expect(page.Locator("#negative")).ToBeHiddenAsync();
        await Expect(page.Locator("[data-field=steps]")).ToBeHiddenAsync();
        await Expect(page.Locator("#count-label")).ToHaveTextAsync("candidates");
        await Expect(page.Locator("#keep")).ToBeVisibleAsync();
        await Expect(page.Locator("#width")).ToBeDisabledAsync();

        await page.FillAsync("#prompt", "a green triangle");
        await page.FillAsync("#topP", "2");
        await page.ClickAsync("#generate");
        await Expect(page.Locator("#gen-status")).ToContainTextAsync("Invalid field 'topP'");
        await Expect(page.Locator("#topP")).ToHaveClassAsync(new Regex("invalid"));

        await page.FillAsync("#topP", "");
        await page.FillAsync("#count", "4");
        await page.FillAsync("#keep", "2");
        await page.ClickAsync("#generate");
        await Expect(page.Locator("#gen-status")).ToContainTextAsync("done: 2 images", new() { Timeout = 120_000 });
        await Expect(page.Locator("section.generation figure")).ToHaveCountAsync(2);
        await Expect(page.Locator("section.generation figure").First).ToContainTextAsync(SeedAndCosine());
        await Expect(page.Locator("section.generation > p.muted")).ToContainTextAsync("best 2 of 4 by CLIP");
        await Expect(page.Locator("details.parameters a", new() { HasText = "contact sheet" })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task AWaitingGenerationShowsItsPlaceThenRunsAndCancels()
    {
        // Someone else's long job holds the model.
        var other = await gen.Both.Start(new { prompt = "someone else's", steps = 500, sampler = "euler", count = 6 });
        await gen.Both.WaitFor(other, s => s.GetProperty("state").GetString() == "running");

        await page.GotoAsync(gen.Both.Url + "generate.html");
        await Expect(page.Locator("#model")).ToContainTextAsync("latent-diffusion model");
        await page.FillAsync("#prompt", "a long wait");
        await page.FillAsync("#steps", "500");
        await page.FillAsync("#count", "6");
        await page.SelectOptionAsync("#sampler", "euler");
        await page.ClickAsync("#generate");
        await Expect(page.Locator("#gen-status")).ToContainTextAsync("busy: another generation is running — yours is number 1 in line");

        await gen.Both.Http.PostAsync($"api/generate/{other}/cancel", null);
        await Expect(page.Locator("#gen-status")).ToHaveTextAsync(LongProgress(), Slow);
        await page.ClickAsync("#cancel");
        await Expect(page.Locator("#gen-status")).ToHaveTextAsync("cancelled", Slow);
        await Expect(page.Locator("#cancel")).ToBeHiddenAsync();
        await Expect(page.Locator("#generate")).ToBeEnabledAsync();
    }
}
