using System.CommandLine;
using SharpClip.Data;
using SharpClip.Generation.Studies;
using SharpClip.Generation.TextToImage;
using SharpClip.ZeroShot;

namespace SharpClip.Cli.Commands;

/// <summary>
/// <c>sharpclip eval generation -m GENERATOR --judge CLIP [--rerank-model CLIP] -d DATA -o OUT</c>: does reranking
/// (<see cref="RerankingStudy"/>) or guidance (<see cref="GuidanceStudy"/>) make images a separately trained CLIP
/// matches to their held-out captions? Writes JSON, Markdown, a plot and a sample grid per study.
/// </summary>
public static class EvalGenerationCommand
{
    public static Command Create()
    {
        var flags = new GenerationStudyFlags();
        var cmd = new Command("generation", "Judge a text-to-image model on held-out captions with a separate CLIP: R-precision and CLIPScore vs reranked candidates (--rerank-model) or guidance (--guidance).");
        flags.AddTo(cmd);
        cmd.SetAction(parse => CliErrors.Guard(() =>
        {
            string? rerankPath = parse.GetValue(flags.RerankModel), guidance = parse.GetValue(flags.Guidance), judgePath = parse.GetValue(flags.Judge)!;
            if (rerankPath is null && guidance is null) throw new ArgumentException("nothing to study: give --rerank-model (reranking study) and/or --guidance (guidance study)");
            if (rerankPath is not null) SeparateJudge.Require(judgePath, rerankPath, parse.GetValue(flags.AllowSameJudge));
            var counts = GenerationStudyFlags.Counts(parse.GetValue(flags.Candidates)!);
            var scales = guidance is null ? null : GenerationStudyFlags.Scales(guidance);
            long seed = parse.GetValue(flags.Seed);
            string output = parse.GetValue(flags.Output)!, command = "sharpclip " + string.Join(' ', parse.Tokens.Select(t => t.Value));
            using var ctrlC = new CtrlC();
            var set = HeldOutCaptions.Pick(ImageTextSources.Open(parse.GetValue(flags.Data)!), parse.GetValue(flags.Captions), (int)seed, cancellationToken: ctrlC.Token);
            using var generator = TextToImageGenerators.Open(parse.GetValue(flags.Model)!, new TextToImageLoadOptions { VocabPath = parse.GetValue(flags.Vocab) });
            using var judgeClip = flags.LoadClip(parse, judgePath);
            var judge = CaptionJudge.Create(new ClipEmbedder(judgeClip, judgePath), set, parse.GetValue(flags.Distractors), seed, PromptTemplates.Resolve(parse.GetValue(flags.Templates)), ctrlC.Token);
            Console.Error.WriteLine($"{set.Captions.Count} held-out captions of {set.Available} from {set.Source}; K = {judge.K}, {judge.Groups.Count} groups");
            var settings = flags.Settings(parse);
            if (rerankPath is not null)
            {
                using var rerankClip = flags.LoadClip(parse, rerankPath);
                var result = RerankingStudy.Run(generator, new ClipEmbedder(rerankClip, rerankPath), judge,
                    new RerankingStudyOptions { Candidates = counts, Seed = seed, Settings = settings }, GenerationStudyFlags.Progress("reranking"), ctrlC.Token);
                var files = RerankingReport.Write(result, output, command);
                foreach (var line in RerankingReport.ConsoleLines(result)) Console.WriteLine(line);
                Console.WriteLine($"reports: {string.Join(", ", files.All)}");
            }
            if (scales is not null)
            {
                var result = GuidanceStudy.Run(generator, judge, new GuidanceStudyOptions { Guidance = scales, ImagesPerCaption = parse.GetValue(flags.ImagesPerCaption), Seed = seed, Settings = settings },
                    GenerationStudyFlags.Progress("guidance"), ctrlC.Token);
                var files = GuidanceReport.Write(result, output, command);
                foreach (var line in GuidanceReport.ConsoleLines(result)) Console.WriteLine(line);
                Console.WriteLine($"reports: {string.Join(", ", files.All)}");
            }
            return 0;
        }));
        return cmd;
    }
}
