using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace SharpClip.Web;

/// <summary>
/// The generate API, a thin layer over <see cref="GenerationService"/>: describe the model, queue a checked request
/// (202 with the job's id and place in line; 400 naming the bad field; 503 when the line is full), poll a job's
/// progress and results, cancel it, and fetch its PNGs and parameter record by the names the run gave them.
/// </summary>
static class GenerateEndpoints
{
    /// <summary>A request body is a handful of fields; anything larger is not one.</summary>
    const int MaxBodyBytes = 64 * 1024;

    public static void Map(WebApplication app, GenerationService service)
    {
        var generator = service.Generator;
        var options = service.Options;
        bool reranks = service.Reranker is not null;
        bool tokens = GenerateRequestReader.SamplesTokens(generator);

        app.MapGet("/api/generate/info", () => Results.Ok(new
        {
            kind = generator.Kind,
            model = Path.GetFileName(Path.TrimEndingDirectorySeparator(generator.Source)),
            samplesTokens = tokens,
            samplers = generator.Samplers,
            width = generator.DefaultSize.Width,
            height = generator.DefaultSize.Height,
            sizeMultiple = generator.SizeMultiple,
            fixedSize = tokens,
            unit = generator.ProgressUnit,
            rerank = options.RerankModelPath is { } r ? Path.GetFileName(Path.TrimEndingDirectorySeparator(r)) : null,
            fields = GenerateRequestReader.FieldsFor(generator, reranks),
            limits = new
            {
                maxCount = options.MaxCount, maxSteps = options.MaxSteps, maxSide = options.MaxSide, maxPixels = options.MaxPixels,
                maxGuidance = options.MaxGuidance, maxPromptChars = options.MaxPromptChars, maxWaiting = options.MaxWaiting,
                maxSeed = GenerateRequestReader.MaxSeed,
            },
            queue = new { running = service.Queue.Running is not null, waiting = service.Queue.Waiting },
        }));

        app.MapPost("/api/generate", async (HttpRequest req) =>
        {
            if (req.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = MaxBodyBytes;
            GenerateOrder order;
            try
            {
                using var body = await JsonDocument.ParseAsync(req.Body, cancellationToken: req.HttpContext.RequestAborted);
                order = GenerateRequestReader.Read(body.RootElement, generator, reranks, options);
            }
            catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                return Problem(413, "Request too large", $"a generate request is a JSON object of a few fields, at most {MaxBodyBytes} bytes");
            }
            catch (JsonException e) { return FieldProblem("body", $"the body is not JSON: {e.Message}"); }
            catch (FieldException e) { return FieldProblem(e.Field, e.Message); }
            if (service.Submit(order) is not { } job)
            {
                req.HttpContext.Response.Headers.RetryAfter = "10";
                return Problem(503, "Busy", $"a generation is running and {options.MaxWaiting} more are waiting, the most this server queues; try again when one finishes");
            }
            return Results.Json(Status(job, service), statusCode: StatusCodes.Status202Accepted);
        });

        app.MapGet("/api/generate/{id}", (string id) =>
            service.Queue.Find(id) is { } job ? Results.Ok(Status(job, service)) : UnknownJob(id));

        app.MapPost("/api/generate/{id}/cancel", (string id) =>
        {
            if (service.Queue.Find(id) is not { } job) return UnknownJob(id);
            service.Queue.Cancel(job);
            return Results.Ok(Status(job, service));
        });

        // A job's files, by the names its run gave them (never a path from the request).
        app.MapGet("/api/generate/{id}/files/{name}", (string id, string name, HttpRequest req) =>
        {
            if (service.Queue.Find(id) is not { } job) return UnknownJob(id);
            if (job.Result is not GenerationOutcome outcome) return Problem(409, "Not finished", $"job {id} is {Name(job.State)}; its files exist once it is done");
            var files = outcome.Run.Images.Select(i => i.File).Append(outcome.Run.RecordPath);
            if (outcome.Run.ContactSheetPath is { } sheet) files = files.Append(sheet);
            if (files.FirstOrDefault(f => Path.GetFileName(f) == name) is not { } path) return Problem(404, "No such file", $"job {id} has no file '{name}'");
            var type = name.EndsWith(".json", StringComparison.Ordinal) ? "application/json" : "image/png";
            return req.Query.ContainsKey("download") ? Results.File(path, type, fileDownloadName: name) : Results.File(path, type);
        });
    }

    /// <summary>What the page polls: state, place in line, progress, and once done the images and every parameter.</summary>
    static object Status(Job job, GenerationService service)
    {
        var outcome = job.Result as GenerationOutcome;
        string FileUrl(string path) => $"/api/generate/{job.Id}/files/{Uri.EscapeDataString(Path.GetFileName(path))}";
        return new
        {
            id = job.Id,
            state = Name(job.State),
            position = service.Queue.PositionOf(job),
            busy = service.Queue.Running is { } running && !ReferenceEquals(running, job), // another job holds the model
            done = job.Done,
            total = job.Total,
            unit = service.Generator.ProgressUnit,
            cancelRequested = job.CancelRequested,
            error = job.Error,
            images = outcome?.Run.Images.Select(i => new { file = Path.GetFileName(i.File), index = i.Index, seed = i.Seed, cosine = i.Cosine, url = FileUrl(i.File) }),
            contactSheet = outcome?.Run.ContactSheetPath is { } sheet ? FileUrl(sheet) : null,
            parametersUrl = outcome is null ? null : FileUrl(outcome.Run.RecordPath),
            parameters = outcome?.Record,
        };
    }

    static string Name(JobState state) => state.ToString().ToLowerInvariant();

    static IResult UnknownJob(string id) => Problem(404, "Unknown job", $"no generation job '{id}' (finished jobs are kept for a while, then forgotten)");

    static IResult FieldProblem(string field, string detail) =>
        Results.Problem(detail: detail, statusCode: 400, title: $"Invalid field '{field}'", extensions: new Dictionary<string, object?> { ["field"] = field });

    static IResult Problem(int status, string title, string detail) => Results.Problem(detail: detail, statusCode: status, title: title);
}
