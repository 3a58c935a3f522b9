using SharpClip.Checkpoints;
using SharpClip.Files;
using SharpClip.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Generation.Dalle.Dvae;

/// <summary>
/// Loads one half of the dVAE from any of the forms it comes in: a safetensors state dict, openai/DALL-E's released
/// <c>encoder.pkl</c> / <c>decoder.pkl</c> (<c>torch.save</c> of the whole module object), or a pickled state dict.
/// The configuration is read off the weights; every key, shape and dtype is checked before anything is copied, and
/// any problem is one <see cref="InvalidDataException"/> naming the file and the key.
/// </summary>
/// <remarks>
/// The module pickles are read by SharpClip's own pickle reader, which never executes anything: the package's
/// classes become inert data (<c>PickledModule</c>: class name and attributes) and only the classes listed in
/// <see cref="ModuleClasses"/> — exactly those the released files contain — are accepted. Any other global
/// (<c>os.system</c>, <c>builtins.eval</c>, another module class) is refused with <see cref="UnsafePickleException"/>.
/// </remarks>
public static class DvaeCheckpoint
{
    internal const string EncoderClass = "dall_e.encoder.Encoder";
    internal const string DecoderClass = "dall_e.decoder.Decoder";

    /// <summary>The module classes of openai/DALL-E's pickled encoder and decoder, and nothing else.</summary>
    internal static readonly PickledModuleClasses ModuleClasses = new([
        EncoderClass, "dall_e.encoder.EncoderBlock", DecoderClass, "dall_e.decoder.DecoderBlock", "dall_e.utils.Conv2d",
        "torch.nn.modules.container.Sequential", "torch.nn.modules.activation.ReLU", "torch.nn.modules.linear.Identity",
        "torch.nn.modules.pooling.MaxPool2d", "torch.nn.modules.upsampling.Upsample",
    ]);

    /// <summary>An encoder from <paramref name="path"/>, in eval mode, on the CPU.</summary>
    public static Encoder LoadEncoder(string path)
    {
        using var weights = Weights.Read(path, EncoderClass, "the dVAE encoder");
        var config = DvaeEncoderConfig.Infer(weights.Shapes, path);
        weights.RequireDeclared(("n_hid", config.HiddenWidth), ("n_blk_per_group", config.BlocksPerGroup),
            ("input_channels", config.InputChannels), ("vocab_size", config.VocabSize));
        return Fill(UninitializedWeights.Build(() => new Encoder(config)), weights, path);
    }

    /// <summary>A decoder from <paramref name="path"/>, in eval mode, on the CPU.</summary>
    public static Decoder LoadDecoder(string path)
    {
        using var weights = Weights.Read(path, DecoderClass, "the dVAE decoder");
        var config = DvaeDecoderConfig.Infer(weights.Shapes, path);
        weights.RequireDeclared(("n_init", config.InitialWidth), ("n_hid", config.HiddenWidth), ("n_blk_per_group", config.BlocksPerGroup),
            ("output_channels", config.OutputChannels), ("vocab_size", config.VocabSize));
        return Fill(UninitializedWeights.Build(() => new Decoder(config)), weights, path);
    }

    static T Fill<T>(T model, Weights weights, string path) where T : nn.Module =>
        StateDictLoader.LoadFresh(model, weights.Tensors.ToDictionary(kv => kv.Key, kv => new StateDictLoader.Entry(kv.Value.shape, kv.Value.dtype)),
            key => weights.Tensors[key].alias(), path);

    /// <summary>The tensors of one file under their state-dict names, and the pickled module's attributes if it was one.</summary>
    sealed class Weights : IDisposable
    {
        readonly string _path;
        readonly PickledModule? _module;

        Weights(string path, Dictionary<string, Tensor> tensors, PickledModule? module)
        {
            _path = path;
            Tensors = tensors;
            _module = module;
            Shapes = tensors.ToDictionary(kv => kv.Key, kv => kv.Value.shape, StringComparer.Ordinal);
        }

        public Dictionary<string, Tensor> Tensors { get; }
        public Dictionary<string, long[]> Shapes { get; }

        public static Weights Read(string path, string expectedClass, string what)
        {
            if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file ({what}: .safetensors or .pkl)", path);
            if (!TorchArchive.LooksLikeTorchFile(path))
            {
                using var file = SafeTensorsFile.Open(path);
                var read = new Dictionary<string, Tensor>(StringComparer.Ordinal);
                try
                {
                    foreach (var name in file.Names) read[name] = file.ReadTensor(name);
                }
                catch
                {
                    foreach (var t in read.Values) t.Dispose();
                    throw;
                }
                return new Weights(path, read, null);
            }

            using var archive = TorchArchive.Open(path, ModuleClasses);
            var module = archive.Root as PickledModule;
            if (module is not null && module.ClassName != expectedClass)
                throw new InvalidDataException($"{path}: holds a pickled {module.ClassName}, not {what} ({expectedClass})");
            var found = PickledStateDict.Find(archive);
            return new Weights(path, archive.Materialize(found), module);
        }

        /// <summary>A module pickle also states its hyperparameters; they must agree with the weights' shapes.</summary>
        public void RequireDeclared(params (string Attribute, int FromWeights)[] values)
        {
            if (_module is null) return;
            foreach (var (attribute, fromWeights) in values)
                if (_module.Attributes.TryGetValue(attribute, out var declared) && declared is long l && l != fromWeights)
                    throw new InvalidDataException($"{_path}: the pickled {_module.ClassName} declares {attribute} = {l}, but its weights have {fromWeights}");
        }

        public void Dispose()
        {
            foreach (var t in Tensors.Values) t.Dispose();
        }
    }
}
