using SharpClip.Text;
using static TorchSharp.torch;

namespace SharpClip.Generation.Diffusion.Conditioning;

/// <summary>
/// How a diffusion model's prompts become token ids: start, BPE ids (truncated to fit), end, then end-of-text padding
/// (SD v1's Hugging Face tokenizer pads with the end-of-text id, not 0). The padding changes the per-token states the
/// U-Net attends to, so training and sampling must tokenise alike: both call this.
/// </summary>
public static class PromptTokens
{
    /// <returns>One row of <paramref name="contextLength"/> ids per prompt.</returns>
    public static long[][] Arrays(ClipTokenizer tokenizer, IReadOnlyList<string> prompts, int contextLength) =>
        tokenizer.TokenizeToArrays(prompts, contextLength, truncate: true, padId: tokenizer.EndOfText);

    /// <summary>The ids as a tensor; <paramref name="padId"/> is null for end-of-text padding (SD 2.x's OpenCLIP pads with 0).</summary>
    /// <returns>[prompts, context] int64</returns>
    public static Tensor Tensor(ClipTokenizer tokenizer, IReadOnlyList<string> prompts, int contextLength, int? padId = null) =>
        tokenizer.Tokenize(prompts, contextLength, truncate: true, padId: padId ?? tokenizer.EndOfText);
}
