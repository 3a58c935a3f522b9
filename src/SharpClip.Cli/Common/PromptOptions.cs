using System.CommandLine;

namespace SharpClip.Cli;

/// <summary>
/// The one prompt-set option of every zero-shot verb, <c>--templates</c>: a paper set by name, a file
/// (<c>FILE#DATASET</c> for one dataset of a multi-dataset file) or one inline template.
/// </summary>
public static class PromptOptions
{
    /// <summary>The <c>--templates</c> option; <paramref name="defaults"/> says what a verb uses without it.</summary>
    public static Option<string?> Templates(string defaults) => new("--templates")
    {
        Description = "Prompt templates with {} for the class: a CLIP paper prompt set by name ('imagenet' = the paper's 80, 'cifar10', ...; built in), " +
                      "a JSON or text file (FILE#DATASET takes one dataset of a multi-dataset file such as the paper's prompts.json), or one template inline. " +
                      "Default: " + defaults,
    };

    /// <summary>
    /// The old per-verb dataset pickers (<c>classify --dataset</c>, <c>eval zeroshot --prompts-dataset</c>), hidden and
    /// working for one release: <c>--templates FILE#DATASET</c> says the same in the one option.
    /// </summary>
    public static Option<string?> RetiredDatasetPicker(string name) =>
        OldSpellings.Retire(new Option<string?>(name) { Description = "Which dataset's templates to take from a multi-dataset prompts file." }, "--templates FILE#DATASET");
}
