using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Playwright;
using SharpClip.Demos;
using SharpClip.Demos.Toy;
using SharpClip.Search;
using SharpClip.Tests.Cli;
using SharpClip.Tests.Generation.Diffusion.Training;
using SharpClip.Tests.Search;

namespace SharpClip.Web.Tests;

/// <summary>
/// Two apps with tiny generators, built once for the generate tests (the builders are SharpClip.Tests' own, linked):
/// <list type="bullet">
/// <item><see cref="Both"/>: search over three BMPs (toy encoder) and generation with a 2-step latent diffusion folder
/// (16 px), one job waiting at most, so the queue's limit is reached with two requests.</item>
/// <item><see cref="Dalle"/>: generation only, a 2-step DALL-E folder (16 px, 4×4 tokens) reranked by the latent
/// diffusion's CLIP folder.</item>
/// </list>
/// And one headless Chromium for the page tests.
/// </summary>
public sealed class GenerateFixture : IAsyncLifetime
{
    readonly TinyLatentDiffusion _diffusion = new();
    TinyDalleFolder? _dalle;

    public string Root { get; } = Directory.CreateTempSubdirectory("sharpclip-web-generate-").FullName;

    /// <summary>The latent diffusion model folder the <see cref="Both"/> app generates with.</summary>
    public string DiffusionModel => _diffusion.Model;

    public string DalleModel => _dalle!.Folder;

    public string ClipModel => _diffusion.Clip;

    public Server Both { get; private set; } = null!;

    public Server Dalle { get; private set; } = null!;

    public IPlaywright Playwright { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    readonly AnyFormatToyEncoder _encoder = new();

    /// <summary>The limits of the <see cref="Both"/> app: small enough that the tests reach each one.</summary>
    public static GenerateWebOptions DiffusionLimits(string model) => new()
    {
        ModelPath = model, MaxWaiting = 1, MaxCount = 6, MaxSteps = 500, MaxSide = 64, MaxPixels = 32 * 32,
    };

    public async Task InitializeAsync()
    {
        DemoRegistry.RegisterAll(); // the tiny models train on synthetic:shapes
        _dalle = new TinyDalleFolder();
        var photos = Path.Combine(Root, "photos");
        Directory.CreateDirectory(photos);
        foreach (var (name, r, g, b) in new (string, byte, byte, byte)[] { ("red", 230, 30, 30), ("green", 30, 200, 40), ("blue", 30, 40, 220) })
            File.WriteAllBytes(Path.Combine(photos, name + ".bmp"), TestBmp.Make(24, 24, (_, _) => (r, g, b)));
        var indexPath = Path.Combine(Root, "index.db");
        using (var index = ImageIndex.Open(indexPath, create: true))
            Indexer.Run(index, _encoder, ToyColorEncoder.ModelName, [photos]);

        Both = await Server.StartAsync(new SearchWebOptions { IndexPath = indexPath, Port = 0, Generation = DiffusionLimits(DiffusionModel) }, _encoder);
        Dalle = await Server.StartAsync(new SearchWebOptions
        {
            Port = 0, Generation = new GenerateWebOptions { ModelPath = DalleModel, RerankModelPath = ClipModel, MaxCount = 8 },
        });

        if (!File.Exists(WebAppFixture.ChromiumPath))
            throw new InvalidOperationException($"Chromium not found at {WebAppFixture.ChromiumPath}: install Debian's 'chromium' package (.ci/run does) or set SHARPCLIP_CHROMIUM");
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = WebAppFixture.ChromiumPath, Headless = true, Args = ["--no-sandbox"] });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        Playwright?.Dispose();
        if (Both is not null) await Both.DisposeAsync();
        if (Dalle is not null) await Dalle.DisposeAsync();
        _encoder.Dispose();
        _dalle?.Dispose();
        _diffusion.Dispose();
        try { Directory.Delete(Root, true); } catch (IOException) { }
    }

    /// <summary>One running app on a random loopback port, and a client for its API.</summary>
    public sealed class Server : IAsyncDisposable
    {
        Server(WebApplication app, string url)
        {
            App = app;
            Url = url;
            Http = new HttpClient { BaseAddress = new Uri(url) };
        }

        public WebApplication App { get; }

        public string Url { get; }

        public HttpClient Http { get; }

        public static async Task<Server> StartAsync(SearchWebOptions options, IImageTextEncoder? encoder = null)
        {
            var app = SearchWebApp.Build(options, encoder);
            await app.StartAsync();
            return new Server(app, SearchWebApp.Addresses(app).Single().TrimEnd('/') + "/");
        }

        /// <summary>POSTs a generate request (a JSON object, or raw text as the body).</summary>
        public Task<HttpResponseMessage> Submit(object body) => body is string raw
            ? Http.PostAsync("api/generate", new StringContent(raw, System.Text.Encoding.UTF8, "application/json"))
            : Http.PostAsJsonAsync("api/generate", body);

        /// <summary>Submits and expects 202; the job's id.</summary>
        public async Task<string> Start(object body)
        {
            var r = await Submit(body);
            string text = await r.Content.ReadAsStringAsync();
            Assert.True(r.StatusCode == System.Net.HttpStatusCode.Accepted, $"expected 202, got {(int)r.StatusCode}: {text}");
            return JsonDocument.Parse(text).RootElement.GetProperty("id").GetString()!;
        }

        public async Task<JsonElement> Status(string id) =>
            JsonDocument.Parse(await Http.GetStringAsync($"api/generate/{id}")).RootElement;

        /// <summary>Polls a job until <paramref name="until"/> holds (default: it is finished), for at most two minutes.</summary>
        public async Task<JsonElement> WaitFor(string id, Func<JsonElement, bool>? until = null)
        {
            until ??= s => s.GetProperty("state").GetString() is "done" or "failed" or "cancelled";
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (true)
            {
                var s = await Status(id);
                if (until(s)) return s;
                Assert.True(DateTime.UtcNow < deadline, $"job {id} still {s}");
                await Task.Delay(50);
            }
        }

        /// <summary>Runs a request to completion and expects it done.</summary>
        public async Task<JsonElement> Run(object body)
        {
            var s = await WaitFor(await Start(body));
            Assert.True(s.GetProperty("state").GetString() == "done", s.ToString());
            return s;
        }

        public async Task<byte[]> Bytes(string url)
        {
            var r = await Http.GetAsync(url.TrimStart('/'));
            Assert.True(r.IsSuccessStatusCode, $"{url}: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
            return await r.Content.ReadAsByteArrayAsync();
        }

        public async ValueTask DisposeAsync()
        {
            Http.Dispose();
            await App.StopAsync();
            await App.DisposeAsync();
        }
    }
}

[CollectionDefinition("generate")]
public sealed class GenerateCollection : ICollectionFixture<GenerateFixture>;
