using SharpClip.Files;
using TorchSharp;

namespace SharpClip.ZeroShot;

/// <summary>
/// Zero-shot weights kept on disk between runs, around <see cref="ClassifierBuilder"/>: embedding the paper's 80
/// templates × 1000 classes is the slow part of a zero-shot evaluation, and it depends only on the model and the
/// prompts. A file <c>classifier-&lt;key&gt;.safetensors</c> is keyed by (model fingerprint, classes, prompts), so a
/// change to any of them builds afresh.
/// </summary>
public static class ClassifierCache
{
    /// <summary>
    /// The classifier for <paramref name="prompts"/> from <paramref name="directory"/> when a file there was written for
    /// the same model and prompts; otherwise <paramref name="build"/>'s, which is then written there.
    /// </summary>
    /// <param name="directory">The cache folder (created when missing).</param>
    /// <param name="modelFingerprint">Identifies the weights (<c>ClipPipeline.Fingerprint</c>).</param>
    /// <param name="modelName">Where the model came from; recorded in the file for people, not part of the key.</param>
    /// <param name="prompts">Class names and each class's prompts: with the fingerprint, the key.</param>
    /// <param name="dimension">The model's embedding width, to tell a truncated file from a good one.</param>
    /// <param name="build">Builds the classifier when the cache has none.</param>
    public static ZeroShotClassifier GetOrBuild(string directory, string modelFingerprint, string modelName, ClassPrompts prompts,
        int dimension, Func<ZeroShotClassifier> build)
    {
        int classes = prompts.ClassNames.Count;
        var key = CacheKey.Of([modelFingerprint, .. prompts.ClassNames.Select((c, i) => c + "\u0002" + string.Join("\u0001", prompts.Prompts[i]))]);
        var path = Path.Combine(directory, $"classifier-{key[..24]}.safetensors");
        if (File.Exists(path))
        {
            using var file = SafeTensorsFile.Open(path);
            if (file.Metadata.TryGetValue("key", out var stored) && stored == key)
            {
                var cached = file.ReadFloats("weights");
                if (cached.Length == dimension * classes)
                    return new ZeroShotClassifier(torch.tensor(cached, [dimension, classes]), prompts.ClassNames); // owns the tensor
            }
        }
        var classifier = build();
        try
        {
            Directory.CreateDirectory(directory);
            var weights = classifier.Weights.data<float>().ToArray(); // [D, C] row-major
            SafeTensorsWriter.Write(path, new Dictionary<string, SafeTensorsWriter.Entry> { ["weights"] = SafeTensorsWriter.FromFloats(weights, dimension, classes) },
                new Dictionary<string, string> { ["key"] = key, ["classes"] = classes.ToString(), ["model"] = modelName });
            return classifier;
        }
        catch { classifier.Dispose(); throw; }
    }
}
