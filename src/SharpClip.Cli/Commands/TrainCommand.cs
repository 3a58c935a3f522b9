using System.CommandLine;
using SharpClip.Evaluation;
using SharpClip.Runtime;
using SharpClip.Training;

namespace SharpClip.Cli.Commands;

/// <summary>
/// <c>sharpclip train [--config FILE.json] [--resume] [flags]</c>: trains or fine-tunes CLIP (<see cref="Trainer"/>),
/// evaluating with <see cref="TrainingEvaluator"/> when the config sets eval_data. Flags override the config file's
/// fields (<see cref="TrainFlags"/>). Ctrl-C stops after the current step, saves, and exits with 130.
/// </summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var flags = new TrainFlags();
        var cmd = new Command("train", "Train CLIP from scratch or fine-tune a checkpoint; the output folder becomes a model folder. Flags override --config (or, with --resume, the run's own training_config.json); the defaults shown apply to what neither sets.");
        flags.AddTo(cmd);
        cmd.SetAction(parse => CliErrors.Guard(() => Run(flags.Bind(parse))));
        return cmd;
    }

    static int Run(TrainingConfig config)
    {
        var cpu = CpuFeatures.Current;
        Terminal.Line($"{cpu.ModelName}, {cpu.LogicalCores} cores ({string.Join(" ", cpu.RelevantFlags)}); output {Path.GetFullPath(config.Output)}", "grey");
        using var stop = new CtrlC("stopping after this step and saving a checkpoint (Ctrl-C again to kill)");
        var result = TrainingConsole.Show(progress => Trainer.Run(config, progress, stop.Token, TrainingEvaluator.Create));
        TrainingConsole.Summarise(result);
        return result.Interrupted ? CliErrors.Cancelled : 0;
    }
}
