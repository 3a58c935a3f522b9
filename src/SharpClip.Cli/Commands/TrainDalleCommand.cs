using System.CommandLine;
using SharpClip.Generation.Dalle.Training;

namespace SharpClip.Cli.Commands;

/// <summary>
/// <c>sharpclip train-dalle [--config FILE.json] [--resume] [flags]</c>: trains the DALL-E transformer over a trained
/// dVAE's tokens (<see cref="DalleTrainer"/>); the output folder becomes a DALL-E model folder. Flags override the
/// config's fields; Ctrl-C stops after the current step and saves.
/// </summary>
public static class TrainDalleCommand
{
    public static Command Create()
    {
        var config = new Option<string?>("--config") { Description = "A JSON DALL-E training config (snake_case fields); flags override it." };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --output from its newest intact checkpoint." };
        var output = new Option<string?>("--output", "-o") { Description = "Run folder (becomes a DALL-E model folder)." };
        var dvae = new Option<string?>("--dvae") { Description = "The dVAE folder whose tokens the transformer models (a train-dvae run)." };
        var data = new Option<string?>("--data") { Description = "Image–caption pairs: synthetic:shapes:train, a .csv/.tsv, .jsonl, a folder, .tar shards, emoji:..." };
        var vocab = new Option<string?>("--vocab") { Description = "BPE vocabulary file (default: learned from the captions)." };
        var steps = new Option<long?>("--steps") { Description = "Optimizer steps." };
        var batch = new Option<int?>("--batch-size", "-b") { Description = "Pairs per optimizer step." };
        var micro = new Option<int?>("--micro-batch-size") { Description = "Pairs per forward/backward pass (gradient accumulation)." };
        var lr = new Option<double?>("--lr") { Description = "Peak learning rate." };
        var ema = new Option<double?>("--ema") { Description = "Keep an EMA of the weights with this decay (e.g. 0.999) and publish it." };
        var seed = new Option<int?>("--seed") { Description = "Seed of the initialisation and data order." };
        var saveEvery = new Option<int?>("--save-every") { Description = "Checkpoint every N steps (0 = end and Ctrl-C only)." };
        var workers = new Option<int?>("--workers") { Description = "Image decoding threads." };
        var threads = new Option<int?>("--threads") { Description = "libtorch threads." };
        var cmd = new Command("train-dalle", "Train DALL-E's transformer on [caption | dVAE image tokens] from a trained dVAE.");
        foreach (var o in new Option[] { config, resume, output, dvae, data, vocab, steps, batch, micro, lr, ema, seed, saveEvery, workers, threads }) cmd.Options.Add(o);
        cmd.SetAction(parse => CliErrors.Guard(() =>
        {
            bool resuming = parse.GetValue(resume);
            var saved = Path.Combine(parse.GetValue(output) ?? new DalleTrainingConfig().Output, DalleTrainer.ConfigFileName);
            var c = parse.GetValue(config) is { } file ? DalleTrainingConfig.Load(file)
                : resuming && File.Exists(saved) ? DalleTrainingConfig.Load(saved) : new DalleTrainingConfig();
            c = c with
            {
                Resume = resuming, Output = parse.GetValue(output) ?? c.Output, Dvae = parse.GetValue(dvae) ?? c.Dvae,
                Data = parse.GetValue(data) ?? c.Data, Vocab = parse.GetValue(vocab) ?? c.Vocab, Steps = parse.GetValue(steps) ?? c.Steps,
                BatchSize = parse.GetValue(batch) ?? c.BatchSize, MicroBatchSize = parse.GetValue(micro) ?? c.MicroBatchSize,
                LearningRate = parse.GetValue(lr) ?? c.LearningRate, EmaDecay = parse.GetValue(ema) ?? c.EmaDecay, Seed = parse.GetValue(seed) ?? c.Seed,
                SaveEvery = parse.GetValue(saveEvery) ?? c.SaveEvery, Workers = parse.GetValue(workers) ?? c.Workers, Threads = parse.GetValue(threads) ?? c.Threads,
            };
            return GenerativeTrainingConsole.Run("train-dalle", (progress, ct) => DalleTrainer.Run(c, progress, ct));
        }));
        return cmd;
    }
}
