using SharpClip.Runtime;

namespace SharpClip.Tests.Runtime;

public class OpenMpWaitPolicyTests
{
    [Fact]
    public void LibtorchSeesPassiveWaitingUnlessTheUserChose()
    {
        // The module initializer ran when this assembly first used SharpClip; native code (libgomp) must see its value.
        var chosen = Environment.GetEnvironmentVariable(OpenMpWaitPolicy.Variable);
        if (!OperatingSystem.IsLinux()) return;
        Assert.Equal(string.IsNullOrEmpty(chosen) ? "PASSIVE" : chosen, OpenMpWaitPolicy.Current);
    }
}
