using System.Globalization;
using Lakehouse.Gold.Alerts;
using Lakehouse.Gold.Tests.Windows;
using Lakehouse.Testing;
using static Lakehouse.Gold.Tests.Windows.Relations;

namespace Lakehouse.Gold.Tests.Alerts;

public sealed class AlertRulesTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    private static readonly AlertSettings Defaults = AlertSettings.Default;

    private List<(AlertRow Row, string Message)> Run(string sql) =>
        [.. Query(fixture, $"SELECT * FROM ({sql}) ORDER BY rule, key, window_start").Select(r => (
            new AlertRow((string)r["alert_id"]!, (string)r["rule"]!, (string)r["key"]!, (DateTimeOffset)r["window_start"]!, (DateTimeOffset)r["window_end"]!,
                (double)r["value"]!, (double)r["threshold"]!, (DateOnly)r["event_date"]!),
            (string)r["message"]!))];

    private List<AlertRow> Sensor(IReadOnlyList<SensorReading> readings, DateTimeOffset? watermark = null, AlertSettings? settings = null) =>
        [.. Run(AlertRules.SensorAlerts(SensorsSql(readings), watermark is null ? "NULL" : Time(watermark), settings ?? Defaults)).Select(a => a.Row)];

    private static string DailySql(IEnumerable<DailyRow> days)
    {
        var rows = days.Select(d => $"(DATE '{d.EventDate:yyyy-MM-dd}', '{d.PageUrl}', {(d.TtiP95Ms is { } p ? p.ToString("R", CultureInfo.InvariantCulture) : "NULL")}::DOUBLE, 10)").ToList();
        return $"SELECT * FROM (VALUES {string.Join(", ", rows)}) AS v(event_date, page_url, tti_p95_ms, events)";
    }

    [Fact]
    public void SensorAlerts_TemperatureAboveTheLimit_OneAlertPerSensorMinuteWithTheHighest()
    {
        SensorReading[] readings =
        [
            new(At("2026-03-01 10:00:05"), "t1", 100.0),
            new(At("2026-03-01 10:00:10"), "t1", 100.5),
            new(At("2026-03-01 10:00:50"), "t1", 101.5),
            new(At("2026-03-01 10:01:10"), "t1", 100.0), // exactly the limit: no alert
            new(At("2026-03-01 10:00:20"), "h1", 150.0, DeviceType: "humidity"), // not a temperature
        ];

        var alerts = Run(AlertRules.SensorAlerts(SensorsSql(readings), "NULL", Defaults));

        var (alert, message) = Assert.Single(alerts);
        Assert.Equal(new AlertRow(AlertReference.Id("temperature_high", "t1", At("2026-03-01 10:00:00")), "temperature_high", "t1",
            At("2026-03-01 10:00:00"), At("2026-03-01 10:01:00"), 101.5, 100, new DateOnly(2026, 3, 1)), alert);
        Assert.Equal("Sensor t1: temperature 101.5 °F is above the 100.0 °F limit in the minute from 2026-03-01 10:00:00 UTC", message);
    }

    [Fact]
    public void SensorAlerts_ValuesNearTheLimitAndTheLargestDouble_MessagesPrintTheValuesAsTheTableHoldsThem()
    {
        SensorReading[] readings =
        [
            new(At("2026-03-01 10:00:05"), "t1", 100.04),
            new(At("2026-03-01 10:00:05"), "t2", 1.6e308),
            new(At("2026-03-01 10:00:05"), "t3", -1.5e308),
            new(At("2026-03-01 10:00:05"), "p1", 1.0, DeviceType: "pressure"),
            new(At("2026-03-01 10:00:35"), "p1", 1e20, DeviceType: "pressure"),
            new(At("2026-03-01 10:00:05"), "p2", 1.0, DeviceType: "pressure"),
            new(At("2026-03-01 10:00:35"), "p2", 1.6e308, DeviceType: "pressure"),
        ];

        var alerts = Run(AlertRules.SensorAlerts(SensorsSql(readings), "NULL", Defaults));

        // printf's %.1f gave "100.0 °F is above the 100.0 °F limit", and 1599999999999999977590050548315048217773437500000… for 1.6e308.
        const string Minute = " in the minute from 2026-03-01 10:00:00 UTC";
        Assert.Equal([
            "Sensor t1: temperature 100.04 °F is above the 100.0 °F limit" + Minute,
            "Sensor t2: temperature 1.6e+308 °F is above the 100.0 °F limit" + Minute,
            "Sensor t3: temperature -1.5e+308 °F is below the 32.0 °F limit" + Minute,
            "Sensor p1: a reading of 1e+20 rose 1e+22 % above an earlier reading within 60 s (limit 20.0 %)" + Minute,
            "Sensor p2: a reading of 1.6e+308 rose more than 1.7976931348623157e+308 % above an earlier reading within 60 s (limit 20.0 %)" + Minute,
        ], alerts.OrderBy(a => a.Row.Key, StringComparer.Ordinal).OrderBy(a => a.Row.Key[0] == 'p').Select(a => a.Message));
        Assert.Equal([100.04, 1.6e308, -1.5e308], alerts.Where(a => a.Row.Key[0] == 't').OrderBy(a => a.Row.Key, StringComparer.Ordinal).Select(a => a.Row.Value));
    }

    [Fact]
    public void SensorAlerts_TemperatureBelowTheLimit_OneAlertWithTheLowest_NoneAtExactly32()
    {
        SensorReading[] readings =
        [
            new(At("2026-03-01 10:00:05"), "t1", 32.0),
            new(At("2026-03-01 10:01:05"), "t1", 31.9, DeviceType: "Temperature"),
            new(At("2026-03-01 10:01:15"), "t1", 31.0),
            new(At("2026-03-01 10:01:25"), "t2", 32.0),
        ];

        var alerts = Sensor(readings);

        Assert.Equal([("temperature_low", "t1", At("2026-03-01 10:01:00"), 31.0, 32.0)], alerts.Select(a => (a.Rule, a.Key, a.WindowStart, a.Value, a.Threshold)));
    }

    [Fact]
    public void SensorAlerts_PauseOfExactlyFiveMinutes_NoAlert_AMicrosecondMore_OneFromLastToNextReading()
    {
        SensorReading[] readings =
        [
            new(At("2026-03-01 10:00:00"), "p1", 50, DeviceType: "pressure"),
            new(At("2026-03-01 10:05:00"), "p1", 50, DeviceType: "pressure"),
            new(At("2026-03-01 10:10:00.000001"), "p1", 50, DeviceType: "pressure"),
        ];

        var alerts = Run(AlertRules.SensorAlerts(SensorsSql(readings), "NULL", Defaults));

        var (alert, message) = Assert.Single(alerts);
        Assert.Equal(("sensor_silent", "p1", At("2026-03-01 10:05:00"), At("2026-03-01 10:10:00.000001"), 300.000001, 300.0),
            (alert.Rule, alert.Key, alert.WindowStart, alert.WindowEnd, alert.Value, alert.Threshold));
        Assert.Equal("Sensor p1 sent nothing for 5.0 minutes, from 2026-03-01 10:05:00 UTC to 2026-03-01 10:10:00 UTC (limit 5 minutes)", message);
    }

    [Fact]
    public void SensorAlerts_SilentPastTheWatermarkThenResumed_OneAlertIdBothTimes()
    {
        List<SensorReading> readings = [new(At("2026-03-01 10:00:00"), "p1", 50, DeviceType: "pressure"), new(At("2026-03-01 10:06:00"), "p2", 50, DeviceType: "pressure")];

        var atLimit = Sensor(readings, At("2026-03-01 10:05:00"));
        var past = Sensor(readings, At("2026-03-01 10:05:00.000001"));
        readings.Add(new SensorReading(At("2026-03-01 10:20:00"), "p1", 50, DeviceType: "pressure"));
        var resumed = Sensor(readings, At("2026-03-01 10:20:00"));

        Assert.Empty(atLimit);
        var trailing = Assert.Single(past);
        Assert.Equal(("p1", At("2026-03-01 10:00:00"), At("2026-03-01 10:05:00"), 300.000001), (trailing.Key, trailing.WindowStart, trailing.WindowEnd, trailing.Value));
        // p1's pause is now a gap between two readings (and p2 is 14 minutes behind the watermark): p1's alert keeps its id.
        var gap = Assert.Single(resumed, a => a.Key == "p1");
        Assert.Equal((trailing.AlertId, At("2026-03-01 10:20:00"), 1200.0), (gap.AlertId, gap.WindowEnd, gap.Value));
        Assert.Equal(2, resumed.Count);
    }

    [Fact]
    public void SensorAlerts_Rises_OnlyMoreThanTwentyPercentWithinAMinute_OnePerSensorMinuteWithTheLargest()
    {
        static SensorReading P(string at, string sensor, double value) => new(At(at), sensor, value, DeviceType: "pressure");
        SensorReading[] readings =
        [
            P("2026-03-01 10:00:00", "exact", 100), P("2026-03-01 10:00:30", "exact", 120),            // exactly 20 %: no alert
            P("2026-03-01 10:00:00", "two", 100), P("2026-03-01 10:00:30", "two", 120.5), P("2026-03-01 10:00:40", "two", 125), // 20.5 % then 25 %
            P("2026-03-01 10:00:00", "edge", 100), P("2026-03-01 10:01:00", "edge", 130),              // exactly 1 minute later: within
            P("2026-03-01 10:00:00", "late", 100), P("2026-03-01 10:01:00.000001", "late", 130),      // a microsecond more: not within
            P("2026-03-01 10:00:00", "neg", -10), P("2026-03-01 10:00:20", "neg", -7),                // 3 above |−10|: 30 %
            P("2026-03-01 10:00:00", "zero", 0), P("2026-03-01 10:00:20", "zero", 5),                 // no relative rise from 0
            P("2026-03-01 10:00:00", "tie", 100), P("2026-03-01 10:00:00", "tie", 150),               // same moment: not earlier
        ];

        var alerts = Sensor(readings);

        Assert.Equal(
            [("edge", At("2026-03-01 10:01:00"), 0.3), ("neg", At("2026-03-01 10:00:00"), 0.3), ("two", At("2026-03-01 10:00:00"), 0.25)],
            alerts.Select(a => (a.Key, a.WindowStart, a.Value)));
        Assert.All(alerts, a => Assert.Equal(("value_spike", 0.2), (a.Rule, a.Threshold)));
    }

    [Fact]
    public void SensorAlerts_ErrorAndCriticalReadings_OneAlertPerSensorMinuteWithTheirCount()
    {
        SensorReading[] readings =
        [
            new(At("2026-03-01 10:00:10"), "s1", 50, DeviceType: "pressure", Status: "error"),
            new(At("2026-03-01 10:00:20"), "s1", 50, DeviceType: "pressure", Status: "CRITICAL"),
            new(At("2026-03-01 10:00:30"), "s1", 50, DeviceType: "pressure", Status: "warning"),
            new(At("2026-03-01 10:01:10"), "s1", 50, DeviceType: "pressure", Status: "normal"),
            new(At("2026-03-01 10:01:20"), "s2", 50, DeviceType: "pressure", Status: "warning"),
        ];

        var alerts = Run(AlertRules.SensorAlerts(SensorsSql(readings), "NULL", Defaults));

        var (alert, message) = Assert.Single(alerts);
        Assert.Equal(("status_error", "s1", At("2026-03-01 10:00:00"), 2.0, 1.0), (alert.Rule, alert.Key, alert.WindowStart, alert.Value, alert.Threshold));
        Assert.Equal("Sensor s1: 1 reading(s) with status error and 1 with status critical in the minute from 2026-03-01 10:00:00 UTC", message);
    }

    [Fact]
    public void SensorAlerts_RandomReadings_EqualIndependentComputation()
    {
        var readings = RandomReadings(seed: 21);
        var watermark = At("2026-03-01 11:10:00");

        var alerts = Sensor(readings, watermark);

        var expected = AlertReference.Sensors(readings, watermark, Defaults);
        AlertReference.Same(expected, alerts);
        Assert.Equal(["sensor_silent", "status_error", "temperature_high", "temperature_low", "value_spike"], alerts.Select(a => a.Rule).Distinct().Order(StringComparer.Ordinal));
        Assert.Equal(alerts.Count, alerts.Select(a => a.AlertId).Distinct().Count());
    }

    [Fact]
    public void SensorAlerts_OtherSettings_EqualIndependentComputation()
    {
        var settings = AlertSettings.Default with
        {
            TemperatureHighF = 90,
            TemperatureLowF = 40,
            SilentAfter = TimeSpan.FromMinutes(2),
            SpikeRise = 0.05,
            SpikeWindow = TimeSpan.FromSeconds(20),
        };
        var readings = RandomReadings(seed: 4);
        var watermark = At("2026-03-01 11:10:00");

        AlertReference.Same(AlertReference.Sensors(readings, watermark, settings), Sensor(readings, watermark, settings));
    }

    [Fact]
    public void SensorAlerts_SameReadingsTwiceInAnotherOrder_IdenticalIds()
    {
        var readings = RandomReadings(seed: 8);
        var shuffled = readings.OrderBy(r => r.Value).ThenByDescending(r => r.Timestamp).ToList();
        var watermark = At("2026-03-01 11:10:00");

        var first = Sensor(readings, watermark);
        var second = Sensor(shuffled, watermark);

        Assert.NotEmpty(first);
        Assert.Equal(first.Select(a => a.AlertId), second.Select(a => a.AlertId));
        Assert.All(first, a => Assert.Equal(AlertReference.Id(a.Rule, a.Key, a.WindowStart), a.AlertId));
    }

    [Fact]
    public void SensorAlerts_MoreReadingsLater_EveryEarlierAlertKeepsItsId()
    {
        // The first run sees the readings up to 10:40; the rerun sees everything. Whatever fired on the first run fires
        // again with the same id (the rules only gain conditions with more data), so the writer never alerts twice.
        var readings = RandomReadings(seed: 13);
        var early = readings.Where(r => r.Timestamp < At("2026-03-01 10:40:00")).ToList();

        var first = Sensor(early, At("2026-03-01 10:39:50"));
        var rerun = Sensor(readings, At("2026-03-01 11:10:00"));

        Assert.NotEmpty(first);
        Assert.Subset(rerun.Select(a => a.AlertId).ToHashSet(), first.Select(a => a.AlertId).ToHashSet());
    }

    [Fact]
    public void PageAlerts_DailyP95_FiresOnlyAboveFactorTimesTheTrailingBaseline()
    {
        var d = new DateOnly(2026, 3, 10);
        var days = new List<DailyRow>();
        foreach (var page in new[] { "/exact", "/above" })
            days.AddRange(Enumerable.Range(1, 7).Select(i => new DailyRow(d.AddDays(-i), page, 100)));
        days.Add(new DailyRow(d, "/exact", 150));                 // exactly 1.5 × 100: no alert
        days.Add(new DailyRow(d, "/above", 150.0001));
        days.AddRange([new DailyRow(d.AddDays(-2), "/new", 10), new DailyRow(d.AddDays(-1), "/new", 10), new DailyRow(d, "/new", 1000)]); // 2 baseline days: too new
        days.AddRange([new DailyRow(d.AddDays(-8), "/old", 10_000), new DailyRow(d.AddDays(-3), "/old", 80), new DailyRow(d.AddDays(-2), "/old", 100),
            new DailyRow(d.AddDays(-1), "/old", 120), new DailyRow(d.AddDays(-1), "/null", null), new DailyRow(d, "/old", 151)]); // 8 days back is outside

        var alerts = Run(AlertRules.PageAlerts(DailySql(days), Defaults));

        Assert.Equal(
            [
                new(AlertReference.Id("tti_p95_regression", "/above", At("2026-03-10 00:00:00")), "tti_p95_regression", "/above", At("2026-03-10 00:00:00"), At("2026-03-11 00:00:00"), 150.0001, 150, d),
                new AlertRow(AlertReference.Id("tti_p95_regression", "/old", At("2026-03-10 00:00:00")), "tti_p95_regression", "/old", At("2026-03-10 00:00:00"), At("2026-03-11 00:00:00"), 151, 150, d),
            ],
            alerts.Select(a => a.Row));
        Assert.Equal("Page /old: TTI p95 of 151.0 ms on 2026-03-10 is above 1.5 × its baseline of 100.0 ms (average daily p95 of 3 of the 7 days before)", alerts[1].Message);
        AlertReference.Same(AlertReference.Pages(days, Defaults), [.. alerts.Select(a => a.Row)]);
    }

    [Fact]
    public void PageAlerts_RandomDays_EqualIndependentComputation()
    {
        var random = new Random(17);
        var days = new List<DailyRow>();
        foreach (var page in new[] { "/a", "/b", "/c", "/d" })
        {
            for (var i = 0; i < 40; i++)
            {
                if (random.Next(5) == 0) continue; // days without traffic
                days.Add(new DailyRow(new DateOnly(2026, 1, 1).AddDays(i), page, random.Next(10) == 0 ? null : Math.Round(100 + random.NextDouble() * 150, 1)));
            }
        }
        var settings = AlertSettings.Default with { TtiRegressionFactor = 1.3, BaselineDays = 5, MinBaselineDays = 2 };

        var alerts = Run(AlertRules.PageAlerts(DailySql(days), settings)).Select(a => a.Row).ToList();

        AlertReference.Same(AlertReference.Pages(days, settings), alerts);
        Assert.True(alerts.Count >= 3, $"only {alerts.Count} alerts: the data does not exercise the rule");
    }

    [Fact]
    public void Alerts_Columns_NamesAndTypesOfTheContract()
    {
        string[] expected = ["alert_id:VARCHAR", "rule:VARCHAR", "key:VARCHAR", "window_start:TIMESTAMPTZ", "window_end:TIMESTAMPTZ", "value:DOUBLE",
            "threshold:DOUBLE", "message:VARCHAR", "event_date:DATE"];

        var sensor = Types(fixture, AlertRules.SensorAlerts(SensorsSql([new(At("2026-03-01 10:00:00"), "a", 1)]), "NULL", Defaults));
        var page = Types(fixture, AlertRules.PageAlerts(DailySql([new DailyRow(new DateOnly(2026, 3, 1), "/a", 1)]), Defaults));

        Assert.Equal(expected, sensor.Select(c => $"{c.Key}:{c.Value}"));
        Assert.Equal(expected, page.Select(c => $"{c.Key}:{c.Value}"));
    }

    [Fact]
    public void SensorAlerts_LowNotBelowHigh_Refused()
    {
        var settings = AlertSettings.Default with { TemperatureLowF = 100 };

        var error = Assert.Throws<ArgumentException>(() => AlertRules.SensorAlerts("SELECT 1", "NULL", settings));

        Assert.Contains("TemperatureLowF", error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// An hour of readings of six sensors: temperatures around the limits, pressure with spikes, statuses, pauses of random
    /// length (some exactly 5 minutes), equal timestamps and a sensor that stops early.
    /// </summary>
    private static List<SensorReading> RandomReadings(int seed)
    {
        var random = new Random(seed);
        var readings = new List<SensorReading>();
        string[] types = ["temperature", "temperature", "temperature", "pressure", "pressure", "humidity"];
        for (var s = 0; s < types.Length; s++)
        {
            var t = At("2026-03-01 10:00:00");
            var end = s == 5 ? At("2026-03-01 10:30:00") : At("2026-03-01 11:05:00");
            var value = types[s] == "temperature" ? 80.0 : 50.0;
            while (t < end)
            {
                value = types[s] switch
                {
                    "temperature" => Math.Round(25 + random.NextDouble() * 82, 2),
                    _ => random.Next(12) == 0 ? Math.Round(value * (1.1 + random.NextDouble() * 0.3), 3) : Math.Round(40 + random.NextDouble() * 20, 3),
                };
                var status = random.Next(40) switch { 0 => "error", 1 => "critical", 2 => "warning", _ => "normal" };
                readings.Add(new SensorReading(t, "sensor-" + s.ToString(CultureInfo.InvariantCulture), random.Next(30) == 0 ? null : value, types[s], status));
                t += random.Next(25) switch
                {
                    0 => TimeSpan.FromMinutes(5),
                    1 => TimeSpan.FromMinutes(5) + TimeSpan.FromTicks(10),
                    2 => TimeSpan.FromMinutes(random.Next(6, 12)),
                    3 => TimeSpan.Zero,
                    _ => TimeSpan.FromMilliseconds(random.Next(1000, 40_000)),
                };
            }
        }
        return readings;
    }
}
