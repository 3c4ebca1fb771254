using Lakehouse.Testing;

namespace Lakehouse.Gold.Tests;

/// <summary>
/// Gold computes the recomputed dates one day at a time (staging only a day and the context its outputs need across midnight), and
/// a large day's heavy outputs in slices of keys: the tables must be those of computing every date at once.
/// </summary>
public sealed class GoldGroupsJobTests(EngineFixture fixture) : IClassFixture<EngineFixture>, IDisposable
{
    private static readonly DateTimeOffset Day1 = new(2024, 5, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly GoldLake _grouped = new(fixture.Engine, "gold-grouped");
    private readonly GoldLake _atOnce = new(fixture.Engine, "gold-at-once");

    public void Dispose()
    {
        _grouped.Dispose();
        _atOnce.Dispose();
    }

    /// <summary>
    /// A day at a time, and the sliced outputs (5-minute windows, sessions) in slices of about 150 rows' keys, each output reading
    /// the rows from the files (as on a small memory limit); all dates at once from rows staged in memory.
    /// </summary>
    private static readonly GoldRunOptions ByDay = new() { RowsPerSlice = 150, StageInMemory = false };
    private static readonly GoldRunOptions AllDates = new() { DaysPerGroup = 1000, RowsPerSlice = long.MaxValue, StageInMemory = true };

    /// <summary>Page views over <paramref name="days"/> days, denser around midnight; on the last day page p1 is three times slower.</summary>
    private static List<WebRow> WebRows(int seed, int count, int days, DateTimeOffset ingest, string prefix)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(i =>
        {
            var day = random.Next(days);
            var second = random.Next(3) == 0 ? 86_399 - random.Next(600) : random.Next(86_400);
            var time = Day1.AddDays(day).AddSeconds(second).AddMilliseconds(random.Next(1000));
            var page = "https://shop.example/p" + random.Next(4);
            var tti = Math.Round(random.NextDouble() * 2_000 + 500, 3) * (day == days - 1 && page.EndsWith("p1", StringComparison.Ordinal) ? 3 : 1);
            return new WebRow($"{prefix}{i}", time, page, "s" + random.Next(30), tti, random.Next(8) == 0 ? null : random.Next(3_000),
                random.Next(10) == 0 ? 503 : 200, ingest);
        })];
    }

    /// <summary>
    /// Five sensors reading every 7 to 13 minutes over <paramref name="days"/> days, with highs, lows, errors and jumps; some jump by half within 30 s; s3 is
    /// silent for the whole second day, s4 stops at the start of the last day.
    /// </summary>
    private static List<SensorRow> SensorRows(int seed, int days, DateTimeOffset ingest)
    {
        var random = new Random(seed);
        var rows = new List<SensorRow>();
        for (var s = 1; s <= 5; s++)
        {
            for (var t = Day1.AddSeconds(random.Next(600)); t < Day1.AddDays(days); t = t.AddSeconds(420 + random.Next(360)))
            {
                if (s == 3 && t >= Day1.AddDays(1).AddMinutes(-3) && t < Day1.AddDays(2).AddHours(1)) continue;
                if (s == 4 && t >= Day1.AddDays(days - 1).AddMinutes(5)) break;
                var value = random.Next(20) == 0 ? 105 + random.Next(10) : random.Next(25) == 0 ? 20 : 60 + random.Next(10);
                rows.Add(new SensorRow("s" + s, t, value, random.Next(30) == 0 ? "error" : "normal", ingest));
                if (random.Next(12) == 0) rows.Add(new SensorRow("s" + s, t.AddSeconds(30), value * 1.5, "normal", ingest));
            }
        }
        return rows;
    }

    /// <summary>Every row of every table (alerts without detected_at, the run's clock), as sorted text.</summary>
    private static async Task<Dictionary<string, List<string>>> TablesAsync(GoldLake lake, params string[] tables)
    {
        var result = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var table in tables)
            result[table] = [.. (await lake.RowsAsync("gold/" + table, table == "alerts" ? "* EXCLUDE (detected_at)" : "*", "1")).Order(StringComparer.Ordinal)];
        return result;
    }

    private static void AssertSameRun(GoldRunResult expected, GoldRunResult actual)
    {
        Assert.Equal(expected.Dates, actual.Dates);
        Assert.Equal((expected.RowsIn, expected.LateEvents, expected.AlertsNew, expected.Watermark), (actual.RowsIn, actual.LateEvents, actual.AlertsNew, actual.Watermark));
        Assert.Equal(expected.Tables.Select(t => (t.Table, t.Dates, t.Rows)), actual.Tables.Select(t => (t.Table, t.Dates, t.Rows)));
    }

    [Fact]
    public async Task Run_WebDatesOneDayAtATime_SameTablesAsAllDatesAtOnce()
    {
        string[] tables = ["page_performance_daily", "page_metrics_1m", "page_metrics_5m", "page_sessions", "alerts"];
        var rows = WebRows(11, 4000, 5, Day1.AddDays(6), "a");
        await _grouped.AppendWebAsync(rows);
        await _atOnce.AppendWebAsync(rows);

        var grouped = await _grouped.RunAsync(options: ByDay);
        var atOnce = await _atOnce.RunAsync(options: AllDates);

        Assert.Equal(5, grouped.Dates.Count);
        Assert.Equal(4000, grouped.RowsIn);
        AssertSameRun(atOnce, grouped);
        var expected = await TablesAsync(_atOnce, tables);
        Assert.Contains(expected["alerts"], a => a.Contains("|tti_p95_regression|https://shop.example/p1|", StringComparison.Ordinal));
        Assert.Equal(expected, await TablesAsync(_grouped, tables));

        // Late rows on days 2 and 4, some in the minutes around midnight: an incremental run over two separate dates.
        var late = WebRows(12, 600, 5, Day1.AddDays(7), "b").Where(r => r.Time.Day is 2 or 4).ToList();
        await _grouped.AppendWebAsync(late);
        await _atOnce.AppendWebAsync(late);

        grouped = await _grouped.RunAsync(options: ByDay);
        atOnce = await _atOnce.RunAsync(options: AllDates);

        Assert.Equal([new DateOnly(2024, 5, 2), new DateOnly(2024, 5, 4)], grouped.Dates);
        Assert.Equal(late.Count, grouped.LateEvents);
        AssertSameRun(atOnce, grouped);
        Assert.Equal(await TablesAsync(_atOnce, tables), await TablesAsync(_grouped, tables));
    }

    [Fact]
    public async Task Run_SensorDatesOneDayAtATime_SameTablesAsAllDatesAtOnce()
    {
        string[] tables = ["sensor_metrics_1m", "sensor_metrics_5m", "sensor_sessions", "alerts"];
        var rows = SensorRows(21, 4, Day1.AddDays(5));
        await _grouped.AppendSensorsAsync(rows);
        await _atOnce.AppendSensorsAsync(rows);

        var grouped = await _grouped.RunAsync("sensors", ByDay);
        var atOnce = await _atOnce.RunAsync("sensors", AllDates);

        Assert.Equal(4, grouped.Dates.Count);
        AssertSameRun(atOnce, grouped);
        var expected = await TablesAsync(_atOnce, tables);
        foreach (var rule in new[] { "temperature_high", "temperature_low", "status_error", "value_spike", "sensor_silent" })
            Assert.True(expected["alerts"].Any(a => a.Contains($"|{rule}|", StringComparison.Ordinal)), rule);
        Assert.Equal(expected, await TablesAsync(_grouped, tables));
    }

    [Fact]
    public async Task Run_OneDayAtATime_WindowsAndAlertsCrossingMidnightSeeTheOtherDay()
    {
        var ingest = Day1.AddDays(4);
        var midnight = Day1.AddDays(1);
        await _grouped.AppendSensorsAsync(
        [
            // s1: 70 °F at 23:59:50, 90 °F at 00:00:20: a 28.6 % rise within the minute across midnight, and both in the window from 23:58.
            new SensorRow("s1", midnight.AddSeconds(-10), 70, "normal", ingest),
            new SensorRow("s1", midnight.AddSeconds(20), 90, "normal", ingest),
            new SensorRow("s1", midnight.AddDays(1).AddHours(2), 70, "normal", ingest),
            // s2: last reading on day 1 at 23:50, none on day 2, the next on day 3 at 01:00: one silence over the whole empty day.
            new SensorRow("s2", midnight.AddMinutes(-10), 60, "normal", ingest),
            new SensorRow("s2", midnight.AddDays(1).AddHours(1), 60, "normal", ingest),
            new SensorRow("s2", midnight.AddDays(1).AddHours(2), 60, "normal", ingest),
        ]);

        var result = await _grouped.RunAsync("sensors", ByDay);

        Assert.Equal([new DateOnly(2024, 5, 1), new DateOnly(2024, 5, 2), new DateOnly(2024, 5, 3)], result.Dates);
        const string Window = "strftime(window_start, '%Y-%m-%d %H:%M:%S'), strftime(window_end, '%Y-%m-%d %H:%M:%S'), value";
        Assert.Equal(["2024-05-02 00:00:00|2024-05-02 00:01:00|0.2857142857142857"],
            await _grouped.RowsAsync("gold/alerts", Window, "window_start", "rule = 'value_spike' AND key = 's1'"));
        Assert.Equal(["2024-05-01 23:50:00|2024-05-03 01:00:00|90600.0"],
            await _grouped.RowsAsync("gold/alerts", Window, "window_start", "rule = 'sensor_silent' AND key = 's2' AND event_date = DATE '2024-05-01'"));
        // The 5-minute windows from 23:56 to 23:59 hold the reading after midnight too.
        Assert.Equal(["2024-05-01 23:55:00|1|70.0|70.0", "2024-05-01 23:56:00|2|70.0|90.0", "2024-05-01 23:57:00|2|70.0|90.0", "2024-05-01 23:58:00|2|70.0|90.0",
            "2024-05-01 23:59:00|2|70.0|90.0"], await _grouped.RowsAsync("gold/sensor_metrics_5m",
            "strftime(window_start, '%Y-%m-%d %H:%M:%S'), events, value_min, value_max", "window_start", "sensor_id = 's1' AND event_date = DATE '2024-05-01'"));
    }
}
