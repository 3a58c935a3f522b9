using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using SharpClip.Pipelines;
using SharpClip.Scoring;
using SharpClip.Vision;

namespace SharpClip.Generation.TextToImage;

/// <summary>Reranking generated images with a CLIP model: keep the <paramref name="Keep"/> that match the prompt best.</summary>
/// <param name="Clip">The judging model.</param>
/// <param name="ModelPath">Where it came from (recorded with its sha256 prefix).</param>
/// <param name="Keep">Images kept, at most the number generated.</param>
public sealed record RerankSettings(ClipPipeline Clip, string ModelPath, int Keep);

/// <summary>One image written by a run.</summary>
/// <param name="Index">Its place among the generated images (its seed is the run's seed + this).</param>
/// <param name="Seed">The seed that reproduces it alone.</param>
/// <param name="File">The PNG's path.</param>
/// <param name="Cosine">Its CLIP cosine to the prompt when reranked.</param>
public sealed record WrittenImage(int Index, long Seed, string File, double? Cosine);

/// <summary>What a run left in its folder: the kept images (best first when reranked), the parameter record, and the
/// contact sheet of every candidate in rank order (only when reranked).</summary>
public sealed record TextToImageRunResult(IReadOnlyList<WrittenImage> Images, string RecordPath, string? ContactSheetPath = null);

/// <summary>
/// The <c>generate</c> use case: any <see cref="ITextToImageGenerator"/> makes the images, an optional CLIP model
/// reranks them (as DALL-E did) through <see cref="Reranker"/>, and the kept ones are written as PNGs beside
/// <see cref="RecordFileName"/>, a JSON of every setting the run used — model path and sha256 prefix, prompt, seeds,
/// sampler, steps, guidance, size, img2img input, rerank scores — so each image can be made again.
/// </summary>
public static class TextToImageRun
{
    /// <summary>The parameter record's file name in the output folder.</summary>
    public const string RecordFileName = "generation.json";

    /// <summary>The contact sheet's file name in the output folder (written when reranking).</summary>
    public const string ContactSheetFileName = "contact-sheet.png";

    /// <param name="generator">The model.</param>
    /// <param name="request">What to make.</param>
    /// <param name="outputDirectory">Created if missing; files of the same names are replaced.</param>
    /// <param name="initImagePath">The file <see cref="TextToImageRequest.InitImage"/> was read from, for the record.</param>
    /// <param name="rerank">Rerank and keep the best; null keeps every image in order.</param>
    /// <param name="progress">Units done (see <see cref="ITextToImageGenerator.ProgressTotal"/>).</param>
    /// <param name="cancellationToken">Honoured between steps; nothing is written when it fires.</param>
    public static TextToImageRunResult Run(ITextToImageGenerator generator, TextToImageRequest request, string outputDirectory,
        string? initImagePath = null, RerankSettings? rerank = null, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        var settings = generator.Resolve(request);
        if (rerank is not null && (rerank.Keep < 1 || rerank.Keep > request.Count))
            throw new ArgumentException($"keep {rerank.Keep} must be 1..{request.Count} (the images generated)");
        var images = generator.Generate(request, progress, cancellationToken);
        var encoded = images.Select(i => (Data: PngWriter.Encode(i.Image), Name: FileName(i))).ToList();

        IReadOnlyList<(GeneratedImage Image, double? Cosine, double? Logit)> kept;
        JsonArray? scores = null;
        RgbImage? sheet = null;
        if (rerank is not null)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var ranked = Reranker.Rerank(rerank.Clip, request.Prompt, encoded, cancellationToken: cancellationToken);
            if (ranked.Failed.Count > 0) throw new InvalidDataException($"reranking could not read generated image {ranked.Failed[0].Source}: {ranked.Failed[0].Error}");
            kept = [.. ranked.Ranked.Take(rerank.Keep).Select(r => (images[r.Index], (double?)r.Cosine, (double?)r.Logit))];
            scores = [.. ranked.Ranked.Select(r => (JsonNode)new JsonObject
            {
                ["index"] = images[r.Index].Index, ["seed"] = images[r.Index].Seed, ["rank"] = r.Rank,
                ["cosine"] = r.Cosine, ["logit"] = r.Logit, ["kept"] = r.Rank <= rerank.Keep,
            })];
            sheet = ContactSheet.Render([.. ranked.Ranked.Select(r => new ContactSheetTile(images[r.Index].Image,
                string.Create(System.Globalization.CultureInfo.InvariantCulture, $"#{r.Rank}  {r.Cosine:F4}  seed {images[r.Index].Seed}"), r.Rank <= rerank.Keep))]);
        }
        else kept = [.. images.Select(i => (i, (double?)null, (double?)null))];

