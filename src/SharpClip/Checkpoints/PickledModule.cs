namespace SharpClip.Checkpoints;

/// <summary>
/// A pickled <c>torch.nn.Module</c> object (<c>torch.save(model)</c> rather than <c>torch.save(model.state_dict())</c>),
/// as data: the class's name and the instance attributes the pickle set, never the class's code. Its weights are
/// reached through <c>_parameters</c>, <c>_buffers</c> and <c>_modules</c> (see <see cref="PickledStateDict"/>).
/// </summary>
/// <remarks>
/// Only classes the caller names in a <see cref="PickledModuleClasses"/> allow-list become these; a pickle naming any
/// other class is refused like every unknown global. The released openai/DALL-E dVAE (<c>encoder.pkl</c>,
/// <c>decoder.pkl</c>) is the case this exists for.
/// </remarks>
internal sealed class PickledModule(string className)
{
    /// <summary>The module's class as <c>module.name</c>, e.g. <c>dall_e.encoder.Encoder</c>.</summary>
    public string ClassName { get; } = className;

    /// <summary>The instance <c>__dict__</c> as pickled: hyperparameters (<c>n_hid</c>, ...), <c>training</c>, and the
    /// <c>_parameters</c> / <c>_buffers</c> / <c>_modules</c> OrderedDicts.</summary>
    public Dictionary<string, object?> Attributes { get; } = new(StringComparer.Ordinal);

    public override string ToString() => ClassName;
}

/// <summary>
/// The module classes (as <c>module.name</c>) a pickle may instantiate as <see cref="PickledModule"/> data. Protocol 2
/// pickles a module as NEWOBJ of its class with no arguments, then BUILD with its <c>__dict__</c>; that is the only
/// pattern accepted, and only for these names: no <c>torch.nn</c> class is allowed by default.
/// </summary>
internal sealed class PickledModuleClasses
{
    readonly HashSet<string> _names;

    public PickledModuleClasses(IEnumerable<string> names) => _names = new HashSet<string>(names, StringComparer.Ordinal);

    public bool Contains(string fullName) => _names.Contains(fullName);

    public IReadOnlyCollection<string> Names => _names;
}
