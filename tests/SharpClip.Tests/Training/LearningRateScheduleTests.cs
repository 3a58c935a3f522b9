using SharpClip.Training;

namespace SharpClip.Tests.Training;

public class LearningRateScheduleTests
{
    [Fact]
    public void WarmupRisesLinearlyToThePeak()
    {
        Assert.Equal(0.1, LearningRateSchedule.WarmupCosine(0, 100, 10, 1.0), 12);
        Assert.Equal(0.5, LearningRateSchedule.WarmupCosine(4, 100, 10, 1.0), 12);
        Assert.Equal(1.0, LearningRateSchedule.WarmupCosine(9, 100, 10, 1.0), 12);
    }

    [Fact]
    public void CosineDecaysFromThePeakToTheFloor()
    {
        // 10 warm-up steps, then 90 of decay: the peak at step 10, the midpoint at step 55, the floor at 100.
        Assert.Equal(1.0, LearningRateSchedule.WarmupCosine(10, 100, 10, 1.0, 0.1), 12);
        Assert.Equal(0.55, LearningRateSchedule.WarmupCosine(55, 100, 10, 1.0, 0.1), 12);
        Assert.Equal(0.1 + 0.45 * (1 + Math.Cos(Math.PI * 89 / 90)), LearningRateSchedule.WarmupCosine(99, 100, 10, 1.0, 0.1), 12);
        Assert.Equal(0.1, LearningRateSchedule.WarmupCosine(100, 100, 10, 1.0, 0.1), 12);
        Assert.Equal(0.1, LearningRateSchedule.WarmupCosine(500, 100, 10, 1.0, 0.1), 12);
        double previous = double.MaxValue;
        for (long s = 10; s <= 100; s++)
        {
            double lr = LearningRateSchedule.WarmupCosine(s, 100, 10, 1.0, 0.1);
            Assert.True(lr <= previous, $"step {s}: {lr} > {previous}");
            previous = lr;
        }
    }

    [Fact]
    public void NoWarmupStartsAtThePeakAndAllWarmupNeverDecays()
    {
        Assert.Equal(3e-4, LearningRateSchedule.WarmupCosine(0, 50, 0, 3e-4), 15);
        Assert.Equal(0.5, LearningRateSchedule.WarmupCosine(9, 10, 20, 1.0), 12);
        Assert.Equal(0.0, LearningRateSchedule.WarmupCosine(20, 10, 20, 1.0), 12);
        Assert.Throws<ArgumentOutOfRangeException>(() => LearningRateSchedule.WarmupCosine(-1, 10, 0, 1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => LearningRateSchedule.WarmupCosine(0, 0, 0, 1.0));
    }
}
