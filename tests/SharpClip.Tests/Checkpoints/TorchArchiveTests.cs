using SharpClip.Checkpoints;
using TorchSharp;
using static SharpClip.Tests.Checkpoints.CheckpointTestData;
using static TorchSharp.torch;

namespace SharpClip.Tests.Checkpoints;

public class TorchArchiveTests
{
    static Dictionary<string, Tensor> ReadRaw(string path, out string format)
    {
        using var archive = TorchArchive.Open(path);
        format = archive.Format;
        var found = PickledStateDict.Find(archive);
        return archive.Materialize(found);
    }

    [Theory]
    [InlineData("mixed_state_dict.pt", "pytorch-zip")]
    [InlineData("mixed_state_dict.legacy.pt", "pytorch-legacy")]
    [InlineData("torchscript_traced.pt", "torchscript")]
    [InlineData("torchscript_scripted.pt", "torchscript")]
    public void TensorsMatchWhatPyTorchSaved(string file, string format)
    {
        var expected = ReadSafeTensors(PathOf(Path.GetFileNameWithoutExtension(file).Replace(".legacy", "") + ".expected.safetensors"));
        var actual = ReadRaw(PathOf(file), out var actualFormat);
        try
        {
            Assert.Equal(format, actualFormat);
            AssertBitIdentical(expected, actual);
        }
        finally
        {
            DisposeAll(expected.Values);
            DisposeAll(actual.Values);
        }
    }

    [Fact]
    public void ScriptedModulesPlainTensorAttributesAreNotState()
    {
        // The scripted module keeps `mask` as an attribute; its code/ declares only fc.weight, fc.bias and the buffer.
        using var archive = TorchArchive.Open(PathOf("torchscript_scripted.pt"));
        var root = Assert.IsType<TorchScriptObject>(archive.Root);
        Assert.IsType<TorchTensorRef>(root.Attributes["mask"]);
        var names = PickledStateDict.Find(archive).Select(t => t.Key).ToList();
        Assert.DoesNotContain("mask", names);
        Assert.Contains("steps", names);
    }

    [Fact]
    public void OpenClipTrainingCheckpointIsUnwrappedAndRenamed()
    {
        var path = PathOf("open_clip_wrapped.pt");
        using var ckpt = CheckpointLoader.Read(path, new CheckpointReadOptions { Validate = false });
        var expected = ReadSafeTensors(PathOf("open_clip_wrapped.expected.safetensors"));
        try
        {
            AssertBitIdentical(expected, ckpt.StateDict);
            Assert.Equal("pytorch-zip", ckpt.SourceFormat);
            Assert.Contains("module.text.attn_mask", ckpt.DroppedKeys);
            Assert.Null(ckpt.Config);
        }
        finally { DisposeAll(expected.Values); }
    }

    [Fact]
    public void IncompleteModelIsRejectedNamingFileAndKey()
    {
        var path = PathOf("open_clip_wrapped.pt");
        long live = LiveTensors;
        var e = Assert.Throws<InvalidDataException>(() => CheckpointLoader.Read(path).Dispose());
        Assert.Contains(path, e.Message);
        Assert.Contains("'visual.conv1.weight'", e.Message);
        Assert.Equal(live, LiveTensors);
    }

    [Fact]
    public void JitArchiveBuffersThatAreNotWeightsAreDropped()
    {
        // OpenAI's JIT archives carry input_resolution/context_length/vocab_size buffers that build_model deletes.
        using var ckpt = CheckpointLoader.Read(PathOf("torchscript_traced.pt"), new CheckpointReadOptions { Validate = false });
        Assert.Equal("torchscript", ckpt.SourceFormat);
        Assert.Contains("input_resolution", ckpt.DroppedKeys);
        Assert.DoesNotContain("input_resolution", ckpt.StateDict.Keys);
        Assert.Contains("blocks.1.bn.num_batches_tracked", ckpt.StateDict.Keys);
    }

    [Fact]
    public void StorageShorterThanItsTensorIsRejectedNamingTheTensor()
    {
        var path = PathOf("lying_storage.pt");
        long live = LiveTensors;
        var e = Assert.Throws<InvalidDataException>(() => CheckpointLoader.Read(path, new CheckpointReadOptions { Validate = false }).Dispose());
        Assert.Contains(path, e.Message);
        Assert.Contains("'w'", e.Message);
        Assert.Equal(live, LiveTensors);
    }

    [Theory]
    [InlineData("mixed_state_dict.pt", 100)]
    [InlineData("mixed_state_dict.pt", 2000)]
    [InlineData("mixed_state_dict.legacy.pt", 100)]
    [InlineData("mixed_state_dict.legacy.pt", 2000)]
    public void TruncatedFilesAreRejectedNamingTheFile(string file, int cut)
    {
        using var tmp = new TempDir();
        var path = tmp.File(file);
        var bytes = File.ReadAllBytes(PathOf(file));
        File.WriteAllBytes(path, bytes[..^cut]);
        long live = LiveTensors;
        var e = Assert.Throws<InvalidDataException>(() => CheckpointLoader.Read(path, new CheckpointReadOptions { Validate = false }).Dispose());
        Assert.Contains(path, e.Message);
        Assert.Equal(live, LiveTensors);
    }

    [Fact]
    public void SharedStorageIsCopiedPerTensor()
    {
        var tensors = ReadRaw(PathOf("mixed_state_dict.pt"), out _);
        try
        {
            // shared_b views elements 4..7 of shared_a's storage; writing one must not change the other.
            var before = tensors["shared_b"].clone();
            tensors["shared_a"].fill_(-1);
            Assert.True(before.eq(tensors["shared_b"]).all().item<bool>());
            before.Dispose();
        }
        finally { DisposeAll(tensors.Values); }
    }

    [Fact]
    public void CancellationStopsTheLoadAndFreesEverything()
    {
        long live = LiveTensors;
        Assert.ThrowsAny<OperationCanceledException>(() =>
            CheckpointLoader.Read(PathOf("mixed_state_dict.pt"), new CheckpointReadOptions { Validate = false }, new CancellationToken(true)).Dispose());
        Assert.Equal(live, LiveTensors);
    }
}
