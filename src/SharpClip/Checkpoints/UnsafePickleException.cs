namespace SharpClip.Checkpoints;

/// <summary>
/// A pickle asked for something outside the allow-list of tensor reconstructors (e.g. <c>os.system</c>,
/// <c>builtins.eval</c>, an arbitrary class). Python would run such a reference while unpickling; SharpClip never
/// executes anything and refuses the file instead, naming the file and the offending global. (An IOException, like
/// the InvalidDataException every other bad-file error is, since InvalidDataException is sealed.)
/// </summary>
public sealed class UnsafePickleException : IOException
{
    /// <summary>The refused global as <c>module.name</c>.</summary>
    public string Global { get; }

    public UnsafePickleException(string source, string global, string why)
        : base($"{source}: refusing to unpickle '{global}': {why}. SharpClip reads only tensors, containers and numbers from " +
               "pickled checkpoints and never runs code; convert the checkpoint to safetensors with PyTorch if you trust it.")
    {
        Global = global;
    }
}
