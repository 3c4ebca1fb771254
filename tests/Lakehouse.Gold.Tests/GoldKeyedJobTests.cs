using System.Text;
using System.Text.Json.Nodes;
using Lakehouse.Datasets;
using Lakehouse.Testing;

namespace Lakehouse.Gold.Tests;

/// <summary>
/// An incremental gold run whose new silver rows only add to silver recomputes, in the windowed and session tables, only the keys
/// those rows reach and keeps the other rows: every table must hold what one run over all the rows gives, row for row.
/// </summary>
public sealed class GoldKeyedJobTests(EngineFixture fixture) : IClassFixture<EngineFixture>, IDisposable
{
    private static readonly DateTimeOffset Day1 = new(2024, 5, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly GoldLake _lake = new(fixture.Engine, "gold-keyed");

    public void Dispose() => _lake.Dispose();

    private static readonly string[] WebTables =
        ["page_performance_daily", "page_metrics_1m", "page_metrics_1m_corrections", "page_metrics_5m", "page_metrics_5m_corrections", "page_sessions"];

    private static readonly string[] SensorTables =
        ["sensor_metrics_1m", "sensor_metrics_1m_corrections", "sensor_metrics_5m", "sensor_metrics_5m_corrections", "sensor_sessions"];

    /// <summary>The log event of a table computed by key.</summary>
    private const int KeyedStep = 7351;

    /// <summary>The log event of page_performance_daily's sessions counted on from the last run's.</summary>
    private const int SessionsCountedOn = 7354;

    /// <summary>Page views over two days, a third of them in the ten minutes before midnight; sessions s0..s39.</summary>
    private static List<WebRow> WebRows(int seed, int count, DateTimeOffset ingest, string prefix)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(i =>
        {
            var second = random.Next(3) == 0 ? 86_399 - random.Next(600) : random.Next(86_400);
            var time = Day1.AddDays(random.Next(2)).AddSeconds(second).AddMilliseconds(random.Next(1000));
            return new WebRow($"{prefix}{i}", time, "https://shop.example/p" + random.Next(5), "s" + random.Next(40), Math.Round(random.NextDouble() * 2_000 + 300, 3),
                random.Next(6) == 0 ? null : random.Next(3_000), random.Next(9) == 0 ? 500 : 200, ingest);
        })];
    }

    /// <summary>Every row of every table, as sorted text.</summary>
    private static async Task<Dictionary<string, List<string>>> TablesAsync(GoldLake lake, string[] tables)
    {
        var result = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var table in tables) result[table] = [.. (await lake.RowsAsync("gold/" + table, "*", "1")).Order(StringComparer.Ordinal)];
        return result;
    }

    /// <summary>The tables one gold run gives over silver written in these commits (each as it was, with its ingest times).</summary>
    private async Task<Dictionary<string, List<string>>> InOneRunAsync(string dataset, string[] tables, params Func<GoldLake, Task>[] commits)
    {
        using var fresh = new GoldLake(fixture.Engine, "gold-one-run");
        foreach (var commit in commits) await commit(fresh);
        await fresh.RunAsync(dataset, new GoldRunOptions { DaysPerGroup = 1000, RowsPerSlice = long.MaxValue });
        return await TablesAsync(fresh, tables);
    }

    private static List<string> KeyedTables(CapturingLoggerFactory log) =>
        [.. log.Events.Where(e => e.Id.Id == KeyedStep).Select(e => (string)e.Values["Table"]!).Distinct().Order(StringComparer.Ordinal)];

    /// <summary>
    /// With slices of 100 rows, the rows the touched keys need are more than a slice: computed slice by slice. A keyed group's rows are
    /// staged as a view over the files unless the run says a table (<paramref name="stageInMemory"/>).
    /// </summary>
    [Theory]
    [InlineData(1_000_000, null)]
    [InlineData(100, null)]
    [InlineData(1_000_000, true)]
    public async Task Run_NewWebRowsAppended_KeyedTablesEqualOneRunOverAllRows(long rowsPerSlice, bool? stageInMemory)
    {
        var options = new GoldRunOptions { RowsPerSlice = rowsPerSlice, StageInMemory = stageInMemory };
        // Two earlier micro-batches, the second partly late.
        List<WebRow> first = [.. WebRows(1, 1500, Day1.AddDays(2), "a"), new("a-nopage", Day1.AddHours(18), null, "s-nopage", 650, 44, 200, Day1.AddDays(2))];
        var second = WebRows(2, 500, Day1.AddDays(2).AddMinutes(1), "b");
        await _lake.AppendWebAsync(first);
        await _lake.AppendWebAsync(second);
        await _lake.RunAsync(options: options);

        // Ingested after its newest row (an event stamped more than an hour after its ingest would not move the watermark).
        var ingest = Day1.AddDays(3).AddHours(1).AddMinutes(2);
        var midnight = Day1.AddDays(1);
        List<WebRow> third =
        [
            // Into busy minutes of existing pages, on both days.
            .. WebRows(3, 40, ingest, "c"),
            // In the first minutes of day 2: the 5-minute windows of day 1 from 23:56 on hold them.
            new("c-m1", midnight.AddSeconds(30), "https://shop.example/p1", "s1", 900, 100, 200, ingest),
            new("c-m2", midnight.AddMinutes(3).AddSeconds(59), "https://shop.example/p2", "s2", 1900, null, 500, ingest),
            // A page no row had yet, and a new session.
            new("c-new", Day1.AddHours(12), "https://shop.example/new", "s-new", 700, 50, 200, ingest),
            // Sessions of a page: a known session on a page it had not been on (one more), a new session with two events (one more,
            // not two), events without a session (none), and a new page whose only event has no session (a row of 0 sessions).
            new("c-cross", Day1.AddHours(13), "https://shop.example/new", "s5", 650, 40, 200, ingest),
            new("c-two1", Day1.AddHours(14), "https://shop.example/p3", "s-two", 610, 30, 200, ingest),
            new("c-two2", Day1.AddHours(14).AddMinutes(3), "https://shop.example/p3", "s-two", 620, 35, 200, ingest),
            new("c-none", Day1.AddHours(15), "https://shop.example/p1", null, 630, 45, 200, ingest),
            new("c-quiet", Day1.AddHours(16), "https://shop.example/quiet", null, 640, 46, 200, ingest),
            // Events without a page are a page of their own: one more session there, and one it had already.
            new("c-nopage1", Day1.AddHours(17), null, "s7", 660, 47, 200, ingest),
            new("c-nopage2", Day1.AddHours(17).AddMinutes(1), null, "s-nopage", 670, 48, 200, ingest),
            // Two days later: a new date, and the watermark moves on, so every window of day 2 becomes final without new rows.
            new("c-late", Day1.AddDays(3).AddHours(1), "https://shop.example/p0", "s0", 500, 40, 200, ingest),
        ];
        await _lake.AppendWebAsync(third);
        using var log = new CapturingLoggerFactory();

        var result = await _lake.RunAsync(options: options, loggerFactory: log);

        Assert.Equal([new DateOnly(2024, 5, 1), new DateOnly(2024, 5, 2), new DateOnly(2024, 5, 4)], result.Dates);
        Assert.Equal(WebTables.Skip(1), KeyedTables(log));
        // page_performance_daily's sessions were counted on from the last run's; its other columns come from the whole days.
        Assert.Contains(log.Events, e => e.Id.Id == SessionsCountedOn && (string)e.Values["Table"]! == "page_performance_daily");
        var expected = await InOneRunAsync("weblogs", WebTables, l => l.AppendWebAsync(first), l => l.AppendWebAsync(second), l => l.AppendWebAsync(third));
        var actual = await TablesAsync(_lake, WebTables);
        Assert.Equal(expected, actual);
        // The moved watermark made day 2's windows final, kept rows included.
        var day2 = await _lake.RowsAsync("gold/page_metrics_1m", "is_final", "window_start", "event_date = DATE '2024-05-02'");
        Assert.True(day2.Count > 500, $"{day2.Count} windows on day 2");
        Assert.All(day2, f => Assert.Equal("true", f));
        Assert.Contains(actual["page_sessions"], r => r.Contains("|s-new|", StringComparison.Ordinal));
        Assert.Contains(actual["page_performance_daily"], r => r.StartsWith("2024-05-01|https://shop.example/quiet|1|0|", StringComparison.Ordinal));
        Assert.Contains(actual["page_performance_daily"], r => r.StartsWith("2024-05-01|https://shop.example/new|2|2|", StringComparison.Ordinal));
        Assert.Contains(actual["page_performance_daily"], r => r.StartsWith("2024-05-01|NULL|3|2|", StringComparison.Ordinal));

        // Day 3 (May 3) holds no rows: nothing to recompute there. Its corrections had no date a new row reached: left as they were.
        var tables = result.Tables.ToDictionary(t => t.Table, t => t.Dates);
        Assert.Equal((4, 3), (tables["page_metrics_5m"], tables["page_metrics_5m_corrections"]));

        // Another small batch on top, by key again; its row of the next day moves the watermark past the windows of May 4, which
        // no new row reaches: they are rewritten only to become final.
        var next = Day1.AddDays(4).AddMinutes(11);
        List<WebRow> fourth = [.. WebRows(4, 25, next, "d"), new("d-next", Day1.AddDays(4).AddMinutes(10), "https://shop.example/p3", "s3", 800, 90, 200, next)];
        await _lake.AppendWebAsync(fourth);
        using var log2 = new CapturingLoggerFactory();
        await _lake.RunAsync(options: options, loggerFactory: log2);
        Assert.NotEmpty(KeyedTables(log2));
        Assert.Equal(["true"], (await _lake.RowsAsync("gold/page_metrics_1m", "is_final", "window_start", "event_date = DATE '2024-05-04'")).Distinct());
        Assert.Equal(
            await InOneRunAsync("weblogs", WebTables, l => l.AppendWebAsync(first), l => l.AppendWebAsync(second), l => l.AppendWebAsync(third), l => l.AppendWebAsync(fourth)),
            await TablesAsync(_lake, WebTables));
    }

    /// <summary>
    /// A crash between two tables' commits leaves page_performance_daily a silver version ahead of the others (here: a run that builds
    /// it alone). When silver moves on before the next run, that run's new rows, new since the others' version, hold rows the table has
    /// counted already: its sessions must be counted again, not on (on, a session the earlier batch brought to a page counted twice).
    /// </summary>
    [Fact]
    public async Task Run_PagePerformanceDailyAheadOfTheOtherTables_SessionsCountedAgainAndEqualOneRun()
    {
        var first = WebRows(1, 600, Day1.AddDays(2), "a");
        await _lake.AppendWebAsync(first);
        await _lake.RunAsync();
        var ingest2 = Day1.AddDays(2).AddMinutes(1);
        List<WebRow> second = [.. WebRows(2, 20, ingest2, "b"), new("b-fresh", Day1.AddHours(10), "https://shop.example/p1", "s-fresh", 500, 40, 200, ingest2)];
        await _lake.AppendWebAsync(second);
        var json = JsonNode.Parse(DatasetCatalog.BuiltIn.Get("weblogs").Json)!;
        json["gold_outputs"] = new JsonArray("page_performance_daily");
        var dailyOnly = DatasetDefinition.Parse(Encoding.UTF8.GetBytes(json.ToJsonString()), "test");
        await GoldJob.Open(_lake.Root, fixture.Engine).RunAsync(dailyOnly);
        var ingest3 = Day1.AddDays(2).AddMinutes(2);
        List<WebRow> third = [.. WebRows(3, 20, ingest3, "c"), new("c-fresh", Day1.AddHours(11), "https://shop.example/p1", "s-fresh", 510, 41, 200, ingest3)];
        await _lake.AppendWebAsync(third);
        using var log = new CapturingLoggerFactory();

        await _lake.RunAsync(loggerFactory: log);

        Assert.NotEmpty(KeyedTables(log));
        Assert.DoesNotContain(log.Events, e => e.Id.Id == SessionsCountedOn);
        Assert.Equal(
            await InOneRunAsync("weblogs", WebTables, l => l.AppendWebAsync(first), l => l.AppendWebAsync(second), l => l.AppendWebAsync(third)),
            await TablesAsync(_lake, WebTables));
    }

    [Fact]
    public async Task Run_NewSensorReadingsAppended_KeyedTablesEqualOneRunOverAllRows()
    {
        var random = new Random(5);
        List<SensorRow> Readings(int count, DateTimeOffset ingest) =>
            [.. Enumerable.Range(0, count).Select(_ => new SensorRow("s" + random.Next(4), Day1.AddSeconds(random.Next(2 * 86_400)), 60 + random.Next(50),
                random.Next(20) == 0 ? "error" : "normal", ingest))];
        var first = Readings(800, Day1.AddDays(3));
        await _lake.AppendSensorsAsync(first);
        await _lake.RunAsync("sensors");
        var second = Readings(30, Day1.AddDays(3).AddMinutes(1));
        await _lake.AppendSensorsAsync(second);
        using var log = new CapturingLoggerFactory();

        await _lake.RunAsync("sensors", loggerFactory: log);

        Assert.Contains("sensor_sessions", KeyedTables(log));
        Assert.Contains("sensor_metrics_5m_corrections", KeyedTables(log));
        Assert.Equal(await InOneRunAsync("sensors", SensorTables, l => l.AppendSensorsAsync(first), l => l.AppendSensorsAsync(second)),
            await TablesAsync(_lake, SensorTables));
    }

    [Fact]
    public async Task Run_NewRowsArrivedBeforeOthersOrRowsReplaced_RecomputesTheDaysWhole()
    {
        var first = WebRows(6, 600, Day1.AddDays(2), "a");
        await _lake.AppendWebAsync(first);
        await _lake.RunAsync();
        // Ingested before the rows gold has (a clock set back): the watermark older rows arrived under may change.
        var earlier = WebRows(7, 20, Day1.AddDays(1).AddHours(12), "b");
        await _lake.AppendWebAsync(earlier);
        using var log = new CapturingLoggerFactory();

        await _lake.RunAsync(loggerFactory: log);

        Assert.Empty(KeyedTables(log));
        Assert.Equal(await InOneRunAsync("weblogs", WebTables, l => l.AppendWebAsync(first), l => l.AppendWebAsync(earlier)), await TablesAsync(_lake, WebTables));

        // A silver rerun replaces a day: rows may have gone, so the day is recomputed whole.
        var day1 = first.Concat(earlier).Where(r => r.Time < Day1.AddDays(1)).Take(100).ToList();
        await _lake.ReplaceWebAsync(new DateOnly(2024, 5, 1), new DateOnly(2024, 5, 1), day1);
        using var log2 = new CapturingLoggerFactory();

        await _lake.RunAsync(loggerFactory: log2);

        Assert.Empty(KeyedTables(log2));
        Assert.Equal(await InOneRunAsync("weblogs", WebTables,
            l => l.AppendWebAsync(first.Where(r => r.Time >= Day1.AddDays(1))),
            l => l.AppendWebAsync(earlier.Where(r => r.Time >= Day1.AddDays(1))),
            l => l.AppendWebAsync(day1)), await TablesAsync(_lake, WebTables));
    }

    [Fact]
    public async Task Run_SilverCompactedBetweenRuns_KeyedWhileTheNewFilesStandAlone_WholeDaysOnceFoldedIn()
    {
        var batches = Enumerable.Range(0, 4).Select(i => WebRows(10 + i, 300, Day1.AddDays(2).AddMinutes(i), $"a{i}-")).ToList();
        foreach (var batch in batches) await _lake.AppendWebAsync(batch);
        await _lake.RunAsync();

        // The files gold has read are compacted, then new rows come in files of their own: by key.
        var compacted = await Lakehouse.Delta.Write.DeltaWriter.Create(_lake.Table("silver/weblogs")).OptimizeAsync();
        Assert.True(compacted.Committed);
        var newer = WebRows(20, 30, Day1.AddDays(2).AddMinutes(10), "b");
        await _lake.AppendWebAsync(newer);
        using var log = new CapturingLoggerFactory();
        await _lake.RunAsync(loggerFactory: log);

        Assert.Equal(WebTables.Skip(1), KeyedTables(log));
        // page_performance_daily's sessions were counted on from the last run's; its other columns come from the whole days.
        Assert.Contains(log.Events, e => e.Id.Id == SessionsCountedOn && (string)e.Values["Table"]! == "page_performance_daily");
        Func<GoldLake, Task>[] commits = [.. batches.Select(b => (Func<GoldLake, Task>)(l => l.AppendWebAsync(b))), l => l.AppendWebAsync(newer)];
        Assert.Equal(await InOneRunAsync("weblogs", WebTables, commits), await TablesAsync(_lake, WebTables));

        // New rows that a compaction then folds in with older ones are no longer in files of their own: whole days. (The row of
        // a date no other file holds stays in its own file: the new files still live are not all the new rows.)
        List<WebRow> folded = [.. WebRows(21, 30, Day1.AddDays(2).AddMinutes(11), "c"),
            new("c-own", Day1.AddDays(5).AddHours(3), "https://shop.example/p1", "s1", 900, 100, 200, Day1.AddDays(2).AddMinutes(11))];
        await _lake.AppendWebAsync(folded);
        Assert.True((await Lakehouse.Delta.Write.DeltaWriter.Create(_lake.Table("silver/weblogs")).OptimizeAsync()).Committed);
        using var log2 = new CapturingLoggerFactory();
        await _lake.RunAsync(loggerFactory: log2);

        Assert.Empty(KeyedTables(log2));
        Assert.Equal(await InOneRunAsync("weblogs", WebTables, [.. commits, l => l.AppendWebAsync(folded)]), await TablesAsync(_lake, WebTables));
    }

    [Fact]
    public async Task Run_Again_ReadsForTheWatermarksOnlyTheSilverFilesItHasNotSeen()
    {
        var first = WebRows(30, 400, Day1.AddDays(2), "a");
        await _lake.AppendWebAsync(first);
        await _lake.AppendWebAsync(WebRows(31, 400, Day1.AddDays(2).AddMinutes(1), "b"));
        using var log = new CapturingLoggerFactory();
        await _lake.RunAsync(loggerFactory: log);
        var files = (await _lake.Table("silver/weblogs").GetSnapshotAsync()).Files.Count;
        Assert.Equal([(files, files)], WatermarkFiles(log));

        var third = WebRows(32, 20, Day1.AddDays(2).AddMinutes(2), "c");
        await _lake.AppendWebAsync(third);
        using var log2 = new CapturingLoggerFactory();
        await _lake.RunAsync(loggerFactory: log2);

        var now = (await _lake.Table("silver/weblogs").GetSnapshotAsync()).Files.Count;
        Assert.Equal([(now, now - files)], WatermarkFiles(log2));
        Assert.Equal(await InOneRunAsync("weblogs", WebTables, l => l.AppendWebAsync(first), l => l.AppendWebAsync(WebRows(31, 400, Day1.AddDays(2).AddMinutes(1), "b")), l => l.AppendWebAsync(third)),
            await TablesAsync(_lake, WebTables));

        static List<(int, int)> WatermarkFiles(CapturingLoggerFactory log) =>
            [.. log.Events.Where(e => e.Id.Id == 7353).Select(e => ((int)e.Values["Files"]!, (int)e.Values["Read"]!))];
    }
}
