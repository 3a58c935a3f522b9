using System.CommandLine;
using SharpClip.Generation.Diffusion.Training;

namespace SharpClip.Cli.Commands;

/// <summary>
/// <c>sharpclip train-diffusion --config FILE [--stage autoencoder|unet] [--clip MODEL] [--autoencoder RUN] [--resume] [flags]</c>:
/// trains a latent diffusion model in two stages (<see cref="DiffusionTrainer"/>): the KL autoencoder, then the U-Net
/// on its latents conditioned on a frozen CLIP's text tower; the second run folder becomes a model folder that
/// <c>generate</c> opens. Flags override the config's fields; Ctrl-C stops after the current step and saves.
/// </summary>
public static class TrainDiffusionCommand
{
    public static Command Create()
    {
        var config = new Option<string?>("--config") { Description = "A JSON diffusion training config (snake_case fields, one per stage); flags override it." };
        var stage = new Option<DiffusionStage?>("--stage") { Description = "autoencoder (stage 1) or unet (stage 2); default: the config's." };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --output from its newest intact checkpoint." };
        var output = new Option<string?>("--output", "-o") { Description = "Run folder (stage 2's becomes a latent diffusion model folder)." };
        var clip = new Option<string?>("--clip") { Description = "Stage 2: the CLIP whose text tower conditions the U-Net (a model folder or checkpoint), frozen." };
        var autoencoder = new Option<string?>("--autoencoder") { Description = "Stage 2: the stage-1 run folder (its autoencoder.safetensors), frozen." };
        var vocab = new Option<string?>("--vocab") { Description = "Vocabulary for a --clip weight file that carries none." };
        var data = new Option<string?>("--data") { Description = "Image–caption pairs: synthetic:shapes:train, a .csv/.tsv, .jsonl, a folder, .tar shards, emoji:..." };
        var steps = new Option<long?>("--steps") { Description = "Optimizer steps." };
        var batch = new Option<int?>("--batch-size", "-b") { Description = "Images per step." };
        var lr = new Option<double?>("--lr") { Description = "Peak learning rate." };
        var seed = new Option<int?>("--seed") { Description = "Seed of the initialisation, data order and every step's noise." };
        var saveEvery = new Option<int?>("--save-every") { Description = "Checkpoint every N steps (0 = end and Ctrl-C only)." };
        var workers = new Option<int?>("--workers") { Description = "Image decoding threads." };
        var threads = new Option<int?>("--threads") { Description = "libtorch threads." };
        var cmd = new Command("train-diffusion", "Train a latent diffusion model on image–caption pairs: the KL autoencoder, then the text-conditioned U-Net.");
        foreach (var o in new Option[] { config, stage, resume, output, clip, autoencoder, vocab, data, steps, batch, lr, seed, saveEvery, workers, threads }) cmd.Options.Add(o);
        cmd.SetAction(parse => CliErrors.Guard(() =>
        {
            bool resuming = parse.GetValue(resume);
            var saved = Path.Combine(parse.GetValue(output) ?? new DiffusionTrainingConfig().Output, DiffusionTrainer.ConfigFileName);
            var c = parse.GetValue(config) is { } file ? DiffusionTrainingConfig.Load(file)
                : resuming && File.Exists(saved) ? DiffusionTrainingConfig.Load(saved) : new DiffusionTrainingConfig();
            c = c with
            {
                Stage = parse.GetValue(stage) ?? c.Stage, Resume = resuming, Output = parse.GetValue(output) ?? c.Output,
                ClipModel = parse.GetValue(clip) ?? c.ClipModel, Autoencoder = parse.GetValue(autoencoder) ?? c.Autoencoder, ClipVocab = parse.GetValue(vocab) ?? c.ClipVocab,
                Data = parse.GetValue(data) ?? c.Data, Steps = parse.GetValue(steps) ?? c.Steps, BatchSize = parse.GetValue(batch) ?? c.BatchSize,
                LearningRate = parse.GetValue(lr) ?? c.LearningRate, Seed = parse.GetValue(seed) ?? c.Seed, SaveEvery = parse.GetValue(saveEvery) ?? c.SaveEvery,
                Workers = parse.GetValue(workers) ?? c.Workers, Threads = parse.GetValue(threads) ?? c.Threads,
            };
            return GenerativeTrainingConsole.Run("train-diffusion", (progress, ct) => DiffusionTrainer.Run(c, progress, ct));
        }));
        return cmd;
    }
}
