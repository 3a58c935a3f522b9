using SharpClip.Tests.Infrastructure;
using SharpClip.Text;

namespace SharpClip.Tests.Text;

/// <summary>One tokenizer over OpenAI's vocabulary for all tests (loading it is the slow part).</summary>
static class SharedTokenizer
{
    static readonly Lazy<ClipTokenizer> _instance = new(() => ClipTokenizer.Load(Fixtures.VocabPath));
    public static ClipTokenizer Instance => _instance.Value;
}
