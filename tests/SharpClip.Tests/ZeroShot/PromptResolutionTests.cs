using SharpClip.Tests.Infrastructure;
using SharpClip.ZeroShot;

namespace SharpClip.Tests.ZeroShot;

/// <summary>What a user's <c>--templates</c> and <c>--labels</c> strings resolve to, as every zero-shot verb reads them.</summary>
public sealed class PromptResolutionTests : IDisposable
{
    readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void TemplatesResolveFromNothingAnInlineTemplateAFileOrThePapersSet()
    {
        Assert.Null(PromptTemplates.Resolve(null));
        Assert.Equal(["a sketch of a {}."], PromptTemplates.Resolve("a sketch of a {}.")!.Templates);
        var file = _dir.File("t.txt", "a {}.\n\nthe {}\n");
        Assert.Equal(["a {}.", "the {}"], PromptTemplates.Resolve(file)!.Templates);
        Assert.Equal(["it is a {}"], PromptTemplates.Resolve("it is a {}", "ignored for inline templates")!.Templates);
        var imagenet = PromptTemplates.Resolve("ImageNet")!; // built into the library (PaperPromptsTests checks the data)
        Assert.Equal(80, imagenet.Templates.Count);
        Assert.Equal(PaperPrompts.Get("imagenet").Templates.Templates, imagenet.Templates);
        var e = Assert.Throws<FileNotFoundException>(() => PromptTemplates.Resolve("photos"));
        Assert.Contains("not one of the CLIP paper's prompt sets (imagenet, birdsnap, cifar10,", e.Message);
        Assert.Contains("not a file, and not a template containing {}", e.Message);
    }

    /// <summary>FILE#DATASET: one string picks a dataset of a multi-dataset file (the one --templates option of every verb).</summary>
    [Fact]
    public void AHashPicksOneDatasetOfAMultiDatasetFile()
    {
        var file = _dir.File("prompts.json", """{ "cifar10": { "templates": ["a photo of a {}."] }, "birds": { "templates": ["a {}, a type of bird.", "a photo of a {}, a bird."] } }""");
        Assert.Equal(["a {}, a type of bird.", "a photo of a {}, a bird."], PromptTemplates.Resolve(file + "#birds")!.Templates);
        Assert.Equal(["a photo of a {}."], PromptTemplates.Resolve(file + "#CIFAR10")!.Templates);
        Assert.Equal(["a photo of a {}."], PromptTemplates.Resolve(file, "cifar10")!.Templates);        // the library's parameter still works
        var unnamed = Assert.Throws<ArgumentException>(() => PromptTemplates.Resolve(file));
        Assert.Contains($"name one as {file}#cifar10", unnamed.Message);                                // says how
        Assert.Contains("no dataset 'cars'", Assert.Throws<KeyNotFoundException>(() => PromptTemplates.Resolve(file + "#cars")).Message);
        Assert.Throws<FileNotFoundException>(() => PromptTemplates.Resolve(_dir.Combine("missing.json") + "#birds"));
    }

    [Fact]
    public void LabelsAreTrimmedAtLeastTwoAndDistinct()
    {
        Assert.Equal(["cat", "dog", "cup of coffee"], ClassLabels.Parse(" cat,dog,, cup of coffee ", "--labels"));
        Assert.Contains("--labels: need at least two class names, got 1", Assert.Throws<ArgumentException>(() => ClassLabels.Parse("cat,", "--labels")).Message);
        Assert.Contains("class 'cat' appears twice", Assert.Throws<ArgumentException>(() => ClassLabels.Parse("cat,dog,cat", "--labels")).Message);
        var labels = _dir.File("labels.txt", "cat\r\n\r\n dog \n");
        Assert.Equal(["cat", "dog"], ClassLabels.ReadFile(labels));
        Assert.Throws<FileNotFoundException>(() => ClassLabels.ReadFile(_dir.Combine("missing.txt")));
    }
}
