using System.Globalization;
using Lakehouse.Core;
using Lakehouse.Datasets;
using Lakehouse.Delta.Write;
using Lakehouse.Testing;

namespace Lakehouse.Gold.Tests;

public sealed class GoldJobTests(EngineFixture fixture) : IClassFixture<EngineFixture>, IDisposable
{
    private static readonly DateTimeOffset Day1 = new(2024, 5, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly GoldLake _lake = new(fixture.Engine, "gold-job");

    public void Dispose() => _lake.Dispose();

    /// <summary>Random page views over <paramref name="days"/> days from <paramref name="start"/>, on a few pages and sessions, some errors, some TTAR missing.</summary>
    private static List<WebRow> RandomRows(int seed, int count, DateTimeOffset start, int days, DateTimeOffset ingest, string prefix)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(i => new WebRow(
            $"{prefix}{i}",
            start.AddSeconds(random.Next(days * 86_400)).AddMilliseconds(random.Next(1000)),
            "https://shop.example/p" + random.Next(7),
            "s" + random.Next(40),
            Math.Round(random.NextDouble() * random.Next(1, 30_000), 3),
            random.Next(10) == 0 ? null : random.Next(5_000),
            random.Next(12) == 0 ? 500 : random.Next(15) == 0 ? 404 : 200,
            ingest))];
    }

    /// <summary>page_performance_daily computed in C# (not the job's SQL): linear-interpolated percentiles, nulls left out of their own statistics.</summary>
    private static List<string> Expected(IEnumerable<WebRow> rows) =>
        [.. rows.GroupBy(r => (Date: DateOnly.FromDateTime(r.Time.UtcDateTime), r.Page))
            .OrderBy(g => g.Key.Date).ThenBy(g => g.Key.Page, StringComparer.Ordinal)
            .Select(g =>
            {
                var tti = g.Select(r => r.Tti).ToList();
                var ttar = g.Where(r => r.Ttar is not null).Select(r => r.Ttar!.Value).ToList();
                return string.Join('|',
                    g.Key.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), g.Key.Page, g.Count().ToString(CultureInfo.InvariantCulture),
                    g.Select(r => r.Session).Distinct().Count().ToString(CultureInfo.InvariantCulture),
                    R(tti.Average()), R(Percentile(tti, 0.5)), R(Percentile(tti, 0.95)),
                    ttar.Count == 0 ? "NULL" : R(ttar.Average()), ttar.Count == 0 ? "NULL" : R(Percentile(ttar, 0.5)), ttar.Count == 0 ? "NULL" : R(Percentile(ttar, 0.95)),
                    R(g.Count(r => r.Status >= 400) / (double)g.Count()));
            })];

    private static double Percentile(List<double> values, double q)
    {
        var sorted = values.Order().ToList();
        var position = q * (sorted.Count - 1);
        var lower = (int)Math.Floor(position);
        var upper = (int)Math.Ceiling(position);
        return sorted[lower] + (position - lower) * (sorted[upper] - sorted[lower]);
    }

    private static string R(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    private Task<List<string>> DailyAsync() => _lake.RowsAsync("gold/page_performance_daily",
        "strftime(event_date, '%Y-%m-%d'), page_url, events, sessions, tti_avg_ms, tti_p50_ms, tti_p95_ms, ttar_avg_ms, ttar_p50_ms, ttar_p95_ms, error_rate",
        "event_date, page_url");

    /// <summary>Rows compared field by field: numbers to 1e-9 relative (the same value computed in another order), the rest exactly.</summary>
    private static void AssertSameRows(IReadOnlyList<string> expected, IReadOnlyList<string> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            var (e, a) = (expected[i].Split('|'), actual[i].Split('|'));
            Assert.True(e.Length == a.Length, $"row {i}: {expected[i]} vs {actual[i]}");
            for (var j = 0; j < e.Length; j++)
            {
                var same = double.TryParse(e[j], NumberStyles.Float, CultureInfo.InvariantCulture, out var x) && double.TryParse(a[j], NumberStyles.Float, CultureInfo.InvariantCulture, out var y)
                    ? Math.Abs(x - y) <= 1e-9 * Math.Max(1, Math.Abs(x))
                    : e[j] == a[j];
                Assert.True(same, $"row {i}, field {j}: expected {expected[i]}, got {actual[i]}");
            }
        }
    }

    /// <summary>
    /// A lake dataset defined as a copy of weblogs (same gold outputs) is refused by gold while weblogs has a silver table, and so is
    /// weblogs: a gold table holds one dataset's rows, and before, the copy's run replaced weblogs' dates of
    /// page_performance_daily with its own rows (exit 0), and weblogs' next run said it was up to date.
    /// </summary>
    [Fact]
    public async Task Run_TwoDatasetsListTheSameGoldTable_BothRefusedAndNothingOverwritten()
    {
        await _lake.AppendWebAsync(RandomRows(1, 300, Day1, 1, Day1.AddDays(1), "a"));
        await _lake.RunAsync();
        var before = await DailyAsync();
        var definition = System.Text.Encoding.UTF8.GetString(await File.ReadAllBytesAsync(Path.Combine(TestPaths.RepoRoot, "shared", "Lakehouse.Datasets", "Definitions", "weblogs.json")))
            .Replace("\"name\": \"weblogs\"", "\"name\": \"webperf\"", StringComparison.Ordinal);
        Directory.CreateDirectory(Path.Combine(_lake.Folder, "_lakehouse", "datasets"));
        await File.WriteAllTextAsync(Path.Combine(_lake.Folder, "_lakehouse", "datasets", "webperf.json"), definition);
        var webperf = (await DatasetCatalog.LoadAsync(_lake.Root)).Get("webperf");
        var copy = Lakehouse.Delta.Write.DeltaWriter.Create(_lake.Table("silver/webperf"), new Lakehouse.Delta.Write.DeltaWriteOptions { PartitionColumns = ["event_date"] });
        await copy.AppendAsync("SELECT 'x' AS event_id, TIMESTAMPTZ '2024-05-01 10:00:00+00' AS \"timestamp\", '/p' AS page_url, 's' AS session_id, 1.0::DOUBLE AS tti_ms, 1.0::DOUBLE AS ttar_ms, 200 AS status, DATE '2024-05-01' AS event_date, TIMESTAMPTZ '2024-05-01 10:00:00+00' AS ingest_time, 'p' AS bronze_position");

        var copyRun = await Assert.ThrowsAsync<LakehouseException>(() => GoldJob.Open(_lake.Root, _lake.Engine).RunAsync(webperf));
        var ownRun = await Assert.ThrowsAsync<LakehouseException>(() => _lake.RunAsync());

        Assert.StartsWith("Dataset webperf lists gold outputs 'page_performance_daily', ", copyRun.Message, StringComparison.Ordinal);
        Assert.Contains("which dataset weblogs builds too (silver.weblogs exists)", copyRun.Message, StringComparison.Ordinal);
        Assert.Contains("which dataset webperf builds too (silver.webperf exists)", ownRun.Message, StringComparison.Ordinal);
        Assert.Equal(before, await DailyAsync());
    }

    [Fact]
    public async Task Run_FirstTime_EveryDateEqualsAnIndependentComputation()
    {
        var rows = RandomRows(1, 3000, Day1, 3, Day1.AddDays(4), "a");
        var version = await _lake.AppendWebAsync(rows);

        var result = await _lake.RunAsync();

        Assert.Equal(-1, result.SilverFromVersion);
        Assert.Equal(version, result.SilverToVersion);
        Assert.Equal([new DateOnly(2024, 5, 1), new DateOnly(2024, 5, 2), new DateOnly(2024, 5, 3)], result.Dates);
        Assert.Equal((3000L, 3000L), (result.RowsIn, result.RowsNew));
        AssertSameRows(Expected(rows), await DailyAsync());
        var table = result.Tables[0];
        Assert.Equal(("page_performance_daily", 3, (long)Expected(rows).Count), (table.Table, table.Dates, table.Rows));
        // The 5-minute windows starting 23:56-23:59 of the day before hold this day's first minutes: that day is recomputed too.
        Assert.Equal(4, result.Tables.Single(t => t.Table == "page_metrics_5m").Dates);
    }

    [Fact]
    public async Task Run_AfterAnAppendToOneDay_RecomputesOnlyThatDayAndLeavesTheOthersFilesAlone()
    {
        var first = RandomRows(2, 2000, Day1, 3, Day1.AddDays(4), "a");
        await _lake.AppendWebAsync(first);
        await _lake.RunAsync();
        var before = await _lake.Table("gold/page_performance_daily").GetSnapshotAsync();
        var more = RandomRows(3, 300, Day1.AddDays(1), 1, Day1.AddDays(5), "b");
        var version = await _lake.AppendWebAsync(more);

        var result = await _lake.RunAsync();

        Assert.Equal([new DateOnly(2024, 5, 2)], result.Dates);
        Assert.Equal(version, result.SilverToVersion);
        // The new rows are the 300 appended, not the rows of the days recomputed (RowsIn: those days' old rows too).
        Assert.Equal(300, result.RowsNew);
        AssertSameRows(Expected(first.Concat(more)), await DailyAsync());
        var after = await _lake.Table("gold/page_performance_daily").GetSnapshotAsync();
        Assert.Equal(version, after.TransactionVersion(GoldTables.AppId("weblogs")));
        string[] Untouched(Delta.DeltaSnapshot s) => [.. s.Files.Where(f => f.PartitionValues["event_date"] != "2024-05-02").Select(f => f.Path).Order(StringComparer.Ordinal)];
        Assert.Equal(Untouched(before), Untouched(after));
    }

    [Fact]
    public async Task Run_Again_NothingNewAndNoCommit()
    {
        await _lake.AppendWebAsync(RandomRows(4, 200, Day1, 1, Day1.AddDays(1), "a"));
        await _lake.RunAsync();
        var version = (await _lake.Table("gold/page_performance_daily").GetSnapshotAsync()).Version;

        var again = await _lake.RunAsync();

        Assert.True(again.NothingNew);
        Assert.Empty(again.Dates);
        Assert.Equal(version, (await _lake.Table("gold/page_performance_daily").GetSnapshotAsync()).Version);
        Assert.Single(await _lake.RowsAsync("gold/_runs", "run_id", "started_at"));
    }

    /// <summary>
    /// A first run over a silver table without rows (every event quarantined) creates the gold tables and consumes silver: it is a
    /// run, and gold._runs records it, so that status does not show silver consumed next to "last gold run: never". A second run
    /// has nothing to do and records nothing.
    /// </summary>
    [Fact]
    public async Task Run_FirstOverASilverWithoutRows_RecordedOnceAsARun()
    {
        var version = await _lake.AppendWebAsync([]);

        var first = await _lake.RunAsync();
        var again = await _lake.RunAsync();

        Assert.Equal((-1L, version), (first.SilverFromVersion, first.SilverToVersion));
        Assert.Equal(version, (await _lake.Table("gold/page_performance_daily").GetSnapshotAsync()).TransactionVersion(GoldTables.AppId("weblogs")));
        Assert.True(again.NothingNew);
        Assert.Equal([$"incremental|committed|{version}|0"],
            await _lake.RowsAsync("gold/_runs", "kind || '|' || status || '|' || silver_version_to || '|' || dates_recomputed", "started_at"));
    }

    [Fact]
    public async Task Run_AfterSilverRebuiltADayWithFewerRows_ThatDayShowsOnlyTheRowsLeft()
    {
        var rows = RandomRows(5, 1000, Day1, 2, Day1.AddDays(3), "a");
        await _lake.AppendWebAsync(rows);
        await _lake.RunAsync();
        var kept = rows.Where(r => r.Time < Day1.AddDays(1) && r.Status < 400).ToList();
        await _lake.ReplaceWebAsync(new DateOnly(2024, 5, 1), new DateOnly(2024, 5, 1), kept);

        var result = await _lake.RunAsync();

        Assert.Equal([new DateOnly(2024, 5, 1)], result.Dates);
        AssertSameRows(Expected(kept.Concat(rows.Where(r => r.Time >= Day1.AddDays(1)))), await DailyAsync());
    }

    [Fact]
    public async Task Run_SilverRebuiltADayToNothing_ThatDayIsEmptyInGold()
    {
        var rows = RandomRows(6, 500, Day1, 2, Day1.AddDays(3), "a");
        await _lake.AppendWebAsync(rows);
        await _lake.RunAsync();
        await _lake.ReplaceWebAsync(new DateOnly(2024, 5, 2), new DateOnly(2024, 5, 2), rows.Where(r => r.Time < Day1).ToList());

        await _lake.RunAsync();

        AssertSameRows(Expected(rows.Where(r => r.Time < Day1.AddDays(1))), await DailyAsync());
    }

    [Fact]
    public async Task Rerun_DateRange_SameRowsAsBeforeAndRecordedAsRerun()
    {
        var rows = RandomRows(7, 800, Day1, 3, Day1.AddDays(3), "a");
        await _lake.AppendWebAsync(rows);
        await _lake.RunAsync();
        var before = await DailyAsync();

        var rerun = await _lake.RunAsync(options: new GoldRunOptions { From = new DateOnly(2024, 5, 2), To = new DateOnly(2024, 5, 3) });

        Assert.Equal("rerun", rerun.Kind);
        Assert.Equal([new DateOnly(2024, 5, 2), new DateOnly(2024, 5, 3)], rerun.Dates);
        Assert.Equal(before, await DailyAsync());
        Assert.Equal(["incremental|committed", "rerun|committed"], await _lake.RowsAsync("gold/_runs", "kind || '|' || status", "started_at"));
    }

    /// <summary>
    /// A rerun over decades recomputes only the dates silver or gold holds rows on (it computed every calendar day, about 30 ms
    /// each: 70 s for 2020..2024), with the same rows; dates outside the years silver takes are refused.
    /// </summary>
    [Fact]
    public async Task Rerun_RangeOfDecades_OnlyTheDatesWithRowsAndTheSameRows()
    {
        await _lake.AppendWebAsync(RandomRows(7, 800, Day1, 3, Day1.AddDays(3), "a"));
        await _lake.RunAsync();
        var before = await DailyAsync();

        var rerun = await _lake.RunAsync(options: new GoldRunOptions { From = new DateOnly(1970, 1, 1), To = new DateOnly(2070, 12, 31) });

        Assert.Equal([new DateOnly(2024, 5, 1), new DateOnly(2024, 5, 2), new DateOnly(2024, 5, 3)], rerun.Dates.Order());
        Assert.Equal(before, await DailyAsync());
        var e = await Assert.ThrowsAsync<ArgumentException>(() => _lake.RunAsync(options: new GoldRunOptions { From = new DateOnly(1, 1, 1), To = new DateOnly(2024, 5, 1) }));
        Assert.Equal("The dates of a rerun are from 1000-01-01 to 8999-12-31 (silver takes no event time outside them).", e.Message);
    }

    /// <summary>
    /// Events in the first minutes of the lake's first date (1000-01-01) are in the 5-minute windows that start on that date only:
    /// the ones starting at 23:56 to 23:59 the day before made a partition 0999-12-31, outside the dates a rerun takes, so no
    /// rerun could rebuild it. Every gold table now holds only 1000-01-01, and a rerun of that date gives the same rows.
    /// </summary>
    [Fact]
    public async Task Run_EventsInTheLakesFirstMinutes_NoPartitionBeforeItsFirstDateAndARerunRebuildsAll()
    {
        var first = new DateTimeOffset(1000, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var ingest = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
        await _lake.AppendWebAsync([
            new WebRow("a", first.AddSeconds(30), "https://shop.example/a", "s1", 100, 50, 200, ingest),
            new WebRow("b", first.AddSeconds(190), "https://shop.example/b", "s2", 200, null, 500, ingest)]);
        const string Windows5m = "strftime(timezone('UTC', window_start), '%Y-%m-%d %H:%M'), page_url, events";

        var run = await _lake.RunAsync();
        var datesWritten = await GoldPartitionDatesAsync();
        var windows = await _lake.RowsAsync("gold/page_metrics_5m", Windows5m, "window_start, page_url");
        var rerun = await _lake.RunAsync(options: new GoldRunOptions { From = EventTimes.First, To = EventTimes.First });

        Assert.Equal([EventTimes.First], run.Dates);
        Assert.Equal(["page_metrics_1m=1000-01-01", "page_metrics_5m=1000-01-01", "page_performance_daily=1000-01-01", "page_sessions=1000-01-01"],
            datesWritten);
        Assert.Equal([
            "1000-01-01 00:00|https://shop.example/a|1", "1000-01-01 00:00|https://shop.example/b|1", "1000-01-01 00:01|https://shop.example/b|1",
            "1000-01-01 00:02|https://shop.example/b|1", "1000-01-01 00:03|https://shop.example/b|1"], windows);
        Assert.Equal("rerun", rerun.Kind);
        Assert.Equal([EventTimes.First], rerun.Dates);
        Assert.Equal(datesWritten, await GoldPartitionDatesAsync());
        Assert.Equal(windows, await _lake.RowsAsync("gold/page_metrics_5m", Windows5m, "window_start, page_url"));
    }

    [Fact]
    public async Task Rerun_FirstDateOfALakeWithAPartitionBeforeIt_RemovesThatPartition()
    {
        // Gold before 2026-12-02 wrote the 5-minute windows of 1000-01-01's first minutes under 0999-12-31, a date no rerun can name.
        var first = new DateTimeOffset(1000, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var ingest = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
        await _lake.AppendWebAsync([new WebRow("a", first.AddSeconds(30), "https://shop.example/a", "s1", 100, 50, 200, ingest)]);
        await _lake.RunAsync();
        const string Windows5m = "strftime(timezone('UTC', window_start), '%Y-%m-%d %H:%M'), page_url, events, event_date";
        var windows = await _lake.RowsAsync("gold/page_metrics_5m", Windows5m, "window_start, page_url");
        var table = _lake.Table("gold/page_metrics_5m");
        var file = Path.Combine(_lake.Folder, "gold", "page_metrics_5m", Uri.UnescapeDataString((await table.GetSnapshotAsync()).Files[0].Path));
        await DeltaWriter.Create(table, new DeltaWriteOptions { PartitionColumns = ["event_date"] }).AppendAsync(
            $"SELECT * REPLACE (window_start - INTERVAL 4 MINUTE AS window_start, window_end - INTERVAL 4 MINUTE AS window_end), DATE '0999-12-31' AS event_date FROM read_parquet('{file}', hive_partitioning = false)");
        Assert.Contains("page_metrics_5m=0999-12-31,1000-01-01", await GoldPartitionDatesAsync());

        var rerun = await _lake.RunAsync(options: new GoldRunOptions { From = EventTimes.First, To = EventTimes.First });

        Assert.Equal([EventTimes.First], rerun.Dates);
        Assert.Contains("page_metrics_5m=1000-01-01", await GoldPartitionDatesAsync());
        Assert.Equal(windows, await _lake.RowsAsync("gold/page_metrics_5m", Windows5m, "window_start, page_url"));
        Assert.Equal(["1000-01-01 00:00|https://shop.example/a|1|1000-01-01"], windows);
    }

    /// <summary>Each gold table (not _runs) that holds rows, with the event dates of its live files: <c>table=date,date</c>, by table.</summary>
    private async Task<List<string>> GoldPartitionDatesAsync()
    {
        var tables = new List<string>();
        foreach (var folder in Directory.GetDirectories(Path.Combine(_lake.Folder, "gold")).Select(Path.GetFileName).Order(StringComparer.Ordinal))
        {
            if (folder!.StartsWith('_')) continue;
            var snapshot = await _lake.Table("gold/" + folder).GetSnapshotAsync();
            var dates = snapshot.Files.Select(f => f.PartitionValues["event_date"]).Distinct().Order(StringComparer.Ordinal).ToList();
            if (dates.Count > 0) tables.Add(folder + "=" + string.Join(',', dates));
        }
        return tables;
    }

    [Fact]
    public async Task Run_EventsArrivingBehindTheWatermark_CountedAsLateAndIncluded()
    {
        // First batch: events up to 10:00:00; the watermark after it is 09:59:50.
        var first = Enumerable.Range(0, 10).Select(i => new WebRow($"a{i}", Day1.AddHours(9).AddMinutes(i * 6), "https://x.example/", "s", 100, null, 200, Day1.AddHours(11))).ToList();
        await _lake.AppendWebAsync(first);
        var r1 = await _lake.RunAsync();
        Assert.Equal(0, r1.LateEvents);
        Assert.Equal(Day1.AddHours(9).AddMinutes(54).AddSeconds(-10), r1.Watermark);
        // Second batch, ingested later: two events behind the watermark, one after it.
        var second = new List<WebRow>
        {
            new("b0", Day1.AddHours(8), "https://x.example/", "s", 300, null, 200, Day1.AddHours(12)),
            new("b1", Day1.AddHours(9).AddMinutes(54).AddSeconds(-11), "https://x.example/", "s", 300, null, 200, Day1.AddHours(12)),
            new("b2", Day1.AddHours(9).AddMinutes(54).AddSeconds(-10), "https://x.example/", "s", 300, null, 200, Day1.AddHours(12)),
        };
        await _lake.AppendWebAsync(second);

        var r2 = await _lake.RunAsync();

        Assert.Equal(2, r2.LateEvents);
        AssertSameRows(Expected(first.Concat(second)), await DailyAsync());
        Assert.Equal(["0", "2"], await _lake.RowsAsync("gold/_runs", "CAST(late_events AS VARCHAR)", "started_at"));
    }

    /// <summary>
    /// The late count when silver did more than append since gold's last run: a compaction that folded the late rows into another
    /// file (before: 0 late, the new files held none of them), and a rerun that rewrote the day with no new rows (before: 2 late
    /// again, its rewritten file taken for new rows). The new rows are those that arrived after the last ones gold had consumed.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Run_SilverCompactedOrRerunSinceTheLastRun_LateEventsCountedOnceEach(bool compacted)
    {
        var first = Enumerable.Range(0, 10).Select(i => new WebRow($"a{i}", Day1.AddHours(9).AddMinutes(i * 6), "https://x.example/", "s", 100, null, 200, Day1.AddHours(11))).ToList();
        await _lake.AppendWebAsync(first);
        await _lake.RunAsync();
        var second = new List<WebRow>
        {
            new("b0", Day1.AddHours(8), "https://x.example/", "s", 300, null, 200, Day1.AddHours(12)),
            new("b1", Day1.AddHours(9).AddMinutes(54).AddSeconds(-11), "https://x.example/", "s", 300, null, 200, Day1.AddHours(12)),
            new("b2", Day1.AddHours(9).AddMinutes(54).AddSeconds(-10), "https://x.example/", "s", 300, null, 200, Day1.AddHours(12)),
        };
        await _lake.AppendWebAsync(second);
        if (compacted)
        {
            Assert.True((await Lakehouse.Delta.Write.DeltaWriter.Create(_lake.Table("silver/weblogs")).OptimizeAsync()).Committed);
            Assert.Equal(2, (await _lake.RunAsync()).LateEvents);
        }
        else
        {
            Assert.Equal(2, (await _lake.RunAsync()).LateEvents);
            await _lake.ReplaceWebAsync(DateOnly.FromDateTime(Day1.UtcDateTime), DateOnly.FromDateTime(Day1.UtcDateTime), first.Concat(second));
            Assert.Equal(0, (await _lake.RunAsync()).LateEvents);
        }
        AssertSameRows(Expected(first.Concat(second)), await DailyAsync());
        Assert.Equal(compacted ? ["0", "2"] : ["0", "2", "0"], await _lake.RowsAsync("gold/_runs", "CAST(late_events AS VARCHAR)", "started_at"));
    }

    [Fact]
    public async Task Run_WatermarkPassesADayWithoutNewRowsInIt_ItsLastWindowsBecomeFinal()
    {
        // Day 1 ends with an event at 23:59:30: the watermark (23:59:20) leaves its last minute open.
        var day1 = Enumerable.Range(0, 5).Select(i => new WebRow($"a{i}", Day1.AddHours(23).AddMinutes(50 + 2 * i), "https://x.example/", "s", 100, null, 200, Day1.AddDays(1)))
            .Append(new WebRow("a9", Day1.AddDays(1).AddSeconds(-30), "https://x.example/", "s", 100, null, 200, Day1.AddDays(1))).ToList();
        await _lake.AppendWebAsync(day1);
        await _lake.RunAsync();
        Task<List<string>> FinalAsync(string table) => _lake.RowsAsync("gold/" + table,
            "strftime(window_start, '%d %H:%M') || ' ' || CAST(is_final AS VARCHAR)", "window_start");
        Assert.Equal("01 23:59 false", (await FinalAsync("page_metrics_1m"))[^1]);

        // New rows on day 2 only (from 00:10): day 1 has no new rows, but the watermark passed its last minute.
        await _lake.AppendWebAsync([new WebRow("b0", Day1.AddDays(1).AddMinutes(10), "https://x.example/", "s", 100, null, 200, Day1.AddDays(2))]);
        var second = await _lake.RunAsync();

        Assert.Equal([new DateOnly(2024, 5, 2)], second.Dates);
        var minutes = await FinalAsync("page_metrics_1m");
        Assert.Equal(["01 23:50 true", "01 23:52 true", "01 23:54 true", "01 23:56 true", "01 23:58 true", "01 23:59 true", "02 00:10 false"], minutes);
        Assert.All(await FinalAsync("page_metrics_5m"), w => Assert.True(w.EndsWith("true", StringComparison.Ordinal) || w.StartsWith("02 00:", StringComparison.Ordinal), w));
    }

    [Fact]
    public async Task Run_TwoRunsAtOnce_EachTableWrittenOnceAndTheOtherRunSaysItWasWrittenByAnother()
    {
        var rows = RandomRows(11, 30_000, Day1, 3, Day1.AddDays(4), "a");
        await _lake.AppendWebAsync(rows);

        var runs = await Task.WhenAll(Task.Run(() => _lake.RunAsync()), Task.Run(() => _lake.RunAsync()));

        var tables = runs[0].Tables.Select(t => t.Table).Union(runs[1].Tables.Select(t => t.Table)).ToList();
        Assert.Subset(tables.ToHashSet(), DatasetCatalog.BuiltIn.Get("weblogs").GoldOutputs.ToHashSet());
        foreach (var table in tables)
        {
            // A run that started after the table's commit does not list it (nothing pending for it).
            var results = runs.Select(r => r.Tables.SingleOrDefault(t => t.Table == table)).ToList();
            // One run wrote the table; the other found it up to date (it started after that commit) or computed it too and had its
            // commit skipped, which it now says instead of reporting 0 rows written.
            var writers = results.Where(t => t is { Dates: > 0, WrittenByAnotherRun: false }).ToList();
            Assert.True(writers.Count == 1, $"{table}: {string.Join("; ", results)}");
            var other = results.Single(t => !ReferenceEquals(t, writers[0]));
            Assert.True(other is null || other.Dates == 0 || (other.WrittenByAnotherRun && other.Rows == 0), $"{table}: {other}");
        }
        AssertSameRows(Expected(rows), await DailyAsync());
        // One commit per table: the skipped one left no version behind.
        Assert.Equal(0, (await _lake.Table("gold/page_performance_daily").GetSnapshotAsync()).Version);
    }

    [Fact]
    public async Task Run_NoSilverTable_RefusedNamingTheCommandToRunFirst()
    {
        var e = await Assert.ThrowsAsync<LakehouseException>(() => _lake.RunAsync());

        Assert.Equal(LakehouseErrorReason.NotFound, e.Reason);
        Assert.Contains("lakehouse silver run --dataset weblogs", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_DefinitionListsAnUnknownOutput_RefusedNamingItAndTheKnownOnes()
    {
        var definition = DefinitionWith("""["page_performance_daily", "clicks_hourly"]""");
        await _lake.AppendWebAsync(RandomRows(8, 10, Day1, 1, Day1, "a"));

        var e = await Assert.ThrowsAsync<LakehouseException>(() => GoldJob.Open(_lake.Root, _lake.Engine).RunAsync(definition));

        Assert.Contains("'clicks_hourly'", e.Message, StringComparison.Ordinal);
        Assert.Contains("access_daily", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_OutputNeedsAColumnTheDatasetLacks_RefusedNamingTheColumn()
    {
        var definition = DefinitionWith("""["access_daily"]""");

        var e = await Assert.ThrowsAsync<LakehouseException>(() => GoldJob.Open(_lake.Root, _lake.Engine).RunAsync(definition));

        Assert.Contains("'access_daily'", e.Message, StringComparison.Ordinal);
        Assert.Contains("path, bytes, client_ip", e.Message, StringComparison.Ordinal);
    }

    /// <summary>weblogs' built-in definition with other gold outputs.</summary>
    private static DatasetDefinition DefinitionWith(string goldOutputs)
    {
        var json = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "shared", "Lakehouse.Datasets", "Definitions", "weblogs.json"));
        var start = json.IndexOf("\"gold_outputs\"", StringComparison.Ordinal);
        var end = json.IndexOf(']', start);
        json = json[..start] + "\"gold_outputs\": " + goldOutputs + json[(end + 1)..];
        return DatasetDefinition.Parse(System.Text.Encoding.UTF8.GetBytes(json), "weblogs.json");
    }
}
