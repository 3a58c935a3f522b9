using System.CommandLine;
using System.Globalization;
using SharpClip.Demos.Emoji;
using SharpClip.Demos.OpenClipart;

namespace SharpClip.Cli.Commands;

/// <summary><c>sharpclip datasets prepare openclipart [-o DIR] [--from SRC]</c>: fetches Debian's openclipart-svg and writes its 22 folder classes as a labelled set.</summary>
public static class DatasetsOpenClipartCommand
{
    public static Command Create()
    {
        var dir = OldSpellings.Alias(new Option<string?>("--output", "-o") { Description = $"Output folder (default: {OpenClipartDataset.DefaultDirectory}). The .deb and its unpacked tree are cached in OUTPUT/packages." }, "--dir");
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
}
