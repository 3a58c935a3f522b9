using System.Text.Json;
using SharpClip.Tests.Infrastructure;
using SharpClip.ZeroShot;

namespace SharpClip.Tests.ZeroShot;

/// <summary>
/// The CLIP paper's prompt sets built into the library: found by name with no file outside the assembly, and equal to
/// an independent transcription of the same data (the shared folder's <c>clip_prompts.json</c>) set by set.
/// </summary>
public sealed class PaperPromptsTests
{
    [Fact]
    public void ImageNetsEightyTemplatesComeFromTheAssemblyNotAFile()
    {
        // Nothing is looked up on disk (the packaging test runs the same call in an app outside the repository).
        var imagenet = PromptTemplates.Resolve("imagenet")!;
        Assert.Equal(80, imagenet.Templates.Count);
        Assert.Equal("a bad photo of a {}.", imagenet.Templates[0]);
        Assert.All(imagenet.Templates, t => Assert.Contains("{}", t));
        Assert.Equal(80, imagenet.Templates.Distinct().Count());
        Assert.Equal(1000, PaperPrompts.Get("imagenet").Classes.Count);
    }

    [Fact]
    public void EverySetResolvesByShortOrPaperName()
    {
        Assert.Equal(27, PaperPrompts.All.Count);
        Assert.Equal(PaperPrompts.Names.Count, PaperPrompts.Names.Distinct().Count());
        foreach (var set in PaperPrompts.All)
        {
            Assert.Same(set, PaperPrompts.Find(set.Name));
            Assert.Same(set, PaperPrompts.Find(set.Dataset));
            Assert.Same(set, PaperPrompts.Find(set.Dataset.ToUpperInvariant()));
            Assert.Equal(set.Templates.Templates, PromptTemplates.Resolve(set.Name)!.Templates);
            Assert.NotEmpty(set.ClassNames);
        }
        Assert.Equal("OxfordPets", PaperPrompts.Get("oxford_pets").Dataset);
        Assert.Equal("DescribableTextures", PaperPrompts.Get("dtd").Dataset);
        Assert.Equal(18, PaperPrompts.Get("CIFAR-10").Templates.Templates.Count);
        Assert.Contains(PaperPrompts.Get("fer2013").ClassNames, names => names.Count > 1); // the paper's several names per emotion
        var e = Assert.Throws<KeyNotFoundException>(() => PaperPrompts.Get("imagenet-21k"));
        Assert.Contains("no prompt set 'imagenet-21k' among the CLIP paper's: imagenet, birdsnap", e.Message);
    }

    /// <summary>
    /// The shared folder's clip_prompts.json was transcribed from the same sources by other code; every dataset's
    /// classes (with their several names) and templates must agree exactly, in order.
    /// </summary>
    [Fact]
    public void SetsMatchAnIndependentTranscription()
    {
        var path = Fixtures.PromptsPath;
        Assert.True(File.Exists(path), $"{path}: the reference transcription is missing");
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var datasets = doc.RootElement.EnumerateObject().ToList();
        Assert.Equal(datasets.Select(d => d.Name).Order(), PaperPrompts.All.Select(s => s.Dataset).Order());
        foreach (var dataset in datasets)
        {
            var set = PaperPrompts.Get(dataset.Name);
            Assert.Equal(dataset.Value.GetProperty("templates").EnumerateArray().Select(t => t.GetString()!), set.Templates.Templates);
            var classes = dataset.Value.GetProperty("classes").EnumerateArray()
                .Select(c => c.ValueKind == JsonValueKind.Array ? c.EnumerateArray().Select(n => n.GetString()!).ToList() : [c.GetString()!])
                .ToList();
            Assert.Equal(classes.Count, set.ClassNames.Count);
            for (int i = 0; i < classes.Count; i++) Assert.Equal(classes[i], set.ClassNames[i]);
        }
    }
}
