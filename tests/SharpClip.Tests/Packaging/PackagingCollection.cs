namespace SharpClip.Tests.Packaging;

/// <summary>
/// The packaging test classes share one <see cref="PackedPackages"/>: the packs, the tool install and the model folder
/// take minutes, so they are made once for every class, and the classes run one after another (each builds an app).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PackagingCollection : ICollectionFixture<PackedPackages>
{
    public const string Name = "Packaging";
}
