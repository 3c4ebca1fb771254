namespace Lakehouse.Gold.Tests.Windows;

/// <summary>
/// The windowed tables computed in plain C# over the same hand-made events, written from the definitions and not from the
/// SQL, so the tests compare two independent computations.
/// </summary>
internal static class Reference
{
    internal sealed record PageWindow(DateOnly EventDate, string? PageUrl, DateTimeOffset WindowStart, DateTimeOffset WindowEnd, long Events,
        double? TtiAvgMs, double? TtiP95Ms, double ErrorRate, long LateEvents, bool IsFinal);

    internal sealed record SensorWindow(DateOnly EventDate, string? SensorId, DateTimeOffset WindowStart, DateTimeOffset WindowEnd, long Events,
        double? ValueAvg, double? ValueMin, double? ValueMax, long LateEvents, bool IsFinal);

    internal sealed record Session(DateOnly EventDate, string Key, DateTimeOffset SessionStart, DateTimeOffset SessionEnd, long Events);

    internal static DateTimeOffset MinuteOf(DateTimeOffset t) => new(t.UtcTicks - t.UtcTicks % TimeSpan.TicksPerMinute, TimeSpan.Zero);

    internal static DateOnly DateOf(DateTimeOffset t) => DateOnly.FromDateTime(t.UtcDateTime);

    /// <summary>The windows of <paramref name="minutes"/> minutes that hold an event: they start in the minutes up to its own.</summary>
    private static IEnumerable<(DateTimeOffset Start, DateTimeOffset End)> WindowsOf(DateTimeOffset t, int minutes)
    {
        var own = MinuteOf(t);
        for (var k = 0; k < minutes; k++)
        {
            var start = own.AddMinutes(-k);
            yield return (start, start.AddMinutes(minutes));
        }
    }

    internal static List<PageWindow> PageWindows(IEnumerable<WebEvent> events, int minutes, DateTimeOffset? watermark) =>
        [.. events
            .SelectMany(e => WindowsOf(e.Timestamp, minutes).Select(w => (w.Start, w.End, Event: e)))
            .GroupBy(x => (x.Event.PageUrl, x.Start, x.End))
            .Select(g =>
            {
                var rows = g.Select(x => x.Event).ToList();
                var tti = rows.Where(r => r.TtiMs is not null).Select(r => r.TtiMs!.Value).ToList();
                return new PageWindow(DateOf(g.Key.Start), g.Key.PageUrl, g.Key.Start, g.Key.End, rows.Count,
                    tti.Count > 0 ? tti.Average() : null, Percentile(tti, 0.95),
                    (double)rows.Count(r => r.Status >= 400) / rows.Count,
                    rows.Count(r => r.ArrivalWatermark >= g.Key.End),
                    watermark is { } w && g.Key.End <= w);
            })
            .OrderBy(w => w.PageUrl, StringComparer.Ordinal).ThenBy(w => w.WindowStart)];

    internal static List<SensorWindow> SensorWindows(IEnumerable<SensorReading> readings, int minutes, DateTimeOffset? watermark) =>
        [.. readings
            .SelectMany(r => WindowsOf(r.Timestamp, minutes).Select(w => (w.Start, w.End, Reading: r)))
            .GroupBy(x => (x.Reading.SensorId, x.Start, x.End))
            .Select(g =>
            {
                var rows = g.Select(x => x.Reading).ToList();
                var values = rows.Where(r => r.Value is not null).Select(r => r.Value!.Value).ToList();
                return new SensorWindow(DateOf(g.Key.Start), g.Key.SensorId, g.Key.Start, g.Key.End, rows.Count,
                    values.Count > 0 ? values.Average() : null, values.Count > 0 ? values.Min() : null, values.Count > 0 ? values.Max() : null,
                    rows.Count(r => r.ArrivalWatermark >= g.Key.End),
                    watermark is { } w && g.Key.End <= w);
            })
            .OrderBy(w => w.SensorId, StringComparer.Ordinal).ThenBy(w => w.WindowStart)];

    /// <summary>The continuous percentile: linear interpolation between the closest ranks of the sorted values (position (n − 1)·q).</summary>
    internal static double? Percentile(IReadOnlyCollection<double> values, double q)
    {
        if (values.Count == 0) return null;
        var sorted = values.Order().ToArray();
        var position = (sorted.Length - 1) * q;
        var below = (int)Math.Floor(position);
        var above = (int)Math.Ceiling(position);
        return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
    }

    /// <summary>Sessions per key and UTC date: a pause longer than the gap starts a new one.</summary>
    internal static List<Session> Sessions(IEnumerable<(string? Key, DateTimeOffset Time)> events, TimeSpan gap)
    {
        var sessions = new List<Session>();
        foreach (var group in events.Where(e => e.Key is not null).GroupBy(e => (e.Key, Date: DateOf(e.Time))))
        {
            var times = group.Select(e => e.Time).Order().ToList();
            var start = 0;
            for (var i = 1; i <= times.Count; i++)
            {
                if (i < times.Count && times[i] - times[i - 1] <= gap) continue;
                sessions.Add(new Session(group.Key.Date, group.Key.Key!, times[start], times[i - 1], i - start));
                start = i;
            }
        }
        return [.. sessions.OrderBy(s => s.Key, StringComparer.Ordinal).ThenBy(s => s.SessionStart)];
    }

    /// <summary>
    /// The watermark each event arrived with: the newest event time among events with an earlier ingest time, minus the delay.
    /// </summary>
    internal static DateTimeOffset? ArrivalWatermark<T>(IReadOnlyCollection<T> all, Func<T, DateTimeOffset> time, Func<T, DateTimeOffset?> ingest, T row, TimeSpan delay)
    {
        if (ingest(row) is not { } mine) return null;
        var earlier = all.Where(e => ingest(e) is { } other && other < mine).Select(time).ToList();
        return earlier.Count > 0 ? earlier.Max() - delay : null;
    }
}
