using SharpClip.Modeling;
using SharpClip.Training;
using static TorchSharp.torch;

namespace SharpClip.Generation.Training;

/// <summary>Copies a checkpoint's weights into a module through <see cref="StateDictLoader"/> (every key and shape checked, errors name the file).</summary>
internal static class CheckpointWeights
{
    public static void Restore(nn.Module module, TrainingCheckpoint checkpoint)
    {
        var source = Path.Combine(checkpoint.Directory, TrainingCheckpoint.ModelFile);
        var entries = checkpoint.Model.ToDictionary(kv => kv.Key, kv => new StateDictLoader.Entry(kv.Value.shape, kv.Value.dtype));
        StateDictLoader.Load(module, entries, key => checkpoint.Model[key].alias(), source);
    }
}
