using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Lakehouse.Gold.Alerts;
using Lakehouse.Gold.Tests.Windows;

namespace Lakehouse.Gold.Tests.Alerts;

/// <summary>An alert row as the rules return it (or as the reference computes it).</summary>
internal sealed record AlertRow(string AlertId, string Rule, string Key, DateTimeOffset WindowStart, DateTimeOffset WindowEnd, double Value, double Threshold, DateOnly EventDate);

/// <summary>One page and day of <c>page_performance_daily</c>, as far as the page rule reads it.</summary>
internal sealed record DailyRow(DateOnly EventDate, string PageUrl, double? TtiP95Ms);

/// <summary>
/// The alert rules computed in plain C# from their definitions (brute force over pairs of readings, no windows), to compare
/// the SQL with.
/// </summary>
internal static class AlertReference
{
    /// <summary>The id the contract promises: lower-case hex SHA-256 of <c>rule|key|yyyy-MM-ddTHH:mm:ss.ffffffZ</c>.</summary>
    internal static string Id(string rule, string key, DateTimeOffset start) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(
            $"{rule}|{key}|{start.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff", CultureInfo.InvariantCulture)}Z")));

    private static AlertRow Row(string rule, string key, DateTimeOffset start, DateTimeOffset end, double value, double threshold) =>
        new(Id(rule, key, start), rule, key, start, end, value, threshold, Reference.DateOf(start));

    internal static List<AlertRow> Sensors(IReadOnlyList<SensorReading> all, DateTimeOffset? watermark, AlertSettings s)
    {
        var readings = all.Where(r => r.SensorId is not null).ToList();
        var alerts = new List<AlertRow>();

        foreach (var g in readings.Where(r => r.DeviceType.Equals("temperature", StringComparison.OrdinalIgnoreCase) && r.Value is not null)
                     .GroupBy(r => (Sensor: r.SensorId!, Minute: Reference.MinuteOf(r.Timestamp))))
        {
            var high = g.Max(r => r.Value!.Value);
            var low = g.Min(r => r.Value!.Value);
            if (high > s.TemperatureHighF) alerts.Add(Row("temperature_high", g.Key.Sensor, g.Key.Minute, g.Key.Minute.AddMinutes(1), high, s.TemperatureHighF));
            if (low < s.TemperatureLowF) alerts.Add(Row("temperature_low", g.Key.Sensor, g.Key.Minute, g.Key.Minute.AddMinutes(1), low, s.TemperatureLowF));
        }

        foreach (var g in readings.Where(r => r.Status?.ToLowerInvariant() is "error" or "critical").GroupBy(r => (Sensor: r.SensorId!, Minute: Reference.MinuteOf(r.Timestamp))))
            alerts.Add(Row("status_error", g.Key.Sensor, g.Key.Minute, g.Key.Minute.AddMinutes(1), g.Count(), 1));

        var rises = new List<(string Sensor, DateTimeOffset Minute, double Rise)>();
        foreach (var later in readings.Where(r => r.Value is not null))
        {
            var best = readings
                .Where(e => e.SensorId == later.SensorId && e.Value is { } v && v != 0 && e.Timestamp < later.Timestamp && later.Timestamp - e.Timestamp <= s.SpikeWindow)
                .Select(e => (later.Value!.Value - e.Value!.Value) / Math.Abs(e.Value!.Value))
                .DefaultIfEmpty(double.NegativeInfinity).Max();
            if (best > s.SpikeRise) rises.Add((later.SensorId!, Reference.MinuteOf(later.Timestamp), best));
        }
        foreach (var g in rises.GroupBy(r => (r.Sensor, r.Minute)))
            alerts.Add(Row("value_spike", g.Key.Sensor, g.Key.Minute, g.Key.Minute.AddMinutes(1), g.Max(r => r.Rise), s.SpikeRise));

        foreach (var g in readings.GroupBy(r => r.SensorId!))
        {
            var times = g.Select(r => r.Timestamp).Distinct().Order().ToList();
            for (var i = 1; i < times.Count; i++)
            {
                if (times[i] - times[i - 1] > s.SilentAfter)
                    alerts.Add(Row("sensor_silent", g.Key, times[i - 1], times[i], Seconds(times[i] - times[i - 1]), s.SilentAfter.TotalSeconds));
            }
            if (watermark is { } w && w - times[^1] > s.SilentAfter)
                alerts.Add(Row("sensor_silent", g.Key, times[^1], times[^1] + s.SilentAfter, Seconds(w - times[^1]), s.SilentAfter.TotalSeconds));
        }
        return Sorted(alerts);
    }

    internal static List<AlertRow> Pages(IReadOnlyList<DailyRow> daily, AlertSettings s)
    {
        var alerts = new List<AlertRow>();
        var days = daily.Where(d => d.TtiP95Ms is not null).ToList();
        foreach (var day in days)
        {
            var baseline = days.Where(b => b.PageUrl == day.PageUrl && b.EventDate < day.EventDate && b.EventDate >= day.EventDate.AddDays(-s.BaselineDays))
                .Select(b => b.TtiP95Ms!.Value).ToList();
            if (baseline.Count < s.MinBaselineDays) continue;
            var limit = s.TtiRegressionFactor * baseline.Average();
            if (day.TtiP95Ms > limit)
            {
                var start = new DateTimeOffset(day.EventDate.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
                alerts.Add(Row("tti_p95_regression", day.PageUrl, start, start.AddDays(1), day.TtiP95Ms.Value, limit));
            }
        }
        return Sorted(alerts);
    }

    private static double Seconds(TimeSpan t) => t.Ticks / TimeSpan.TicksPerMicrosecond / 1e6;

    internal static List<AlertRow> Sorted(IEnumerable<AlertRow> alerts) =>
        [.. alerts.OrderBy(a => a.Rule, StringComparer.Ordinal).ThenBy(a => a.Key, StringComparer.Ordinal).ThenBy(a => a.WindowStart)];

    /// <summary>Asserts two alert lists equal, the doubles to 1e-9 relative.</summary>
    internal static void Same(IReadOnlyList<AlertRow> expected, IReadOnlyList<AlertRow> actual)
    {
        Assert.Equal(expected.Select(a => a with { Value = 0, Threshold = 0 }), actual.Select(a => a with { Value = 0, Threshold = 0 }));
        foreach (var (e, a) in expected.Zip(actual))
        {
            Assert.True(Math.Abs(e.Value - a.Value) <= 1e-9 * Math.Max(1, Math.Abs(e.Value)), $"{e.Rule} {e.Key} value: expected {e.Value:R}, got {a.Value:R}");
            Assert.True(Math.Abs(e.Threshold - a.Threshold) <= 1e-9 * Math.Max(1, Math.Abs(e.Threshold)), $"{e.Rule} {e.Key} threshold: expected {e.Threshold:R}, got {a.Threshold:R}");
        }
    }
}
