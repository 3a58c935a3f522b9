using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using SharpClip.Search;
using SharpClip.Tests.Search;

namespace SharpClip.Web.Tests;

/// <summary>
/// Uploaded images are decoded a bounded number at a time: through HTTP, with an encoder that holds every decode until
/// the test lets it go, so the bound is seen by counting decodes in flight, not by timing them.
/// </summary>
[Collection("web")]
public sealed class DecodeConcurrencyTests(WebAppFixture web)
{
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    /// <summary>The fixture's toy encoder, except that each image embedding waits for <see cref="Release"/>.</summary>
    sealed class HeldEncoder(IImageTextEncoder inner) : IImageTextEncoder
    {
        readonly ManualResetEventSlim _go = new();
        int _inFlight, _peak;

        public int InFlight => Volatile.Read(ref _inFlight);
        public int Peak => Volatile.Read(ref _peak);
        public void Release() => _go.Set();

        public float[] EmbedImage(Stream image)
        {
            int now = Interlocked.Increment(ref _inFlight);
            lock (_go) _peak = Math.Max(_peak, now);
            try
            {
                _go.Wait(Patience);
                return inner.EmbedImage(image);
            }
            finally { Interlocked.Decrement(ref _inFlight); }
        }

        public string Fingerprint => inner.Fingerprint;
        public int Dimension => inner.Dimension;
        public float[] EmbedText(string text) => inner.EmbedText(text);
        public IReadOnlyList<EncodeResult> EmbedImages(IReadOnlyList<string> paths, CancellationToken ct = default) => inner.EmbedImages(paths, ct);
        public ImageInfo Probe(Stream image) => inner.Probe(image);
        public EncodedImage Thumbnail(string path, int maxSide) => inner.Thumbnail(path, maxSide);
        public void Dispose() => _go.Dispose();
    }

    sealed class HeldApp : IAsyncDisposable
    {
        public required WebApplication App { get; init; }
        public required HttpClient Http { get; init; }
        public required HeldEncoder Encoder { get; init; }
        public DecodeGate Gate => App.Services.GetRequiredService<DecodeGate>();

        public async ValueTask DisposeAsync()
        {
            Encoder.Release();
            Http.Dispose();
            await App.StopAsync();
            await App.DisposeAsync();
            Encoder.Dispose();
        }
    }

    async Task<HeldApp> StartAsync(int decodes, TimeSpan queueTimeout)
    {
        var encoder = new HeldEncoder(web.Encoder);
        var app = SearchWebApp.Build(web.Options with { MaxConcurrentDecodes = decodes, DecodeQueueTimeout = queueTimeout }, encoder);
        await app.StartAsync();
        var http = new HttpClient { BaseAddress = new Uri(SearchWebApp.Addresses(app).Single().TrimEnd('/') + "/"), Timeout = Patience };
        return new HeldApp { App = app, Http = http, Encoder = encoder };
    }

    static MultipartFormDataContent Upload()
    {
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(TestBmp.Solid(20, 10, 30, 200, 200));
        file.Headers.ContentType = new MediaTypeHeaderValue("image/bmp");
        form.Add(file, "image", "upload.bmp");
        return form;
    }

    static async Task Until(Func<bool> condition, string what)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < Patience, $"timed out waiting until {what}");
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task UploadsBeyondTheBoundWaitTheirTurnAndAllSucceed()
    {
        await using var held = await StartAsync(decodes: 2, queueTimeout: Patience);
        var requests = Enumerable.Range(0, 6).Select(_ => held.Http.PostAsync("api/search/image", Upload())).ToList();
        await Until(() => held.Encoder.InFlight == 2 && held.Gate.Waiting == 4, "2 decodes run and 4 wait");
        Assert.Equal(2, held.Encoder.InFlight);

        held.Encoder.Release();
        foreach (var r in await Task.WhenAll(requests))
            Assert.True(r.IsSuccessStatusCode, $"{(int)r.StatusCode}: {await r.Content.ReadAsStringAsync()}");
        Assert.Equal(2, held.Encoder.Peak);
        Assert.Equal(2, held.Gate.PeakActive);
        Assert.Equal((0, 0), (held.Gate.Active, held.Gate.Waiting));
    }

    [Fact]
    public async Task AnUploadThatWaitsTooLongIs503WithRetryAfter()
    {
        await using var held = await StartAsync(decodes: 1, queueTimeout: TimeSpan.FromMilliseconds(200));
        var first = held.Http.PostAsync("api/search/image", Upload());
        await Until(() => held.Encoder.InFlight == 1, "the first decode runs");

        var second = await held.Http.PostAsync("api/search/image", Upload());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, second.StatusCode);
        Assert.Equal("application/problem+json", second.Content.Headers.ContentType?.MediaType);
        Assert.True(second.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), "503 without a Retry-After");

        held.Encoder.Release();
        Assert.True((await first).IsSuccessStatusCode);
        Assert.Equal(1, held.Encoder.Peak);
    }

    [Fact]
    public async Task AClientThatGivesUpWhileWaitingLeavesTheQueue()
    {
        await using var held = await StartAsync(decodes: 1, queueTimeout: Patience);
        var first = held.Http.PostAsync("api/search/image", Upload());
        await Until(() => held.Encoder.InFlight == 1, "the first decode runs");

        using var giveUp = new CancellationTokenSource();
        var waiting = held.Http.PostAsync("api/search/image", Upload(), giveUp.Token);
        await Until(() => held.Gate.Waiting == 1, "the second upload waits");
        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        await Until(() => held.Gate.Waiting == 0, "the server drops the abandoned wait");

        held.Encoder.Release();
        Assert.True((await first).IsSuccessStatusCode);
        Assert.Equal(1, held.Gate.PeakActive);
    }
}
