using Microsoft.AspNetCore.Builder;
using Microsoft.Playwright;
using SharpClip.Search;
using SharpClip.Demos.Toy;
using SharpClip.Tests.Search;
using SharpClip.Web;

namespace SharpClip.Web.Tests;

/// <summary>
/// One app and one browser for all web tests (starting Chromium costs seconds on 2 cores): a temp folder of solid-colour
/// BMPs (plus a 16-bit grey PNG that Pillow's conversion turns nearly white, and a corrupt file) indexed with the toy
/// colour encoder, the web app on a random loopback port, and headless Debian Chromium.
/// </summary>
public sealed class WebAppFixture : IAsyncLifetime
{
    /// <summary>Where the browser is; override with SHARPCLIP_CHROMIUM. Missing = a clear failure, never a skip.</summary>
    public static string ChromiumPath => Environment.GetEnvironmentVariable("SHARPCLIP_CHROMIUM") is { Length: > 0 } p ? p : "/usr/bin/chromium";

    public static readonly (string Name, byte R, byte G, byte B)[] Colours =
    [
        ("scarlet", 235, 30, 25), ("brick", 170, 60, 45), ("tangerine", 250, 150, 20), ("lemon", 245, 235, 40),
        ("lime", 120, 220, 60), ("forest", 20, 110, 35), ("teal", 20, 150, 150), ("sky", 110, 190, 245),
        ("navy", 20, 30, 120), ("violet", 140, 40, 200), ("pink", 245, 120, 200), ("charcoal", 60, 60, 65),
    ];

    public string Root { get; } = Directory.CreateTempSubdirectory("sharpclip-web-").FullName;
    public string IndexPath => Path.Combine(Root, "index.db");
    public string PhotoDir => Path.Combine(Root, "photos");
    /// <summary>A second folder a test indexes while the app runs.</summary>
    public string LaterDir => Path.Combine(Root, "later");
    string[] IndexedDirs => [PhotoDir, LaterDir];
    public AnyFormatToyEncoder Encoder { get; } = new();
    /// <summary>The 16-bit grey PNG (samples 1000 and 40000: every one clips to white) that the index warns about.</summary>
    public string Grey16Path => Path.Combine(PhotoDir, "grey16.png");
    public SearchWebOptions Options { get; private set; } = null!;
    public WebApplication App { get; private set; } = null!;
    public string BaseUrl { get; private set; } = "";
    public HttpClient Http { get; private set; } = null!;
    public IPlaywright Playwright { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(PhotoDir);
        foreach (var (name, r, g, b) in Colours)
            File.WriteAllBytes(Path.Combine(PhotoDir, name + ".bmp"), TestBmp.Make(48, 36, (x, y) => Jitter(r, g, b, x, y)));
        File.WriteAllText(Path.Combine(PhotoDir, "scarlet.txt"), "a scarlet test card");
        File.WriteAllText(Path.Combine(PhotoDir, "corrupt.png"), "not really a png");
        File.WriteAllBytes(Grey16Path, TestPng16.Grey(40, 30, (x, y) => (ushort)((x / 10 + y / 10) % 2 == 0 ? 1000 : 40000)));
        using (var index = ImageIndex.Open(IndexPath, create: true))
            Indexer.Run(index, Encoder, ToyColorEncoder.ModelName, [PhotoDir]);

        Options = new SearchWebOptions { IndexPath = IndexPath, Port = 0, MaxUploadBytes = 64 * 1024, MaxUploadPixels = 10_000, ThumbnailSide = 32 };
        App = SearchWebApp.Build(Options, Encoder);
        await App.StartAsync();
        BaseUrl = SearchWebApp.Addresses(App).Single().TrimEnd('/') + "/";
        Http = new HttpClient { BaseAddress = new Uri(BaseUrl) };

        if (!File.Exists(ChromiumPath))
            throw new InvalidOperationException($"Chromium not found at {ChromiumPath}: install Debian's 'chromium' package (.ci/run does) or set SHARPCLIP_CHROMIUM");
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = ChromiumPath, Headless = true, Args = ["--no-sandbox"] });
    }

    /// <summary>Small deterministic texture so images are not perfectly flat (mean colour stays the named one ± 1).</summary>
    static (byte, byte, byte) Jitter(byte r, byte g, byte b, int x, int y)
    {
        int d = ((x + y) % 2 == 0) ? 6 : -6;
        return (Clamp(r + d), Clamp(g + d), Clamp(b + d));
        static byte Clamp(int v) => (byte)Math.Clamp(v, 0, 255);
    }

    /// <summary>The ranking the encoder implies, computed by brute force over the files (independent of the index and the app).</summary>
    public List<string> ExpectedOrder(float[] query) =>
        IndexedDirs.Where(Directory.Exists).SelectMany(d => Directory.GetFiles(d, "*.bmp").Concat(Directory.GetFiles(d, "*.png")))
            .Select(p => (Name: Path.GetFileNameWithoutExtension(p), Result: Encoder.EmbedImages([p])[0])).Where(t => t.Result.Ok)
            .Select(t => (t.Name, Score: Vectors.Dot(t.Result.Embedding!, query)))
            .OrderByDescending(t => t.Score).Select(t => t.Name).ToList();

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        Playwright?.Dispose();
        Http?.Dispose();
        if (App is not null) { await App.StopAsync(); await App.DisposeAsync(); }
        Encoder.Dispose();
        try { Directory.Delete(Root, true); } catch (IOException) { }
    }
}

[CollectionDefinition("web")]
public sealed class WebCollection : ICollectionFixture<WebAppFixture>;
