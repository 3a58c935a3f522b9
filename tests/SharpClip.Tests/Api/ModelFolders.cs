using SharpClip.Checkpoints;
using SharpClip.Tests.Infrastructure;
using SharpClip.Tests.Modeling;
using SharpClip.Vision;

namespace SharpClip.Tests.Api;

/// <summary>
/// The fixture models as SharpClip model folders with their vocabulary inside, made once per test class: what a user's
/// <c>Clip.Load(args[0])</c> is given (a bare weight file would also need a vocabulary option).
/// </summary>
public sealed class ModelFolders : IDisposable
{
    readonly TempDir _dir = new();
    readonly Dictionary<string, string> _made = [];
    readonly object _gate = new();

    public static IEnumerable<object[]> Ids => Fixtures.Ids("models");

    /// <summary>The folder for manifest model <paramref name="id"/>.</summary>
    public string For(string id)
    {
        lock (_gate)
        {
            if (_made.TryGetValue(id, out var made)) return made;
            using var reference = new ReferenceModel(id);
            using var source = CheckpointLoader.Read(reference.WeightsPath);
            var folder = Path.Combine(_dir.Path, id);
            ClipModelFolder.Write(folder, source.ResolvedConfig, source.StateDict, Fixtures.VocabPath,
                PreprocessingInfo.ForResolution(source.ResolvedConfig.ImageResolution));
            return _made[id] = folder;
        }
    }

    public void Dispose() => _dir.Dispose();
}
