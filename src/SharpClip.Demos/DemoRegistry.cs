using SharpClip.Data;
using SharpClip.Demos.Emoji;
using SharpClip.Demos.Synthetic;
using SharpClip.Demos.Toy;
using SharpClip.Evaluation;
using SharpClip.Search;

namespace SharpClip.Demos;

/// <summary>
/// Plugs the demos into the core's registries: the <c>synthetic:</c> and <c>emoji:</c> data specs
/// (<see cref="ImageTextSources"/>, <see cref="LabeledDatasets"/>) and the toy colour encoder
/// (<see cref="EncoderResolver"/>). Registration is explicit, by whoever offers the demos (the CLI, tests, benchmarks),
/// so a program that uses only the library gets only the library; calling it again does nothing.
/// </summary>
public static class DemoRegistry
{
    static readonly Lazy<bool> Done = new(() =>
    {
        ImageTextSources.Register(SyntheticShapesSpec.Scheme, (spec, options) => SyntheticShapesSpec.Open(spec, options), "synthetic:shapes");
        ImageTextSources.Register(EmojiSpec.Scheme, EmojiSpec.Open);
        LabeledDatasets.Register(SyntheticShapesSpec.Scheme, SyntheticShapesSpec.OpenLabeled, "synthetic:shapes[:split][#task]");
        EncoderResolver.Register(m => m == ToyColorEncoder.ModelName ? new ToyColorEncoder() : null,
            ToyColorEncoder.ModelName, "a toy colour encoder for tests and demos");
        return true;
    });

    /// <summary>Registers every demo data set and the toy encoder (once per process).</summary>
    public static void RegisterAll() => _ = Done.Value;
}
