using System.CommandLine;
using SharpClip.Generation.Dalle.Training;

namespace SharpClip.Cli.Commands;

/// <summary>
/// <c>sharpclip train-dvae [--config FILE.json] [--resume] [flags]</c>: trains DALL-E's discrete VAE
/// (<see cref="DvaeTrainer"/>); the output folder becomes a dVAE folder (<c>encoder.safetensors</c>,
/// <c>decoder.safetensors</c>). Flags override the config's fields; Ctrl-C stops after the current step and saves.
/// </summary>
public static class TrainDvaeCommand
{
    public static Command Create()
    {
        var config = new Option<string?>("--config") { Description = "A JSON dVAE training config (snake_case fields); flags override it." };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --output from its newest intact checkpoint." };
        var output = new Option<string?>("--output", "-o") { Description = "Run folder (becomes a dVAE folder)." };
        var data = new Option<string?>("--data") { Description = "Images: synthetic:shapes:train, a .csv/.tsv, .jsonl, a folder, .tar shards, emoji:..." };
        var steps = new Option<long?>("--steps") { Description = "Optimizer steps." };
        var batch = new Option<int?>("--batch-size", "-b") { Description = "Images per step." };
        var lr = new Option<double?>("--lr") { Description = "Peak learning rate." };
        var vocab = new Option<int?>("--codebook-size") { Description = "Codebook size (vocab_size)." };
        var recon = new Option<ReconstructionLoss?>("--reconstruction") { Description = "LogitLaplace (the paper), L1 or L2." };
        var seed = new Option<int?>("--seed") { Description = "Seed of the initialisation, data order and gumbel noise." };
        var saveEvery = new Option<int?>("--save-every") { Description = "Checkpoint every N steps (0 = end and Ctrl-C only)." };
        var workers = new Option<int?>("--workers") { Description = "Image decoding threads." };
        var threads = new Option<int?>("--threads") { Description = "libtorch threads." };
        var cmd = new Command("train-dvae", "Train DALL-E's discrete VAE (image → grid of codebook tokens) from scratch.");
        foreach (var o in new Option[] { config, resume, output, data, steps, batch, lr, vocab, recon, seed, saveEvery, workers, threads }) cmd.Options.Add(o);
        cmd.SetAction(parse => CliErrors.Guard(() =>
        {
            bool resuming = parse.GetValue(resume);
            var saved = Path.Combine(parse.GetValue(output) ?? new DvaeTrainingConfig().Output, DvaeTrainer.ConfigFileName);
            var c = parse.GetValue(config) is { } file ? DvaeTrainingConfig.Load(file)
                : resuming && File.Exists(saved) ? DvaeTrainingConfig.Load(saved) : new DvaeTrainingConfig();
            c = c with
            {
                Resume = resuming, Output = parse.GetValue(output) ?? c.Output, Data = parse.GetValue(data) ?? c.Data,
                Steps = parse.GetValue(steps) ?? c.Steps, BatchSize = parse.GetValue(batch) ?? c.BatchSize,
                LearningRate = parse.GetValue(lr) ?? c.LearningRate, VocabSize = parse.GetValue(vocab) ?? c.VocabSize,
                Reconstruction = parse.GetValue(recon) ?? c.Reconstruction, Seed = parse.GetValue(seed) ?? c.Seed,
                SaveEvery = parse.GetValue(saveEvery) ?? c.SaveEvery, Workers = parse.GetValue(workers) ?? c.Workers,
                Threads = parse.GetValue(threads) ?? c.Threads,
            };
            return GenerativeTrainingConsole.Run("train-dvae", (progress, ct) => DvaeTrainer.Run(c, progress, ct));
        }));
        return cmd;
    }
}
