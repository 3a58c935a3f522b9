using SharpClip.Modeling;
using SharpClip.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Tests.Modeling;

public class RuntimeTests
{
    const string CpuInfo = "processor\t: 0\nmodel name\t: Test CPU\nflags\t\t: fpu sse avx2 fma avx512f {0}\n\nprocessor\t: 1\nmodel name\t: Test CPU\nflags\t\t: fpu\n";

    static CpuFeatures Cpu(string extraFlags) => CpuFeatures.Parse(string.Format(CpuInfo, extraFlags), 2);

    [Fact]
    public void ParsesCpuInfo()
    {
        var cpu = Cpu("avx512_bf16");
        Assert.Equal("Test CPU", cpu.ModelName);
        Assert.True(cpu.HasAvx512Bf16);
        Assert.False(cpu.HasAmxBf16);
        Assert.Contains("avx2", cpu.RelevantFlags);
    }

    [Fact]
    public void ChoosesBf16OnlyWithHardwareSupportUnlessForced()
    {
        Assert.Equal(ScalarType.Float32, ComputeTarget.Select("cpu", Precision.Auto, Cpu("")).DType);
        Assert.Equal(ScalarType.BFloat16, ComputeTarget.Select("cpu", Precision.Auto, Cpu("avx512_bf16")).DType);
        Assert.Equal(ScalarType.BFloat16, ComputeTarget.Select("cpu", Precision.Auto, Cpu("amx_bf16 amx_tile")).DType);
        Assert.Equal(ScalarType.Float32, ComputeTarget.Select("cpu", Precision.Float32, Cpu("amx_bf16")).DType);
        Assert.Equal(ScalarType.BFloat16, ComputeTarget.Select("cpu", Precision.BFloat16, Cpu("")).DType);
        Assert.Equal(DeviceType.CPU, ComputeTarget.Select("cpu", Precision.Auto, Cpu("")).Device.type);
    }

    [Fact]
    public void RefusesUnknownOrUnavailableDevices()
    {
        Assert.Throws<ArgumentException>(() => ComputeTarget.Select("tpu"));
        if (!ComputeTarget.CudaAvailable())
        {
            var e = Assert.Throws<ArgumentException>(() => ComputeTarget.Select("cuda:0"));
            Assert.Contains("CUDA is not available", e.Message);
            Assert.Equal(DeviceType.CPU, ComputeTarget.Select("auto", Precision.Float32).Device.type);
        }
    }

    [Fact]
    public void ABf16ModelGivesFloat32EmbeddingsCloseToFp32()
    {
        // Tiny shapes: fast even where bf16 is emulated.
        using var scope = torch.NewDisposeScope();
        using var model = new ClipModel(TinyConfigs.Vit);
        model.eval();
        var pixels = torch.randn(2, 3, 16, 16);
        var ids = torch.tensor(new long[,] { { 298, 4, 299, 0 }, { 298, 7, 8, 299 } });
        var image32 = model.EmbedImages(pixels);
        var text32 = model.EmbedTexts(ids);
        model.To(CPU, ScalarType.BFloat16);
        Assert.Equal(ScalarType.BFloat16, model.DType);
        var image16 = model.EmbedImages(pixels);
        var text16 = model.EmbedTexts(ids);
        Assert.Equal(ScalarType.Float32, image16.dtype);
        Assert.True((image16 - image32).abs().max().item<float>() < 0.05f);
        Assert.True((text16 - text32).abs().max().item<float>() < 0.05f);
    }

    [Fact]
    public void InferenceReleasesItsIntermediateTensors()
    {
        using var model = new ClipModel(TinyConfigs.ResNet);
        model.eval();
        using var pixels = torch.randn(1, 3, 64, 64);
        model.EmbedImages(pixels).Dispose(); // warm-up
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 3; i++) model.EmbedImages(pixels).Dispose();
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }
}
