using System.CommandLine;
using System.Globalization;
using SharpClip.Demos.Emoji;
using SharpClip.Demos.OpenClipart;

namespace SharpClip.Cli.Commands;

/// <summary><c>sharpclip datasets prepare emoji [-o DIR] [--size N]</c>: fetches the emoji packages and writes the per-style image-text sets.</summary>
public static class DatasetsEmojiCommand
{
    public static Command Create()
    {
        var dir = OldSpellings.Alias(new Option<string?>("--output", "-o") { Description = $"Output folder (default: {EmojiDataset.DefaultDirectory}). Packages are cached in OUTPUT/packages." }, "--dir");
        var size = new Option<int>("--size") { Description = "Image side in pixels.", DefaultValueFactory = _ => EmojiPrepareOptions.DefaultImageSize };
        var npm = new Option<string>("--npm") { Description = "The npm client to run.", DefaultValueFactory = _ => "npm" };
        var cmd = new Command("emoji", "Emoji in 8 art styles: train on google+twitter, test on apple/facebook (near) and OpenMoji/Fluent (far shift).");
        cmd.Options.Add(dir);
        cmd.Options.Add(size);
        cmd.Options.Add(npm);
        cmd.SetAction(parse => CliErrors.Guard(() =>
        {
            using var progress = new StageProgress();
            var r = EmojiDataset.Prepare(new EmojiPrepareOptions { Directory = parse.GetValue(dir), ImageSize = parse.GetValue(size), NpmCommand = parse.GetValue(npm)! },
                new SyncProgress<EmojiPrepareProgress>(p => progress.Report(p.Stage, p.Done, p.Total)));
            progress.Dispose();
            Console.WriteLine($"emoji dataset in {r.Directory}");
            Console.WriteLine($"{r.Emoji} emoji, {r.Identities} identity groups ({r.TestIdentities} test); train.jsonl {r.TrainSamples} samples, val.jsonl {r.ValidationSamples}");
            Console.WriteLine($"{"style",-15} {"role",-10} {"train",6} {"val",6} {"test",6} {"skins",6} {"zs-test",8} {"rendered",9} {"reused",7} {"blank",6}");
            foreach (var s in r.Styles)
                Console.WriteLine($"{s.Style,-15} {s.Role,-10} {s.Train,6} {s.Validation,6} {s.Test,6} {s.SkinVariants,6} {s.ZeroShotTest,8} {s.Rendered,9} {s.Reused,7} {s.Blank,6}");
            Console.WriteLine($"zero-shot classes: {r.GroupClasses.Count} groups, {r.SubgroupClasses.Count} subgroups (e.g. {EmojiDataset.ZeroShotCsv(r.Directory, "apple")})");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"time: fetch {r.FetchTime.TotalSeconds:F1} s, read {r.ReadTime.TotalSeconds:F1} s, render {r.RenderTime.TotalSeconds:F1} s"));
            return 0;
        }));
        return cmd;
    }
}
