using System.Globalization;
using System.Text.Json;
using SharpClip.Generation.Dalle;
using SharpClip.Generation.TextToImage;

namespace SharpClip.Web;

/// <summary>A request field the client got wrong: its name (as the JSON spells it) and why.</summary>
public sealed class FieldException(string field, string message) : Exception(message)
{
    public string Field { get; } = field;
}

/// <summary>A checked generate request: what to make, and how many to keep after reranking (null: no reranking).</summary>
public sealed record GenerateOrder(TextToImageRequest Request, int? Keep, int ProgressTotal);

/// <summary>
/// Reads the JSON body of <c>POST /api/generate</c> into a <see cref="TextToImageRequest"/>, checking every field
/// against the server's limits and the model's kind before anything is queued; the first bad field is one
/// <see cref="FieldException"/> naming it. What is left to the model (its schedule's length, DDIM step counts the
/// reference cannot run) comes back from <see cref="ITextToImageGenerator.Resolve"/> and is named the same way.
/// </summary>
public static class GenerateRequestReader
{
    /// <summary>Fields only a denoising model takes.</summary>
    public static readonly IReadOnlyList<string> DiffusionFields = ["negative", "steps", "guidance", "karras"];

    /// <summary>Fields only a DALL-E model (image tokens drawn one by one) takes.</summary>
    public static readonly IReadOnlyList<string> TokenFields = ["temperature", "topK", "topP"];

    /// <summary>Fields every model takes; <c>keep</c> only with a reranker.</summary>
    public static readonly IReadOnlyList<string> CommonFields = ["prompt", "seed", "width", "height", "count", "keep", "sampler"];

    /// <summary>Largest seed: JavaScript's largest exact integer, so a page shows and sends back the very seed used.</summary>
    public const long MaxSeed = (1L << 53) - 1;

    /// <summary>Whether the model draws image tokens (DALL-E) rather than denoising.</summary>
    public static bool SamplesTokens(ITextToImageGenerator generator) => generator is DalleGenerator;

    /// <summary>The fields this model takes, in the order a form shows them.</summary>
    public static IReadOnlyList<string> FieldsFor(ITextToImageGenerator generator, bool reranks) =>
        [.. CommonFields.Where(f => reranks || f != "keep"), .. (SamplesTokens(generator) ? TokenFields : DiffusionFields)];

    public static GenerateOrder Read(JsonElement body, ITextToImageGenerator generator, bool reranks, GenerateWebOptions limits)
    {
        if (body.ValueKind != JsonValueKind.Object) throw new FieldException("body", "the body must be a JSON object of the request's fields");
        var allowed = FieldsFor(generator, reranks);
        var fields = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var p in body.EnumerateObject())
        {
            if (!allowed.Contains(p.Name)) throw new FieldException(p.Name, Unexpected(p.Name, generator, allowed));
            if (p.Value.ValueKind != JsonValueKind.Null) fields[p.Name] = p.Value;
        }

        string prompt = Text(fields, "prompt", limits.MaxPromptChars) ?? "";
        if (string.IsNullOrWhiteSpace(prompt)) throw new FieldException("prompt", "prompt is empty: describe the image to make");
        var (width, height) = generator.DefaultSize;
        width = (int)(Integer(fields, "width", 1, limits.MaxSide) ?? width);
        height = (int)(Integer(fields, "height", 1, limits.MaxSide) ?? height);
        if (SamplesTokens(generator) && (width, height) != generator.DefaultSize)
        {
            var (name, side) = width != generator.DefaultSize.Width ? ("width", width) : ("height", height);
            throw new FieldException(name, $"{name} {side}: this DALL-E model makes {generator.DefaultSize.Width}x{generator.DefaultSize.Height} images only (its token grid times the dVAE cell)");
        }
        foreach (var (name, side) in new[] { ("width", width), ("height", height) })
            if (side % generator.SizeMultiple != 0)
                throw new FieldException(name, $"{name} {side} must be a multiple of {generator.SizeMultiple} (the model's {(SamplesTokens(generator) ? "dVAE cell" : "autoencoder factor")})");
        if ((long)width * height > limits.MaxPixels)
            throw new FieldException("width", $"width × height = {width}x{height} is {(long)width * height} pixels, more than this server's limit of {limits.MaxPixels}");
        int count = (int)(Integer(fields, "count", 1, limits.MaxCount) ?? 1);
        int? keep = reranks ? (int)(Integer(fields, "keep", 1, count) ?? count) : null;
        string? sampler = Text(fields, "sampler", 64);
        if (sampler is not null)
        {
            sampler = generator.Samplers.FirstOrDefault(s => string.Equals(s, sampler, StringComparison.OrdinalIgnoreCase))
                ?? throw new FieldException("sampler", $"sampler '{sampler}' is not one of this model's: {string.Join(", ", generator.Samplers)}");
        }

