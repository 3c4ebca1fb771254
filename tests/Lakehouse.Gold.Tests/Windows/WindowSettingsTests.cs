using Lakehouse.Gold.Windows;

namespace Lakehouse.Gold.Tests.Windows;

public sealed class WindowSettingsTests
{
    [Fact]
    public void Default_Values_TenSecondsAndTenMinutes()
    {
        Assert.Equal((TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(10)), (WindowSettings.Default.WatermarkDelay, WindowSettings.Default.SessionGap));
    }

    [Theory]
    [InlineData(-1, 600)]
    [InlineData(86_401, 600)]
    [InlineData(10, 0)]
    [InlineData(10, -5)]
    [InlineData(10, 86_401)]
    public void Constructor_OutOfRange_Refused(int delaySeconds, int gapSeconds)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new WindowSettings(TimeSpan.FromSeconds(delaySeconds), TimeSpan.FromSeconds(gapSeconds)));
    }

    [Fact]
    public void With_OutOfRangeOrFinerThanAMicrosecond_Refused()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => WindowSettings.Default with { SessionGap = TimeSpan.Zero });
        Assert.Equal("SessionGap", error.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => WindowSettings.Default with { WatermarkDelay = TimeSpan.FromTicks(15) });
        Assert.Equal(TimeSpan.Zero, (WindowSettings.Default with { WatermarkDelay = TimeSpan.Zero }).WatermarkDelay);
    }
}