        Directory.CreateDirectory(outputDirectory);
        var written = new List<WrittenImage>();
        foreach (var (image, cosine, _) in kept)
        {
            var path = Path.Combine(outputDirectory, FileName(image));
            File.WriteAllBytes(path, encoded[images.ToList().IndexOf(image)].Data);
            written.Add(new WrittenImage(image.Index, image.Seed, path, cosine));
        }

        string? sheetPath = null;
        if (sheet is not null)
        {
            sheetPath = Path.Combine(outputDirectory, ContactSheetFileName);
            sheet.SavePng(sheetPath);
        }

        var record = new JsonObject
        {
            ["record"] = "sharpclip text-to-image",
            ["model"] = new JsonObject { ["path"] = Path.GetFullPath(generator.Source), ["kind"] = generator.Kind, ["sha256_prefix"] = Sha256Prefix(generator.Source) },
            ["prompt"] = request.Prompt,
            ["negative_prompt"] = request.NegativePrompt,
            ["seed"] = request.Seed,
            ["seed_rule"] = "image i is made from seed + i, whatever the batch size; generate -n 1 --seed <its seed> makes it alone",
            ["count"] = request.Count,
            ["batch_size"] = request.BatchSize,
        };
        foreach (var (key, value) in settings) record[key] = JsonValue(value);
        record["init_image"] = initImagePath is null ? null
            : new JsonObject { ["path"] = Path.GetFullPath(initImagePath), ["sha256_prefix"] = Sha256Prefix(initImagePath) };
        record["rerank"] = rerank is null ? null : new JsonObject
        {
            ["model"] = Path.GetFullPath(rerank.ModelPath), ["sha256_prefix"] = Sha256Prefix(rerank.ModelPath), ["keep"] = rerank.Keep,
            ["contact_sheet"] = ContactSheetFileName, ["scores"] = scores,
        };
        record["images"] = new JsonArray([.. written.Select(w => (JsonNode)new JsonObject
        {
            ["file"] = Path.GetFileName(w.File), ["index"] = w.Index, ["seed"] = w.Seed, ["cosine"] = w.Cosine,
        })]);
        var recordPath = Path.Combine(outputDirectory, RecordFileName);
        File.WriteAllText(recordPath, record.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return new TextToImageRunResult(written, recordPath, sheetPath);
    }

    static string FileName(GeneratedImage image) => $"image-{image.Index:D3}-seed{image.Seed}.png";

    static JsonNode? JsonValue(object? value) => value switch
    {
        null => null,
        JsonNode node => node,
        _ => JsonSerializer.SerializeToNode(value),
    };

    // Hashes by full path, kept while every file's size and write time stay the same: a server writes a record per job,
    // and re-reading a multi-GB checkpoint for each one cost seconds (metadata is all a repeat reads).
    static readonly System.Collections.Concurrent.ConcurrentDictionary<string, (string Stamp, string Prefix)> HashedFiles = new();

    /// <summary>The first 16 hex digits of the sha256 of a file, or of a folder's files (relative names and contents, in
    /// name order). Remembered for the process until a file's size or write time changes.</summary>
    public static string Sha256Prefix(string path)
    {
        var full = Path.GetFullPath(path);
        string[] files = Directory.Exists(full) ? [.. Directory.GetFiles(full, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)] : [full];
        var stamp = string.Join("\n", files.Select(f => new FileInfo(f)).Select(f => $"{f.FullName}|{f.Length}|{f.LastWriteTimeUtc.Ticks}"));
        if (HashedFiles.TryGetValue(full, out var known) && known.Stamp == stamp) return known.Prefix;
        var prefix = HashContents(full);
        HashedFiles[full] = (stamp, prefix);
        return prefix;
    }

    static string HashContents(string path)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var files = Directory.Exists(path)
            ? Directory.GetFiles(path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray()
            : [path];
        var buffer = new byte[1 << 20];
        foreach (var file in files)
        {
            if (Directory.Exists(path)) sha.AppendData(System.Text.Encoding.UTF8.GetBytes(Path.GetRelativePath(path, file) + "\n"));
            using var stream = File.OpenRead(file);
            int read;
            while ((read = stream.Read(buffer, 0, buffer.Length)) > 0) sha.AppendData(buffer, 0, read);
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset())[..16];
    }
}
