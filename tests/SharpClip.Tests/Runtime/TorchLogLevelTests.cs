using SharpClip.Runtime;

namespace SharpClip.Tests.Runtime;

public class TorchLogLevelTests
{
    [Fact]
    public void LibtorchLogsErrorsOnlyUnlessTheUserChose()
    {
        // The module initializer ran when this assembly first used SharpClip; libtorch's c10 must hold the level.
        if (!OperatingSystem.IsLinux()) return;
        var chosen = Environment.GetEnvironmentVariable(TorchLogLevel.Variable);
        int expected = (string.IsNullOrEmpty(chosen) ? TorchLogLevel.Default : chosen).ToUpperInvariant() switch
        {
            "INFO" or "0" => 0, "WARNING" or "1" => 1, "ERROR" or "2" => 2, _ => 3,
        };
        Assert.Equal(expected, TorchLogLevel.Current);
    }
}
