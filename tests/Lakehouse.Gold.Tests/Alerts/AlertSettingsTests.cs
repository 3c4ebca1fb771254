using Lakehouse.Gold.Alerts;

namespace Lakehouse.Gold.Tests.Alerts;

public sealed class AlertSettingsTests
{
    [Fact]
    public void Default_Values_AsTheIssueSays()
    {
        var s = AlertSettings.Default;

        Assert.Equal((100.0, 32.0, TimeSpan.FromMinutes(5), 0.20, TimeSpan.FromMinutes(1), 1.5, 7, 3),
            (s.TemperatureHighF, s.TemperatureLowF, s.SilentAfter, s.SpikeRise, s.SpikeWindow, s.TtiRegressionFactor, s.BaselineDays, s.MinBaselineDays));
    }

    [Fact]
    public void Init_OutOfRange_RefusedNamingTheSetting()
    {
        Assert.Equal("SpikeRise", Assert.Throws<ArgumentOutOfRangeException>(() => AlertSettings.Default with { SpikeRise = 0 }).ParamName);
        Assert.Equal("SpikeRise", Assert.Throws<ArgumentOutOfRangeException>(() => AlertSettings.Default with { SpikeRise = double.NaN }).ParamName);
        Assert.Equal("TemperatureHighF", Assert.Throws<ArgumentOutOfRangeException>(() => AlertSettings.Default with { TemperatureHighF = double.PositiveInfinity }).ParamName);
        Assert.Equal("SilentAfter", Assert.Throws<ArgumentOutOfRangeException>(() => AlertSettings.Default with { SilentAfter = TimeSpan.Zero }).ParamName);
        Assert.Equal("SpikeWindow", Assert.Throws<ArgumentOutOfRangeException>(() => AlertSettings.Default with { SpikeWindow = TimeSpan.FromHours(2) }).ParamName);
        Assert.Equal("TtiRegressionFactor", Assert.Throws<ArgumentOutOfRangeException>(() => AlertSettings.Default with { TtiRegressionFactor = 0.9 }).ParamName);
        Assert.Equal("BaselineDays", Assert.Throws<ArgumentOutOfRangeException>(() => AlertSettings.Default with { BaselineDays = 0 }).ParamName);
    }

    [Fact]
    public void PageAlerts_MinimumBaselineLongerThanTheBaseline_Refused()
    {
        var settings = AlertSettings.Default with { BaselineDays = 3, MinBaselineDays = 4 };

        var error = Assert.Throws<ArgumentException>(() => AlertRules.PageAlerts("SELECT 1", settings));

        Assert.Contains("MinBaselineDays (4)", error.Message, StringComparison.Ordinal);
    }
}
