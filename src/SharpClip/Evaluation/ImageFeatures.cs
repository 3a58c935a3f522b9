using SharpClip.Files;
using SharpClip.Checkpoints;
using SharpClip.Data;
using SharpClip.Pipelines;
using SharpClip.Vision;
using TorchSharp;

namespace SharpClip.Evaluation;

/// <summary>
/// L2-normalised image embeddings of a dataset, row i = item i: [N, D] float32 in <see cref="Values"/>.
/// <see cref="Ok"/> is false where the image could not be read (its row is zeros).
/// </summary>
public sealed record FeatureMatrix(float[] Values, int Count, int Dimension, bool[] Ok)
{
    public ReadOnlySpan<float> Row(int i) => Values.AsSpan(i * Dimension, Dimension);

    public int Failed => Ok.Count(o => !o);

    /// <summary>Why each unreadable row failed (row → message naming the image), so reports can say which files.</summary>
    public IReadOnlyDictionary<int, string> Errors { get; init; } = new Dictionary<int, string>();
}

/// <summary>
/// Feature extraction for evaluation: any <see cref="ImageSource"/> (files, tar members, rendered pixels) through the
/// model's own preprocessing, and a disk cache keyed by (model fingerprint, dataset identity) so linear probes, few-shot
/// sweeps and repeated reports pay for the image tower once.
/// </summary>
public static class ImageFeatures
{
    /// <summary>Embeds every image; unreadable ones are marked in <see cref="FeatureMatrix.Ok"/>, not fatal.</summary>
    public static FeatureMatrix Extract(ClipPipeline pipeline, IReadOnlyList<ImageSource> images, IProgress<int>? progress = null,
        CancellationToken cancellationToken = default)
    {
        int dim = pipeline.EmbeddingDimension, batch = pipeline.Options.BatchSize;
        var values = new float[(long)images.Count * dim];
        var ok = new bool[images.Count];
        var errors = new System.Collections.Concurrent.ConcurrentDictionary<int, string>();
        var processor = pipeline.Processor;
        for (int start = 0; start < images.Count; start += batch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = Math.Min(batch, images.Count - start);
            var pixels = new float[]?[count];
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = pipeline.Options.DecodeThreads ?? Environment.ProcessorCount, CancellationToken = cancellationToken },
                i =>
                {
                    try { pixels[i] = Preprocess(processor, images[start + i]); }
                    catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException or FormatException)
                    {
                        pixels[i] = null;
                        errors[start + i] = e.Message.Contains(images[start + i].Describe(), StringComparison.Ordinal) ? e.Message : $"{images[start + i].Describe()}: {e.Message}";
                    }
                });
            var good = Enumerable.Range(0, count).Where(i => pixels[i] is not null).ToList();
            if (good.Count > 0)
            {
                using var batchTensor = processor.ToBatchTensor(good.Select(i => pixels[i]!).ToList());
                using var embedded = pipeline.Encoder.EmbedImages(batchTensor, normalize: true);
                using var cpu = embedded.to(torch.ScalarType.Float32, torch.CPU);
                var flat = cpu.data<float>().ToArray();
                for (int g = 0; g < good.Count; g++)
                {
                    flat.AsSpan(g * dim, dim).CopyTo(values.AsSpan((start + good[g]) * dim, dim));
                    ok[start + good[g]] = true;
                }
            }
            progress?.Report(start + count);
        }
        return new FeatureMatrix(values, images.Count, dim, ok) { Errors = new Dictionary<int, string>(errors) };
    }

    static float[] Preprocess(ClipImageProcessor processor, ImageSource source) => source switch
    {
        ImageFile f => processor.Process(f.Path),
        EncodedImage e => processor.Process(e.Bytes.ToArray(), e.Origin),
        RawRgbImage r => processor.Process(DecodedImage.FromRgb(new RgbImage(r.Width, r.Height, r.RgbHwc))),
        _ => throw new NotSupportedException($"{source.Describe()}: unknown image source {source.GetType().Name}"),
    };

    /// <summary>
    /// As <see cref="Extract"/>, reading <c>features-&lt;key&gt;.safetensors</c> from <paramref name="cacheDirectory"/> when
    /// it was written for the same model and dataset, else computing and writing it (null directory: no cache).
    /// </summary>
    public static FeatureMatrix ExtractCached(ClipPipeline pipeline, LabeledDataset dataset, string? cacheDirectory,
        IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        if (cacheDirectory is null) return Extract(pipeline, dataset.Items.Select(i => i.Image).ToList(), progress, cancellationToken);
        var key = CacheKey.Of(pipeline.Fingerprint, dataset.Identity);
        var path = Path.Combine(cacheDirectory, $"features-{key[..24]}.safetensors");
        if (File.Exists(path))
        {
            using var file = SafeTensorsFile.Open(path);
            if (file.Metadata.TryGetValue("key", out var stored) && stored == key)
            {
                var values = file.ReadFloats("features");
                var ok = file.RawBytes("ok").ToArray().Select(b => b != 0).ToArray();
                if (ok.Length == dataset.Items.Count && values.Length == ok.Length * pipeline.EmbeddingDimension)
                {
                    var errors = file.Metadata.TryGetValue("errors", out var json) ? System.Text.Json.JsonSerializer.Deserialize<Dictionary<int, string>>(json) : null;
                    return new FeatureMatrix(values, ok.Length, pipeline.EmbeddingDimension, ok)
                    {
                        Errors = Enumerable.Range(0, ok.Length).Where(i => !ok[i]).ToDictionary(i => i,
                            i => errors?.GetValueOrDefault(i) ?? $"{dataset.Items[i].Image.Describe()}: unreadable when first embedded (clear the feature cache to retry)"),
                    };
                }
            }
        }
        var features = Extract(pipeline, dataset.Items.Select(i => i.Image).ToList(), progress, cancellationToken);
        Directory.CreateDirectory(cacheDirectory);
        SafeTensorsWriter.Write(path, new Dictionary<string, SafeTensorsWriter.Entry>
        {
            ["features"] = SafeTensorsWriter.FromFloats(features.Values, features.Count, features.Dimension),
            ["ok"] = SafeTensorsWriter.FromBytes(features.Ok.Select(o => (byte)(o ? 1 : 0)).ToArray(), features.Count),
        }, new Dictionary<string, string>
        {
            ["key"] = key, ["dataset"] = dataset.Name, ["model"] = pipeline.Source,
            ["errors"] = System.Text.Json.JsonSerializer.Serialize(features.Errors), // why rows failed, for reports read from the cache
        });
        return features;
    }
}
