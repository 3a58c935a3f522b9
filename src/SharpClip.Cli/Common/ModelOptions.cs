using System.CommandLine;
using SharpClip.Pipelines;
using SharpClip.Runtime;

namespace SharpClip.Cli;

/// <summary>The options every model-using verb shares: --model, --vocab, --device, --precision, --calibration, --batch-size, --engine.</summary>
public sealed class ModelOptions
{
    public Option<string> Model { get; } = new("--model", "-m")
    {
        Description = "A SharpClip model folder, a Hugging Face or open_clip CLIP folder, or a weight file (.safetensors, .pt, .bin; architecture inferred).",
        Required = true,
    };
    public Option<string?> Vocab { get; } = new("--vocab") { Description = "Tokenizer vocabulary, for weight files that carry none (e.g. bpe_simple_vocab_16e6.txt.gz)." };
    public Option<string> Device { get; } = new("--device") { Description = "auto, cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" };
    public Option<string> Precision { get; } = new("--precision") { Description = "fp32 (the reference's numbers), bf16 (fast only on CPUs with bf16 instructions), int8 (onnx engine only: int8 linear layers, 2-4x faster on CPUs with VNNI, features within about 0.999 cosine of fp32) or auto (never int8).", DefaultValueFactory = _ => "fp32" };
    public Option<string?> Calibration { get; } = new("--calibration")
    {
        Description = "With --precision int8 on a ResNet model: a folder of images like the ones you will encode (a few dozen); their activation ranges make the convolutions int8 too (without it they stay fp32). Values outside the ranges are clipped.",
    };
    public Option<int> BatchSize { get; } = new("--batch-size") { Description = "Images or texts per forward pass.", DefaultValueFactory = _ => 32 };
    public Option<string> Engine { get; } = new("--engine")
    {
        Description = "torch (libtorch), onnx (ONNX Runtime running the graph SharpClip writes from the weights; fp32 on the CPU), managed (SharpClip's own AVX-512 or AVX2 kernels; fp32 on the CPU) or auto (managed where it runs the model faster — with AVX-512, or a ResNet with AVX2 —, else onnx, else torch).",
        DefaultValueFactory = _ => ClipPipelineOptions.DefaultEngineName,
    };

    public void AddTo(Command command)
    {
        command.Options.Add(Model);
        command.Options.Add(Vocab);
        command.Options.Add(Device);
        command.Options.Add(Precision);
        command.Options.Add(Calibration);
        command.Options.Add(BatchSize);
        command.Options.Add(Engine);
    }

    public ClipPipeline Load(ParseResult parse) => ClipPipeline.Load(parse.GetValue(Model)!, new ClipPipelineOptions
    {
        VocabPath = parse.GetValue(Vocab),
        Device = parse.GetValue(Device)!,
        Precision = ComputeTarget.ParsePrecision(parse.GetValue(Precision)!, "--precision"),
        Int8CalibrationFolder = parse.GetValue(Calibration),
        BatchSize = parse.GetValue(BatchSize),
        Engine = ClipPipelineOptions.ParseEngine(parse.GetValue(Engine)!, "--engine"),
    });
}