        var request = new TextToImageRequest
        {
            Prompt = prompt,
            NegativePrompt = Text(fields, "negative", limits.MaxPromptChars) ?? "",
            Seed = Integer(fields, "seed", 0, MaxSeed) ?? Random.Shared.NextInt64(0, 1L << 31),
            Width = width,
            Height = height,
            Count = count,
            Sampler = sampler,
            Steps = (int?)Integer(fields, "steps", 1, limits.MaxSteps),
            GuidanceScale = Number(fields, "guidance", 1, limits.MaxGuidance),
            Karras = Flag(fields, "karras"),
            Temperature = Number(fields, "temperature", 0.01, 100),
            TopK = (int?)Integer(fields, "topK", 1, int.MaxValue),
            TopP = Number(fields, "topP", 0.001, 1),
        };
        try
        {
            generator.Resolve(request);
            return new GenerateOrder(request, keep, generator.ProgressTotal(request));
        }
        catch (ArgumentException e)
        {
            // An ArgumentOutOfRangeException appends " (Parameter 'x')" and the actual value: the sentence before is the message.
            var message = e.Message;
            int at = e.ParamName is { } param ? message.IndexOf($" (Parameter '{param}')", StringComparison.Ordinal) : -1;
            if (at >= 0) message = message[..at];
            throw new FieldException(FieldOf(message, e.ParamName), message);
        }
    }

    static string Unexpected(string name, ITextToImageGenerator generator, IReadOnlyList<string> allowed)
    {
        if (name == "keep") return "keep needs a reranker: start the server with --rerank-model";
        if (DiffusionFields.Contains(name))
            return $"{name} is a setting of denoising models; this server's model is a DALL-E model, which draws image tokens (it takes {string.Join(", ", TokenFields)})";
        if (TokenFields.Contains(name))
            return $"{name} is a setting of DALL-E models; this server's model ({generator.Kind}) denoises (it takes {string.Join(", ", DiffusionFields)})";
        return $"unknown field '{name}'; this server takes {string.Join(", ", allowed)}";
    }

    /// <summary>The field a model's own refusal is about: its parameter name or the word it starts with.</summary>
    static string FieldOf(string message, string? param)
    {
        string first = message.Split(' ', 2)[0].ToLowerInvariant();
        foreach (var candidate in new[] { param, first })
            switch (candidate)
            {
                case "size": return "width";
                case "top-k": return "topK";
                case "top-p": return "topP";
                case { } c when CommonFields.Contains(c) || DiffusionFields.Contains(c) || TokenFields.Contains(c): return c;
            }
        return "request";
    }

    static string? Text(Dictionary<string, JsonElement> fields, string name, int maxChars)
    {
        if (!fields.TryGetValue(name, out var e)) return null;
        if (e.ValueKind != JsonValueKind.String) throw new FieldException(name, $"{name} must be a string");
        var s = e.GetString()!;
        return s.Length <= maxChars ? s : throw new FieldException(name, $"{name} is longer than {maxChars} characters");
    }

    static long? Integer(Dictionary<string, JsonElement> fields, string name, long min, long max)
    {
        if (!fields.TryGetValue(name, out var e)) return null;
        if (e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out long v) && v >= min && v <= max) return v;
        throw new FieldException(name, $"{name} must be an integer from {min} to {max}, got {e.GetRawText()}");
    }

    static double? Number(Dictionary<string, JsonElement> fields, string name, double min, double max)
    {
        if (!fields.TryGetValue(name, out var e)) return null;
        if (e.ValueKind == JsonValueKind.Number && e.TryGetDouble(out double v) && v >= min && v <= max) return v;
        throw new FieldException(name, string.Create(CultureInfo.InvariantCulture, $"{name} must be a number from {min} to {max}, got {e.GetRawText()}"));
    }

    static bool Flag(Dictionary<string, JsonElement> fields, string name)
    {
        if (!fields.TryGetValue(name, out var e)) return false;
        return e.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new FieldException(name, $"{name} must be true or false, got {e.GetRawText()}"),
        };
    }
}
