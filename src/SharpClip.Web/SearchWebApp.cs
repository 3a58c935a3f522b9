using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using SharpClip.Files;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SharpClip.Search;

namespace SharpClip.Web;

/// <summary>
/// The local web app: a search page and JSON API over one index, a generate page over one text-to-image model, or
/// both (then each page links the other), hosted by Kestrel. The index is loaded once and kept in memory; every query
/// first picks up rows a running indexer has committed. Files are served only by the id the index or a generate job
/// gave them, never by a path from the request.
/// </summary>
public static class SearchWebApp
{
    /// <summary>
    /// Builds (does not start) the app. <paramref name="encoder"/> overrides the search model (tests pass a toy); the
    /// caller keeps ownership of it. Fails now, not on the first request, if the index or a model cannot be opened.
    /// </summary>
    public static WebApplication Build(SearchWebOptions options, IImageTextEncoder? encoder = null, Action<WebApplicationBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.IndexPath is null && options.Generation is null)
            throw new ArgumentException("nothing to serve: give an index (--index), a generation model (--generate-model), or both");
        SearchParts? search = options.IndexPath is { } indexPath ? SearchParts.Open(indexPath, options, encoder) : null;
        GenerationService? generation;
        try { generation = options.Generation is { } g ? GenerationService.Open(g) : null; }
        catch { search?.Dispose(); throw; }

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = typeof(SearchWebApp).Assembly.GetName().Name });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = options.MaxUploadBytes + 64 * 1024; // room for the multipart framing
            if (options.Host == "localhost") k.ListenLocalhost(options.Port);
            else if (IPAddress.TryParse(options.Host, out var ip)) k.Listen(ip, options.Port);
            else throw new ArgumentException($"host '{options.Host}' is not an IP address or 'localhost'");
        });
        // DNS rebinding: a page on another origin can point its own name at 127.0.0.1 and read the index through the
        // browser. Bound to loopback, only loopback names are accepted in the Host header; --host opens it up.
        builder.Services.Configure<Microsoft.AspNetCore.HostFiltering.HostFilteringOptions>(h =>
        {
            h.AllowedHosts = IsLoopback(options.Host) ? ["localhost", "127.0.0.1", "[::1]"] : ["*"];
            h.AllowEmptyHosts = false;
        });
        builder.Services.AddProblemDetails();
        builder.Services.Configure<FormOptions>(f => f.MultipartBodyLengthLimit = options.MaxUploadBytes + 64 * 1024);
        builder.Services.AddSingleton(options);
        if (search is not null)
        {
            builder.Services.AddSingleton(search.Engine);
            builder.Services.AddSingleton(search.Thumbs);
            builder.Services.AddSingleton(search.Decodes);
        }
        if (generation is not null) builder.Services.AddSingleton(generation);
        configure?.Invoke(builder);

        var app = builder.Build();
        // Stopping: cancel the running generation (it stops at its next step) before the host waits for requests.
        app.Lifetime.ApplicationStopping.Register(() => generation?.Queue.Dispose());
        app.Lifetime.ApplicationStopped.Register(() =>
        {
            search?.Dispose();
            generation?.Dispose();
        });
        app.UseHostFiltering();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.Use(async (ctx, next) =>
        {
            ctx.Response.Headers["X-Content-Type-Options"] = "nosniff";
            ctx.Response.Headers["Content-Security-Policy"] = "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'";
            await next();
        });
        MapPages(app, search is not null, generation is not null);
        app.MapGet("/api/features", () => Results.Ok(new { search = search is not null, generate = generation is not null }));
        if (search is not null) MapApi(app, options, search.Engine, search.Thumbs, search.Decodes);
        if (generation is not null) GenerateEndpoints.Map(app, generation);
        return app;
    }

    /// <summary>The search side: the index in memory, its query model, thumbnails and the bound on upload decodes.</summary>
    sealed class SearchParts(SearchEngine engine, ThumbnailCache thumbs, DecodeGate decodes, IImageTextEncoder? ownedEncoder) : IDisposable
    {
        public SearchEngine Engine => engine;
        public ThumbnailCache Thumbs => thumbs;
        public DecodeGate Decodes => decodes;

        public static SearchParts Open(string indexPath, SearchWebOptions options, IImageTextEncoder? encoder)
        {
            var index = ImageIndex.Open(indexPath);
            IImageTextEncoder enc;
            try { enc = encoder ?? EncoderResolver.OpenFor(index, options.Model); }
            catch { index.Dispose(); throw; }
            var engine = new SearchEngine(index, enc, ownsIndex: true);
            if (engine.Count > 0) engine.Search(new float[index.Metadata!.Dimension], 1); // pay libtorch's first-call cost now, not in the first request
            return new SearchParts(engine, new ThumbnailCache(enc, options.ThumbnailSide, options.ThumbnailCacheBytes),
                new DecodeGate(options.MaxConcurrentDecodes, options.DecodeQueueTimeout), encoder is null ? enc : null);
        }

        public void Dispose()
        {
            thumbs.Dispose();
            decodes.Dispose();
            engine.Dispose();
            ownedEncoder?.Dispose();
        }
    }

    static bool IsLoopback(string host) => host == "localhost" || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));

    /// <summary>The addresses Kestrel actually listens on (after start; resolves port 0).</summary>
    public static IReadOnlyList<string> Addresses(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];

    /// <summary>The pages of the features this server has; "/" is the search page, or the generate page without an index.</summary>
    static void MapPages(WebApplication app, bool search, bool generate)
    {
        string[] searchOnly = ["/index.html", "/app.js"], generateOnly = ["/generate.html", "/generate.js"];
        foreach (var (path, (bytes, type)) in StaticAssets.Files)
        {
            if ((!search && searchOnly.Contains(path)) || (!generate && generateOnly.Contains(path))) continue;
            app.MapGet(path, () => Results.Bytes(bytes, type));
            if (path == (search ? "/index.html" : "/generate.html")) app.MapGet("/", () => Results.Bytes(bytes, type));
        }
        // Browsers and tools that ignore the page's <link rel="icon"> still ask for /favicon.ico: point them at the SVG.
        app.MapGet("/favicon.ico", () => Results.Redirect("/favicon.svg", permanent: true));
    }

    static void MapApi(WebApplication app, SearchWebOptions options, SearchEngine engine, ThumbnailCache thumbs, DecodeGate decodes)
    {
        var contentTypes = new FileExtensionContentTypeProvider();

        app.MapGet("/api/stats", () =>
        {
            engine.Refresh();
            var s = engine.Index.Stats();
            return Results.Ok(new
            {
                images = s.Images, searchable = engine.Count, failures = s.Failures, warnings = s.Warnings, model = s.Model, fingerprint = s.Fingerprint,
                dimension = s.Dimension, precision = s.Precision.ToString(), lastUpdatedUtc = s.LastUpdatedUtc,
                index = Path.GetFileName(engine.Index.Path),
            });
        });

        app.MapGet("/api/failures", (HttpRequest req) =>
        {
            if (!TryInt(req, "limit", 100, 1, 10_000, out int limit, out var bad)) return bad!;
            return Results.Ok(engine.Index.Failures(limit).Select(f => new { path = f.Path, name = Path.GetFileName(f.Path), reason = f.Reason, at = f.AtUtc }));
        });

        // Images that are indexed but will not look or search as expected (a 16-bit grey PNG that embeds as a white card).
        app.MapGet("/api/warnings", (HttpRequest req) =>
        {
            if (!TryInt(req, "limit", 100, 1, 10_000, out int limit, out var bad)) return bad!;
            return Results.Ok(engine.Index.Warnings(limit).Select(w => new
            {
                id = w.ImageId, path = w.Path, name = Path.GetFileName(w.Path), reason = w.Reason, at = w.AtUtc,
            }));
        });

        app.MapGet("/api/search", (HttpRequest req) =>
        {
            if (!TryInt(req, "k", options.DefaultResults, 1, options.MaxResults, out int k, out var bad)) return bad!;
            if (!TryInt(req, "offset", 0, 0, options.MaxOffset, out int offset, out bad)) return bad!;
            string? q = req.Query["q"], negative = req.Query["negative"], idText = req.Query["id"];
            if ((TooLong(q, "q") ?? TooLong(negative, "negative")) is { } longProblem) return longProblem;
            long? id = null;
            if (!string.IsNullOrEmpty(idText))
            {
                if (!long.TryParse(idText, out long parsed)) return Problem(400, "Bad query parameter", $"id must be an integer, got '{idText}'");
                if (engine.Index.Get(parsed) is null) return Problem(404, "Unknown image", $"image id {parsed} is not in the index");
                id = parsed;
            }
            if (string.IsNullOrWhiteSpace(q) && id is null) return Problem(400, "Missing query", "give a text (q) or an image id (id)");
            return RunSearch(new SearchQuery { Text = q, LikeId = id, Negative = negative }, k, offset);
        });

        app.MapPost("/api/search/image", async (HttpRequest req) =>
        {
            if (!req.HasFormContentType) return Problem(415, "Expected a form upload", "send multipart/form-data with the image in the field 'image'");
            if (req.ContentLength > options.MaxUploadBytes + 64 * 1024) return TooLarge();
            IFormCollection form;
            try { form = await req.ReadFormAsync(); }
            catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge) { return TooLarge(); }
            catch (InvalidDataException e) when (e.Message.Contains("limit", StringComparison.OrdinalIgnoreCase)) { return TooLarge(); }
            // A body that is not well-formed multipart (no boundary, cut short, bad headers) is the client's error, not ours.
            catch (Exception e) when (e is InvalidDataException or IOException or BadHttpRequestException)
            {
                return Problem(400, "Malformed form upload", e.Message);
            }
            if (form.Files.GetFile("image") is not { } file) return Problem(400, "Missing image", "the form has no file field 'image'");
            if (file.Length > options.MaxUploadBytes) return TooLarge();
            if (!TryInt(form, "k", options.DefaultResults, 1, options.MaxResults, out int k, out var bad)) return bad!;
            if (!TryInt(form, "offset", 0, 0, options.MaxOffset, out int offset, out bad)) return bad!;
            string? q = form["q"];
            if (TooLong(q, "q") is { } longProblem) return longProblem;
            using var buffer = new MemoryStream();
            await file.CopyToAsync(buffer);
            float[] embedding;
            try
            {
                buffer.Position = 0;
                var info = engine.Encoder!.Probe(buffer);
                if ((long)info.Width * info.Height > options.MaxUploadPixels)
                    return Problem(413, "Image too large", $"{info.Width}x{info.Height} pixels is more than the limit of {options.MaxUploadPixels}");
                // Decoding is bounded in number, not in size per image (see SearchWebOptions.MaxConcurrentDecodes).
                using var slot = await decodes.EnterAsync(req.HttpContext.RequestAborted);
                if (slot is null)
                {
                    req.HttpContext.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(decodes.MaxWait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                    return Problem(503, "Busy decoding other images",
                        $"{decodes.Capacity} uploaded images are being decoded and none finished within {decodes.MaxWait.TotalSeconds:0.#} s; try again shortly");
                }
                buffer.Position = 0;
                embedding = engine.Encoder.EmbedImage(buffer);
            }
            catch (OperationCanceledException) when (req.HttpContext.RequestAborted.IsCancellationRequested)
            {
                return Results.StatusCode(499); // the client went away while waiting for a slot; nobody reads this
            }
            catch (Exception e) when (e is InvalidDataException or NotSupportedException)
            {
                return Problem(400, "Unreadable image", e.Message);
            }
            return RunSearch(new SearchQuery { Text = q, Image = embedding }, k, offset);
        });

        app.MapGet("/api/thumb/{id:long}", (long id, HttpContext ctx) =>
        {
            if (engine.Index.Get(id) is not { } image) return Problem(404, "Unknown image", $"image id {id} is not in the index");
            if (NotAsIndexed(image) is { } problem) return problem;
            EncodedImage thumb;
            try { thumb = thumbs.Get(image); }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or NotSupportedException)
            {
                return Problem(404, "No thumbnail", $"image id {id} cannot be read: {e.Message}");
            }
            ctx.Response.Headers.CacheControl = "private, max-age=86400";
            ctx.Response.Headers.ETag = $"\"{image.Hash[..16]}\"";
            return Results.Bytes(thumb.Bytes, thumb.ContentType);
        });

        app.MapGet("/api/image/{id:long}", (long id) =>
        {
            if (engine.Index.Get(id) is not { } image) return Problem(404, "Unknown image", $"image id {id} is not in the index");
            if (NotAsIndexed(image) is { } problem) return problem;
            if (!contentTypes.TryGetContentType(image.Path, out var type)) type = "application/octet-stream";
            return Results.File(image.Path, type, enableRangeProcessing: true);
        });

        // A page of the ranking: every indexed image is ranked, so the total is the searchable count and a client can
        // say "page N of M". The top offset+k are found and the first offset dropped (offset is bounded by MaxOffset).
        IResult RunSearch(SearchQuery query, int k, int offset)
        {
            var clock = Stopwatch.StartNew();
            IReadOnlyList<SearchHit> hits;
            int total;
            try
            {
                hits = engine.Search(query, offset + k);
                total = engine.Count;
            }
            catch (ArgumentException e) { return Problem(400, "Bad query", e.Message); }
            catch (KeyNotFoundException e) { return Problem(404, "Unknown image", e.Message); }
            var page = hits.Skip(offset).ToList();
            var warnings = page.Count == 0 ? new Dictionary<long, string>() : engine.Index.Warnings(10_000).Where(w => w.ImageId is not null)
                .ToDictionary(w => w.ImageId!.Value, w => w.Reason);
            var like = query.LikeId is { } likeId && engine.Index.Get(likeId) is { } likeImage
                ? new { id = likeId, name = Path.GetFileName(likeImage.Path) } : null;
            return Results.Ok(new
            {
                tookMs = Math.Round(clock.Elapsed.TotalMilliseconds, 2),
                count = page.Count,
                offset,
                k,
                total,
                like,
                results = page.Select(h => new
                {
                    id = h.Id, score = h.Score, name = Path.GetFileName(h.Path), path = h.Path, caption = h.Caption,
                    width = h.Width, height = h.Height, thumb = $"/api/thumb/{h.Id}", image = $"/api/image/{h.Id}",
                    warning = warnings.GetValueOrDefault(h.Id),
                }),
            });
        }

        // Serve only the file that was indexed: a regular file (not a FIFO that would pin the request) whose size and
        // time are still those indexed — a path since replaced (say by a link to /etc/passwd) is not served.
        static IResult? NotAsIndexed(ImageRecord image)
        {
            var status = FileStatus.Of(image.Path);
            if (status.Kind == FileKind.Missing) return Problem(404, "Image file is gone", $"image id {image.Id} is no longer on disk");
            if (status.Kind != FileKind.Regular) return Problem(404, "Not an image file", $"image id {image.Id}: its path is now {status.Describe()}");
            if (status.Size != image.Size || status.ModifiedTicksUtc != image.ModifiedUtc.Ticks)
                return Problem(409, "Image changed since it was indexed", $"image id {image.Id} changed on disk; run index again to see the new file");
            return null;
        }

        IResult? TooLong(string? value, string name) => value is not null && value.Length > options.MaxQueryChars
            ? Problem(400, "Bad query parameter", $"{name} is longer than {options.MaxQueryChars} characters")
            : null;

        IResult TooLarge() => Problem(413, "Upload too large", $"uploads are limited to {options.MaxUploadBytes} bytes");
    }

    static bool TryInt(HttpRequest req, string name, int fallback, int min, int max, out int value, out IResult? problem) =>
        TryInt(req.Query[name].ToString(), name, fallback, min, max, out value, out problem);

    static bool TryInt(IFormCollection form, string name, int fallback, int min, int max, out int value, out IResult? problem) =>
        TryInt(form[name].ToString(), name, fallback, min, max, out value, out problem);

    static bool TryInt(string text, string name, int fallback, int min, int max, out int value, out IResult? problem)
    {
        problem = null;
        value = fallback;
        if (string.IsNullOrEmpty(text)) return true;
        if (int.TryParse(text, out value) && value >= min && value <= max) return true;
        problem = Problem(400, "Bad query parameter", $"{name} must be an integer from {min} to {max}, got '{text}'");
        return false;
    }

    static IResult Problem(int status, string title, string detail) => Results.Problem(detail: detail, statusCode: status, title: title);
}
