using Lakehouse.Gold.Serving;
using Lakehouse.Gold.Tests.Synapse;
using Lakehouse.Testing;
using Microsoft.SqlServer.TransactSql.ScriptDom;

namespace Lakehouse.Gold.Tests;

/// <summary>
/// Late data kept as data: the windowed tables show the corrected result, their <c>_corrections</c> tables one row per window that
/// received late events, its on-time result next to the corrected one. Hand-made micro-batches (one ingest time each) on
/// silver.sensors; the watermark is the newest event time minus 10 s.
/// </summary>
public sealed class LateCorrectionsJobTests(EngineFixture fixture) : IClassFixture<EngineFixture>, IDisposable
{
    private static readonly DateTimeOffset T10 = new(2024, 5, 1, 10, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset I1 = new(2024, 5, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset I2 = I1.AddMinutes(1), I3 = I1.AddMinutes(2), I4 = I1.AddMinutes(3);
    private readonly GoldLake _lake = new(fixture.Engine, "gold-late");

    public void Dispose() => _lake.Dispose();

    private static SensorRow S(string sensor, int seconds, double value, DateTimeOffset ingest) => new(sensor, T10.AddSeconds(seconds), value, "normal", ingest);

    /// <summary>Batch 1: s1 at 10:00:10 and 10:00:40, 10:01:20 → watermark 10:01:10, so the 10:00 minute is final.</summary>
    private static readonly SensorRow[] Batch1 = [S("s1", 10, 50, I1), S("s1", 40, 52, I1), S("s1", 80, 54, I1)];

    /// <summary>
    /// Batch 2: 10:00:50 arrives after the 10:00 minute became final (late); 10:01:05 is out of order but its minute is still open
    /// (on time); 10:02:30 moves the watermark to 10:02:20, closing 10:01.
    /// </summary>
    private static readonly SensorRow[] Batch2 = [S("s1", 50, 60, I2), S("s1", 65, 56, I2), S("s1", 150, 51, I2)];

    /// <summary>Batch 3: a second late batch for 10:00, the first late one for 10:01, and s2's only reading, late on arrival.</summary>
    private static readonly SensorRow[] Batch3 = [S("s1", 20, 58, I3), S("s1", 110, 58, I3), S("s2", 30, 70, I3)];

    private const string CorrectionColumns =
        "sensor_id, strftime(window_start, '%H:%M'), late_events, late_batches, strftime(revised_at, '%H:%M'), events_on_time, events, " +
        "value_avg_on_time, value_avg, value_min_on_time, value_min, value_max_on_time, value_max";

    private Task<List<string>> CorrectionsAsync(string table = "sensor_metrics_1m_corrections") =>
        _lake.RowsAsync("gold/" + table, CorrectionColumns, "sensor_id, window_start");

    private Task<List<string>> WindowsAsync() =>
        _lake.RowsAsync("gold/sensor_metrics_1m", "sensor_id, strftime(window_start, '%H:%M'), events, value_avg, late_events, is_final", "sensor_id, window_start");

    private async Task<long> VersionAsync(string table) => (await _lake.Table("gold/" + table).GetSnapshotAsync()).Version;

    /// <summary>Lands each batch in silver and runs gold after it, as a stream's micro-batches would.</summary>
    private async Task LandAndRunAsync(params SensorRow[][] batches)
    {
        foreach (var batch in batches)
        {
            await _lake.AppendSensorsAsync(batch);
            await _lake.RunAsync("sensors");
        }
    }

    [Fact]
    public async Task Run_LateBatchAfterFinality_CorrectionHoldsOnTimeAndCorrectedAndWindowShowsCorrected()
    {
        await _lake.AppendSensorsAsync(Batch1);
        await _lake.RunAsync("sensors");
        Assert.Empty(await CorrectionsAsync());
        Assert.Equal(["s1|10:00|2|51.0|0|true", "s1|10:01|1|54.0|0|false"], await WindowsAsync());

        await _lake.AppendSensorsAsync(Batch2);
        var run = await _lake.RunAsync("sensors");

        // Two rows were behind the watermark when they arrived (the run's count); only one was after its window's end.
        Assert.Equal(2, run.LateEvents);
        // The on-time answer of 10:00 (2 readings, avg 51) stays next to the corrected one (3 readings, avg 54).
        Assert.Equal(["s1|10:00|1|1|12:01|2|3|51.0|54.0|50.0|50.0|52.0|60.0"], await CorrectionsAsync());
        // 10:01:05 arrived before 10:01 was final: on time, no correction for 10:01.
        Assert.Equal(["s1|10:00|3|54.0|1|true", "s1|10:01|2|55.0|0|true", "s1|10:02|1|51.0|0|false"], await WindowsAsync());
        // Of the five 5-minute windows holding 10:00:50 only the one starting 09:56 had ended (10:01): it alone is corrected.
        Assert.Equal(["09:56|1|2|3"], await _lake.RowsAsync("gold/sensor_metrics_5m_corrections",
            "strftime(window_start, '%H:%M'), late_batches, events_on_time, events", "window_start"));
    }

    [Fact]
    public async Task Run_TwoLateBatches_OneRowPerWindowCountingBothAndTheOnTimeResultUnchanged()
    {
        await LandAndRunAsync(Batch1, Batch2);
        await _lake.AppendSensorsAsync(Batch3);

        var run = await _lake.RunAsync("sensors");

        Assert.Equal(3, run.LateEvents);
        Assert.Equal(
        [
            // Two late readings in two batches, the last at 12:02; on time still the 2 readings of batch 1.
            "s1|10:00|2|2|12:02|2|4|51.0|55.0|50.0|50.0|52.0|60.0",
            "s1|10:01|1|1|12:02|2|3|55.0|56.0|54.0|54.0|56.0|58.0",
            // Every reading of s2's window arrived late: no on-time result.
            "s2|10:00|1|1|12:02|0|1|NULL|70.0|NULL|70.0|NULL|70.0",
        ], await CorrectionsAsync());
        // The windowed table holds the corrected result.
        Assert.Equal(["s1|10:00|4|55.0|2|true", "s1|10:01|3|56.0|1|true", "s1|10:02|1|51.0|0|false", "s2|10:00|1|70.0|1|true"], await WindowsAsync());
    }

    [Fact]
    public async Task Run_EventAtTheWatermarkBoundary_LateOnlyWhenTheWatermarkHadReachedTheWindowEnd()
    {
        // Newest 10:03:10 → watermark exactly 10:03:00, the end of the 10:02 minute.
        await _lake.AppendSensorsAsync([S("s1", 130, 50, I1), S("s1", 190, 50, I1)]);
        await _lake.RunAsync("sensors");
        // 10:02:59.999999 is in the 10:02 minute, which the watermark has reached: late. 10:03:00 opens the next minute: on time.
        await _lake.AppendSensorsAsync([new SensorRow("s1", T10.AddSeconds(180).AddTicks(-10), 60, "normal", I2), S("s1", 180, 60, I2)]);

        await _lake.RunAsync("sensors");

        Assert.Equal(["s1|10:02|1|1|12:01|1|2|50.0|55.0|50.0|50.0|50.0|60.0"], await CorrectionsAsync());
        Assert.Equal(["s1|10:02|2|55.0|1|true", "s1|10:03|2|55.0|0|false"], await WindowsAsync());
    }

    [Fact]
    public async Task Run_Again_SameSilverVersion_CorrectionsUntouched()
    {
        await LandAndRunAsync(Batch1, Batch2);
        var before = await CorrectionsAsync();
        var version = await VersionAsync("sensor_metrics_1m_corrections");

        var again = await _lake.RunAsync("sensors");

        Assert.True(again.NothingNew);
        Assert.Equal(version, await VersionAsync("sensor_metrics_1m_corrections"));
        Assert.Equal(before, await CorrectionsAsync());
    }

    [Fact]
    public async Task Rerun_DateRange_OnTimeResultsSurviveAndConsumedVersionsUnmoved()
    {
        await LandAndRunAsync(Batch1, Batch2, Batch3);
        var corrections = await CorrectionsAsync();
        var windows = await WindowsAsync();
        string[] tables = ["sensor_metrics_1m", "sensor_metrics_1m_corrections", "sensor_metrics_5m", "sensor_metrics_5m_corrections", "alerts"];
        var consumed = new List<long?>();
        foreach (var t in tables) consumed.Add((await _lake.Table("gold/" + t).GetSnapshotAsync()).TransactionVersion(GoldTables.AppId("sensors")));
        var silver = (await _lake.Table("silver/sensors").GetSnapshotAsync()).Version;
        var version = await VersionAsync("sensor_metrics_1m_corrections");

        var rerun = await _lake.RunAsync("sensors", new GoldRunOptions { From = new DateOnly(2024, 5, 1), To = new DateOnly(2024, 5, 1) });

        Assert.Equal("rerun", rerun.Kind);
        Assert.Equal(version + 1, await VersionAsync("sensor_metrics_1m_corrections"));
        Assert.Equal(corrections, await CorrectionsAsync());
        Assert.Equal(windows, await WindowsAsync());
        // The stream resumes from these (the silver version each gold table consumed): a rerun neither moves nor removes them.
        foreach (var (t, i) in tables.Select((t, i) => (t, i)))
            Assert.Equal(consumed[i], (await _lake.Table("gold/" + t).GetSnapshotAsync()).TransactionVersion(GoldTables.AppId("sensors")));
        Assert.Equal(silver, (await _lake.Table("silver/sensors").GetSnapshotAsync()).Version);
        Assert.Equal(2, consumed[0]);
    }

    [Fact]
    public async Task Run_FromScratchAfterThreeIncrementalRuns_SameCorrectionRowsInEveryColumn()
    {
        await LandAndRunAsync(Batch1, Batch2, Batch3);
        string[] tables = ["sensor_metrics_1m_corrections", "sensor_metrics_5m_corrections"];
        var incremental = new List<List<string>>();
        foreach (var t in tables) incremental.Add(await _lake.RowsAsync("gold/" + t, "*", "sensor_id, window_start"));

        // Gold rebuilt in one run over all three batches: lateness comes from the ingest order in silver, not from which run saw what.
        Directory.Delete(Path.Combine(_lake.Folder, "gold"), recursive: true);
        var rebuilt = await _lake.RunAsync("sensors");

        Assert.Equal(-1, rebuilt.SilverFromVersion);
        Assert.Equal([3, 4], incremental.Select(r => r.Count));
        foreach (var (t, i) in tables.Select((t, i) => (t, i)))
            Assert.Equal(incremental[i], await _lake.RowsAsync("gold/" + t, "*", "sensor_id, window_start"));
    }

    [Fact]
    public async Task Run_LateReadingRaisesAWindowThatAlreadyAlerted_NoSecondAlert()
    {
        await _lake.AppendSensorsAsync([S("s3", 5, 101, I1), S("s3", 80, 60, I1)]);
        await _lake.RunAsync("sensors");
        var first = await _lake.RowsAsync("gold/alerts", "rule, key, value, detected_at", "alert_id");

        // A late, higher reading in the same minute: the window is corrected, the alert stays the one first found.
        await _lake.AppendSensorsAsync([S("s3", 15, 105, I2)]);
        await _lake.RunAsync("sensors");
        await _lake.RunAsync("sensors", new GoldRunOptions { From = new DateOnly(2024, 5, 1), To = new DateOnly(2024, 5, 1) });

        Assert.Equal(["temperature_high|s3|101.0"], first.Select(r => r[..r.LastIndexOf('|')]));
        Assert.Equal(first, await _lake.RowsAsync("gold/alerts", "rule, key, value, detected_at", "alert_id"));
        Assert.Equal(["s3|10:00|1|1|12:01|1|2|101.0|103.0|101.0|101.0|101.0|105.0"], await CorrectionsAsync());
    }

    [Fact]
    public async Task Run_LateBatchForAFiveMinuteWindow_CorrectionOfThatWindowOnly()
    {
        // Readings 10:00:30 .. 10:06:30 → watermark 10:06:20: the 5-minute windows starting 10:00 and 10:01 are final.
        await _lake.AppendSensorsAsync(Enumerable.Range(0, 7).Select(m => S("s1", 30 + 60 * m, 50, I1)));
        await _lake.RunAsync("sensors");
        // 10:03:45 is in the windows starting 09:59 to 10:03: late for the three that had ended (by 10:06), on time for the others.
        await _lake.AppendSensorsAsync([S("s1", 225, 80, I2)]);

        await _lake.RunAsync("sensors");

        var rows = await _lake.RowsAsync("gold/sensor_metrics_5m_corrections", "strftime(window_start, '%H:%M'), late_events, events_on_time, events, value_max", "window_start");
        Assert.Equal(["09:59|1|4|5|80.0", "10:00|1|5|6|80.0", "10:01|1|5|6|80.0"], rows);
    }

    [Fact]
    public async Task Run_LatePageView_PageCorrectionHoldsOnTimeAndCorrectedPercentileAndErrorRate()
    {
        const string Page = "https://x.example/";
        await _lake.AppendWebAsync(
        [
            new("a0", T10.AddSeconds(10), Page, "s", 100, null, 200, I1),
            new("a1", T10.AddSeconds(20), Page, "s", 200, null, 200, I1),
            new("a2", T10.AddSeconds(90), Page, "s", 50, null, 200, I1),
        ]);
        await _lake.RunAsync();
        // Arrive with the watermark at 10:01:20, after the 10:00 minute ended: an error, slow; and the only view of another page.
        await _lake.AppendWebAsync([new("b0", T10.AddSeconds(30), Page, "s", 300, null, 500, I2), new("b1", T10.AddSeconds(5), "https://y.example/", "s", 400, null, 200, I2)]);

        await _lake.RunAsync();

        Assert.Equal(
        [
            "https://x.example/|10:00|1|2|3|150.0|200.0|195.0|290.0|0.0|0.333333",
            // All late: no on-time answer (0 views, null measures), not a division by zero.
            "https://y.example/|10:00|1|0|1|NULL|400.0|NULL|400.0|NULL|0.0",
        ], await _lake.RowsAsync("gold/page_metrics_1m_corrections",
            "page_url, strftime(window_start, '%H:%M'), late_batches, events_on_time, events, tti_avg_ms_on_time, tti_avg_ms, " +
            "round(tti_p95_ms_on_time, 6), round(tti_p95_ms, 6), error_rate_on_time, round(error_rate, 6)", "page_url, window_start"));
        Assert.Equal(["10:00|3|200.0|290.0|1", "10:01|1|50.0|50.0|0", "10:00|1|400.0|400.0|1"], await _lake.RowsAsync("gold/page_metrics_1m",
            "strftime(window_start, '%H:%M'), events, tti_avg_ms, round(tti_p95_ms, 6), late_events", "page_url, window_start"));
    }

    [Fact]
    public async Task SynapseScript_AfterLateEvents_ServesEachCorrectionsTableAsATypedView()
    {
        await LandAndRunAsync(Batch1, Batch2);

        var script = await SynapseScript.FromLakeAsync(_lake.Root, _lake.Engine, SynapseTestLake.Options());

        Assert.Contains("gold.sensor_metrics_1m_corrections", script.Views.Select(v => v.Layer + "." + v.Table));
        Assert.Contains("gold.sensor_metrics_5m_corrections", script.Views.Select(v => v.Layer + "." + v.Table));
        var view = TSqlParsing.Single<CreateOrAlterViewStatement>(script.Batches.Single(b => b.Title == "view gold.sensor_metrics_1m_corrections").Sql);
        var columns = TSqlParsing.RowsetOf(view).WithColumns.Select(c => c.ColumnIdentifier.Value + " " + TSqlParsing.TypeOf(c)).ToList();
        Assert.Equal(15, columns.Count);
        Assert.Contains("late_batches BIGINT", columns);
        Assert.Contains("events_on_time BIGINT", columns);
        Assert.Contains("value_avg_on_time FLOAT", columns);
        Assert.Contains(columns, c => c.StartsWith("revised_at DATETIME2", StringComparison.Ordinal));
    }
}
