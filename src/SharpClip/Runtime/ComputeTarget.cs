using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Runtime;

/// <summary>The number format a model computes in.</summary>
public enum Precision
{
    /// <summary>CPU: bf16 where the CPU has bf16 instructions, else fp32. CUDA: fp16, as the reference runs on GPUs.</summary>
    Auto,
    Float32,
    BFloat16,
    /// <summary>Only sensible on CUDA: CPU fp16 matrix products are thousands of times slower than fp32.</summary>
    Float16,
    /// <summary>
    /// Inference only, on the CPU, on the ONNX engine: the model keeps float32 weights and the engine writes its linear
    /// layers as int8 (weights per output channel, activations per call). Several times faster where the CPU has int8
    /// dot products (VNNI), at a small, measured accuracy cost; never chosen by Auto.
    /// </summary>
    Int8,
}

/// <summary>
/// Where and in which dtype a model runs, with the reason (printed by the CLI and benchmarks so a surprising choice
/// explains itself). The CUDA path needs TorchSharp's CUDA package in place of <c>TorchSharp-cpu</c>; nothing else
/// changes.
/// </summary>
public sealed record ComputeTarget(Device Device, ScalarType DType, string Reason)
{
    /// <summary>
    /// Chooses a device and dtype. <paramref name="device"/>: "auto" (CUDA when available, else CPU), "cpu", "cuda" or
    /// "cuda:N". <paramref name="precision"/>: see <see cref="Precision"/>; a forced choice is honoured as given.
    /// </summary>
    /// <exception cref="ArgumentException">an unknown device string, or CUDA asked for but not available.</exception>
    public static ComputeTarget Select(string device = "auto", Precision precision = Precision.Auto, CpuFeatures? cpu = null)
    {
        cpu ??= CpuFeatures.Current;
        var dev = ParseDevice(device);
        if (precision == Precision.Int8)
        {
            if (dev.type != DeviceType.CPU)
                throw new ArgumentException($"precision int8 runs on the CPU (ONNX Runtime's int8 kernels); device '{device}' is {dev.type}");
            return new ComputeTarget(dev, ScalarType.Float32, "Int8 requested: float32 weights, int8 linear layers on the ONNX engine");
        }
        if (precision != Precision.Auto)
            return new ComputeTarget(dev, ToScalarType(precision), $"{precision} requested");
        if (dev.type == DeviceType.CUDA)
            return new ComputeTarget(dev, ScalarType.Float16, "CUDA: float16, as the reference runs on GPUs");
        return cpu.HasFastBf16
            ? new ComputeTarget(dev, ScalarType.BFloat16, $"CPU has {(cpu.HasAmxBf16 ? "amx_bf16" : "avx512_bf16")}: bfloat16")
            : new ComputeTarget(dev, ScalarType.Float32, "CPU has no bf16 instructions (avx512_bf16/amx_bf16): float32");
    }

    /// <summary>True when libtorch can see a CUDA device (false with the CPU-only package).</summary>
    public static bool CudaAvailable()
    {
        try { return torch.cuda.is_available(); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or NotSupportedException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>Sets libtorch's intra-op threads (default: one per logical core); null leaves it unchanged.</summary>
    public static void ConfigureThreads(int? threads)
    {
        if (threads is null) return;
        if (threads <= 0) throw new ArgumentOutOfRangeException(nameof(threads), threads, "threads must be positive");
        torch.set_num_threads(threads.Value);
    }

    /// <summary>
    /// A precision by the names flags and configs use, case-insensitive: fp32 / float32, bf16 / bfloat16, fp16 / float16,
    /// int8, auto. Whether a job can run in it is the job's business (training refuses fp16 on the CPU and int8, with the
    /// reason; int8 inference needs the ONNX engine).
    /// </summary>
    /// <param name="value">The name.</param>
    /// <param name="setting">What the value was given as, named in the error (e.g. <c>--precision</c>).</param>
    /// <exception cref="ArgumentException">an unknown name; the message names the setting and the value.</exception>
    public static Precision ParsePrecision(string value, string setting = "precision") => value.Trim().ToLowerInvariant() switch
    {
        "fp32" or "float32" => Precision.Float32,
        "bf16" or "bfloat16" => Precision.BFloat16,
        "fp16" or "float16" => Precision.Float16,
        "int8" => Precision.Int8,
        "auto" => Precision.Auto,
        _ => throw new ArgumentException($"{setting} {value}: expected fp32, bf16, fp16, int8 or auto"),
    };

    public static ScalarType ToScalarType(Precision precision) => precision switch
    {
        Precision.Float32 => ScalarType.Float32,
        Precision.BFloat16 => ScalarType.BFloat16,
        Precision.Float16 => ScalarType.Float16,
        Precision.Int8 => throw new ArgumentException("int8 is not a dtype the model computes in: the model stays float32 and the ONNX engine quantizes it", nameof(precision)),
        _ => throw new ArgumentException("Auto has no fixed dtype; call Select", nameof(precision)),
    };

    static Device ParseDevice(string device)
    {
        var d = device.Trim().ToLowerInvariant();
        if (d is "auto") return CudaAvailable() ? torch.CUDA : torch.CPU;
        if (d is "cpu") return torch.CPU;
        if (d == "cuda" || d.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!CudaAvailable())
                throw new ArgumentException($"device '{device}': CUDA is not available (this build references TorchSharp-cpu, or no GPU is visible)");
            int index = 0;
            if (d.Length > 5 && !int.TryParse(d[5..], out index)) throw new ArgumentException($"device '{device}': bad CUDA index");
            return new Device(DeviceType.CUDA, index);
        }
        throw new ArgumentException($"device '{device}': expected auto, cpu, cuda or cuda:N");
    }

    public override string ToString() => $"{Device.type.ToString().ToLowerInvariant()}{(Device.index >= 0 ? ":" + Device.index : "")} {DType} ({Reason})";
}
