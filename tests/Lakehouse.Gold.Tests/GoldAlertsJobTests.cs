using System.Text.Json;
using Lakehouse.Core.Webhooks;
using Lakehouse.Testing;

namespace Lakehouse.Gold.Tests;

/// <summary>The gold job's alerts end to end: raised once per condition across runs, reruns and restarts, and delivered through the outbox.</summary>
public sealed class GoldAlertsJobTests(EngineFixture fixture) : IClassFixture<EngineFixture>, IDisposable
{
    private static readonly DateTimeOffset T0 = new(2024, 5, 1, 10, 0, 0, TimeSpan.Zero);
    private readonly GoldLake _lake = new(fixture.Engine, "gold-alerts");

    public void Dispose() => _lake.Dispose();

    /// <summary>Sensor s1 reads 70 °F every 30 s for 10 minutes, then 120 °F once at 10:10:00; s2 reads normal, then 'critical' once.</summary>
    private static List<SensorRow> Readings(DateTimeOffset ingest) =>
    [
        .. Enumerable.Range(0, 20).Select(i => new SensorRow("s1", T0.AddSeconds(30 * i), 70, "normal", ingest)),
        new SensorRow("s1", T0.AddMinutes(10), 120, "normal", ingest),
        .. Enumerable.Range(0, 20).Select(i => new SensorRow("s2", T0.AddSeconds(30 * i), 60, i == 7 ? "critical" : "normal", ingest)),
    ];

    private Task<List<string>> AlertsAsync() =>
        _lake.RowsAsync("gold/alerts", "rule, key, strftime(window_start, '%H:%M:%S'), CAST(value AS VARCHAR), CAST(epoch_us(detected_at) AS VARCHAR)", "rule, key, window_start");

    /// <summary>
    /// A rerun first catches up: what the catch-up did (its date, its new alerts) is this run's, reported and recorded in
    /// gold._runs, even when the rerun's own range holds no rows (it said "up to date" and recorded nothing).
    /// </summary>
    [Fact]
    public async Task Rerun_RangeWithoutRowsAfterNewSilverCommits_ReportsAndRecordsTheCatchUp()
    {
        var readings = Readings(T0.AddHours(1));
        await _lake.AppendSensorsAsync(readings.Where(r => r.Sensor == "s2"));
        var first = await _lake.RunAsync("sensors");
        Assert.Equal(1, first.AlertsNew); // s2's critical reading
        await _lake.AppendSensorsAsync(readings.Where(r => r.Sensor == "s1").Select(r => r with { Ingest = T0.AddHours(2) }));

        var rerun = await _lake.RunAsync("sensors", new GoldRunOptions { From = new(2030, 1, 1), To = new(2030, 1, 1) });

        Assert.False(rerun.NothingNew);
        Assert.Equal((0L, 1L), (rerun.SilverFromVersion, rerun.SilverToVersion));
        Assert.Equal([new DateOnly(2024, 5, 1)], rerun.Dates);
        Assert.Equal(2, rerun.AlertsNew); // s1's 120 °F at 10:10: temperature_high and value_spike
        Assert.Equal(2, rerun.Tables.Single(t => t.Table == "alerts").Rows);
        Assert.Equal(1, rerun.Tables.Single(t => t.Table == "sensor_metrics_1m").Dates);
        Assert.Equal(["incremental|committed|0|1|1", "rerun|committed|1|1|2"],
            await _lake.RowsAsync("gold/_runs", "kind || '|' || status || '|' || silver_version_to || '|' || dates_recomputed || '|' || alerts_new", "started_at"));
    }

    [Fact]
    public async Task Run_RerunAndNewData_EachConditionRaisedOnceAndKeepsItsFirstDetection()
    {
        await _lake.AppendSensorsAsync(Readings(T0.AddHours(1)));
        var first = await _lake.RunAsync("sensors");
        var alerts = await AlertsAsync();

        // 120 °F at 10:10 is a temperature_high in the minute 10:10 and a rise of 71 % over 70 °F 30 s before (value_spike);
        // s2's critical reading at 10:03:30 is a status_error. The watermark (10:09:50) has not left either sensor silent for 5 minutes.
        Assert.Equal(["status_error|s2|10:03:00", "temperature_high|s1|10:10:00", "value_spike|s1|10:10:00"],
            alerts.Select(a => string.Join('|', a.Split('|')[..3])).ToList());
        Assert.Equal(alerts.Count, first.AlertsNew);

        var rerun = await _lake.RunAsync("sensors", new GoldRunOptions { From = new(2024, 5, 1), To = new(2024, 5, 1) });
        Assert.Equal(0, rerun.AlertsNew);
        Assert.Equal(alerts, await AlertsAsync());

        // s1 reports again an hour later: its gap (10:10 → 11:10) is a sensor_silent, and s2, silent since 10:09:30 while the
        // watermark moved to 11:09:50, gets a trailing sensor_silent.
        await _lake.AppendSensorsAsync([new SensorRow("s1", T0.AddHours(1).AddMinutes(10), 70, "normal", T0.AddHours(2))]);
        var later = await _lake.RunAsync("sensors");
        var silent = (await AlertsAsync()).Where(a => a.StartsWith("sensor_silent|", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, later.AlertsNew);
        Assert.Equal(["sensor_silent|s1|10:10:00", "sensor_silent|s2|10:09:30"], silent.Select(a => string.Join('|', a.Split('|')[..3])));

        // s2 resumes at 11:20: its silence is now a gap between two readings, the same condition with the same id, so nothing new
        // for s2; s1, silent since 11:10 with the watermark at 11:19:50, gets its own new trailing silence.
        await _lake.AppendSensorsAsync([new SensorRow("s2", T0.AddHours(1).AddMinutes(20), 60, "normal", T0.AddHours(3))]);
        var resumed = await _lake.RunAsync("sensors");
        Assert.Equal(1, resumed.AlertsNew);
        Assert.Equal(["sensor_silent|s1|10:10:00", "sensor_silent|s1|11:10:00", "sensor_silent|s2|10:09:30"],
            (await AlertsAsync()).Where(a => a.StartsWith("sensor_silent|", StringComparison.Ordinal)).Select(a => string.Join('|', a.Split('|')[..3])));
        Assert.Equal(silent, (await AlertsAsync()).Where(a => a.StartsWith("sensor_silent|", StringComparison.Ordinal) && !a.Contains("|11:10:00|", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Run_OneReadingStampedYearsAheadOfItsIngest_CountedInItsWindowButTheWatermarkAndAlertsIgnoreIt()
    {
        // s3's clock says 2099: before the future tolerance, its one reading moved the watermark to 2099, so every window was
        // final at once and s1 and s2 were "silent" from 10:10 until 2099.
        var ingest = T0.AddHours(1);
        await _lake.AppendSensorsAsync([.. Readings(ingest), new SensorRow("s3", new DateTimeOffset(2099, 1, 1, 0, 0, 0, TimeSpan.Zero), 65, "normal", ingest)]);

        var run = await _lake.RunAsync("sensors");

        Assert.Equal(T0.AddMinutes(10).AddSeconds(-10), run.Watermark);
        Assert.Equal(["status_error|s2|10:03:00", "temperature_high|s1|10:10:00", "value_spike|s1|10:10:00"],
            (await AlertsAsync()).Select(a => string.Join('|', a.Split('|')[..3])).ToList());
        Assert.Equal(["s1 10:08 true 2", "s1 10:10 false 1", "s3 2099-01-01 00:00 false 1"],
            (await _lake.RowsAsync("gold/sensor_metrics_1m", "sensor_id || ' ' || strftime(window_start, CASE WHEN year(window_start) = 2099 THEN '%Y-%m-%d %H:%M' ELSE '%H:%M' END) || ' ' || CAST(is_final AS VARCHAR) || ' ' || CAST(events AS VARCHAR)",
                "window_start, sensor_id")).Where(r => r.StartsWith("s3", StringComparison.Ordinal) || r.StartsWith("s1 10:08", StringComparison.Ordinal) || r.StartsWith("s1 10:10", StringComparison.Ordinal)).ToList());

        // A reading two hours ahead of its ingest moves the watermark once the tolerance allows it (simulated data that runs ahead
        // of the clock): then the two sensors have been silent since their last readings.
        using var lenient = new GoldLake(_lake.Engine, "gold-alerts-lenient");
        await lenient.AppendSensorsAsync([.. Readings(ingest), new SensorRow("s3", ingest.AddHours(2), 65, "normal", ingest)]);
        Assert.Equal(T0.AddMinutes(10).AddSeconds(-10), (await lenient.RunAsync("sensors")).Watermark);
        var options = new GoldRunOptions();
        options.Windows = options.Windows with { FutureTolerance = TimeSpan.FromHours(3) };
        var ahead = await lenient.RunAsync("sensors", new GoldRunOptions { Windows = options.Windows, From = new(2024, 5, 1), To = new(2024, 5, 1) });
        Assert.Equal(ingest.AddHours(2).AddSeconds(-10), ahead.Watermark);
    }

    [Fact]
    public async Task Run_WebhookDownThenUp_PendingAlertsPostedOnceByTheNextRun()
    {
        await _lake.AppendSensorsAsync(Readings(T0.AddHours(1)));
        int closedPort;
        await using (var closed = WebhookReceiver.Start(_ => new Reply(200))) closedPort = closed.Port;
        var down = new WebhookOptions { Uri = new Uri($"http://127.0.0.1:{closedPort}/hook"), MaxAttempts = 2, BaseDelay = TimeSpan.FromMilliseconds(10), Timeout = TimeSpan.FromSeconds(2) };

        var first = await _lake.RunAsync("sensors", new GoldRunOptions { Webhook = down });

        Assert.True(first.AlertsNew > 0);
        Assert.Equal((0L, first.AlertsNew), (first.AlertsDelivered, first.AlertsPending));

        await using var receiver = WebhookReceiver.Start(_ => new Reply(200));
        var up = new WebhookOptions { Uri = receiver.Uri };
        var second = await _lake.RunAsync("sensors", new GoldRunOptions { Webhook = up });
        var third = await _lake.RunAsync("sensors", new GoldRunOptions { Webhook = up });

        Assert.Equal((0L, first.AlertsNew, 0L), (second.AlertsNew, second.AlertsDelivered, second.AlertsPending));
        Assert.Equal((0L, 0L), (third.AlertsDelivered, third.AlertsPending));
        var posted = receiver.Requests.Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("alert_id").GetString()).ToList();
        Assert.Equal(first.AlertsNew, posted.Count);
        Assert.Equal(posted.Order(StringComparer.Ordinal), (await _lake.RowsAsync("gold/alerts", "alert_id", "alert_id")));
        Assert.Equal(posted.Order(StringComparer.Ordinal), (await _lake.RowsAsync("gold/_alert_deliveries", "alert_id", "alert_id")));
    }

    /// <summary>
    /// A day that arrives late is in the baseline of the 7 days after it: a later day whose p95 is above 1.5 × the baseline only
    /// once that day is there is judged again and raises the alert, as one run over all the rows does.
    /// </summary>
    [Fact]
    public async Task Run_LateDayCompletesABaseline_RegressionOfALaterDayRaisedAsByOneRunOverAllRows()
    {
        const string page = "https://x.example/p";
        // 20 views a day, every TTI of a day equal, so each day's p95 is that TTI: 1000 ms on May 3 and 4, 2000 ms on May 5.
        static IEnumerable<WebRow> Day(int day, double tti, DateTimeOffset ingest) =>
            Enumerable.Range(0, 20).Select(i => new WebRow($"d{day}-{i}", new DateTimeOffset(2024, 5, day, 12, i, 0, TimeSpan.Zero), page, $"s{day}", tti, null, 200, ingest));
        await _lake.AppendWebAsync([.. Day(3, 1000, T0), .. Day(4, 1000, T0), .. Day(5, 2000, T0)]);

        var first = await _lake.RunAsync();
        Assert.Equal(0, first.AlertsNew); // May 5 has 2 days of baseline, fewer than the 3 it needs

        // May 2 arrives late (p95 1000 ms): May 5 now has 3 baseline days averaging 1000 ms, and 2000 > 1.5 × 1000.
        await _lake.AppendWebAsync(Day(2, 1000, T0.AddDays(5)));
        var late = await _lake.RunAsync();

        Assert.Equal(1, late.AlertsNew);
        Assert.Equal([$"tti_p95_regression|{page}|2024-05-05|2000.0|1500.0"],
            await _lake.RowsAsync("gold/alerts", "rule, key, strftime(window_start, '%Y-%m-%d'), CAST(value AS VARCHAR), CAST(threshold AS VARCHAR)", "window_start"));
    }

    /// <summary>
    /// A late reading just before midnight is the earlier reading of a spike in the next day's first minute: that day's alerts are
    /// found again, as one run over all the rows finds them.
    /// </summary>
    [Fact]
    public async Task Run_LateReadingJustBeforeMidnight_SpikeInTheNextDaysFirstMinuteRaised()
    {
        var midnight = new DateTimeOffset(2024, 5, 2, 0, 0, 0, TimeSpan.Zero);
        await _lake.AppendSensorsAsync(
        [
            new SensorRow("p1", midnight.AddMinutes(-10), 50, "normal", midnight.AddHours(1), "pressure"),
            new SensorRow("p1", midnight.AddSeconds(20), 70, "normal", midnight.AddHours(1), "pressure"),
            new SensorRow("p2", midnight.AddMinutes(10), 50, "normal", midnight.AddHours(1), "pressure"),
        ]);
        await _lake.RunAsync("sensors");
        Assert.DoesNotContain(await _lake.RowsAsync("gold/alerts", "rule", "rule"), r => r == "value_spike");

        // 50 at 23:59:50, 30 s before the 70 at 00:00:20: a rise of (70 - 50) / 50 = 40 % in the minute from 00:00 on May 2.
        await _lake.AppendSensorsAsync([new SensorRow("p1", midnight.AddSeconds(-10), 50, "normal", midnight.AddHours(2), "pressure")]);
        await _lake.RunAsync("sensors");

        Assert.Equal(["value_spike|p1|2024-05-02 00:00:00|0.4"],
            await _lake.RowsAsync("gold/alerts", "rule, key, strftime(window_start, '%Y-%m-%d %H:%M:%S'), CAST(value AS VARCHAR)", "window_start", "rule = 'value_spike'"));
    }

    /// <summary>
    /// A late reading inside a silence that spans two whole empty days: its pause ends at the sensor's next reading, two days
    /// later, as one run over all the rows finds it, not at the watermark as if the sensor had sent nothing since.
    /// </summary>
    [Fact]
    public async Task Run_LateReadingInASilenceOverTwoEmptyDays_PauseEndsAtTheNextReadingNotTheWatermark()
    {
        DateTimeOffset At(int day, int hour, int minute = 0) => new(2024, 5, day, hour, minute, 0, TimeSpan.Zero);
        await _lake.AppendSensorsAsync(
        [
            new SensorRow("x", At(1, 10), 1000, "normal", At(5, 0), "pressure"),
            new SensorRow("x", At(4, 10), 1000, "normal", At(5, 0), "pressure"),
            new SensorRow("y", At(1, 10), 1000, "normal", At(5, 0), "pressure"),
            new SensorRow("y", At(4, 10, 10), 1000, "normal", At(5, 0), "pressure"),
        ]);
        await _lake.RunAsync("sensors");

        await _lake.AppendSensorsAsync([new SensorRow("x", At(2, 12), 1000, "normal", At(5, 1), "pressure")]);
        await _lake.RunAsync("sensors");

        // x read on May 2 at 12:00 and next on May 4 at 10:00: a pause of 46 hours.
        var pause = (At(4, 10) - At(2, 12)).TotalSeconds;
        Assert.Equal(165_600, pause);
        Assert.Equal([$"2024-05-02 12:00|2024-05-04 10:00|{pause:0.0}"],
            await _lake.RowsAsync("gold/alerts", "strftime(window_start, '%Y-%m-%d %H:%M'), strftime(window_end, '%Y-%m-%d %H:%M'), CAST(value AS VARCHAR)",
                "window_start", "key = 'x' AND rule = 'sensor_silent' AND window_start = TIMESTAMPTZ '2024-05-02 12:00:00+00'"));
    }

    [Fact]
    public async Task Run_WebLogs_EveryGoldTableOfTheDatasetWritten()
    {
        var rows = Enumerable.Range(0, 50).Select(i => new WebRow($"e{i}", T0.AddSeconds(17 * i), "https://x.example/p" + (i % 3), "s" + (i % 5), 100 + i, i, 200, T0.AddHours(1))).ToList();
        await _lake.AppendWebAsync(rows);

        var result = await _lake.RunAsync();

        Assert.Equal(["page_performance_daily", "page_metrics_1m", "page_metrics_1m_corrections", "page_metrics_5m", "page_metrics_5m_corrections", "page_sessions", "alerts"],
            result.Tables.Select(t => t.Table));
        Assert.Equal(["0", "0"], [.. (await _lake.RowsAsync("gold/page_metrics_1m_corrections", "count(*)", "1")), .. (await _lake.RowsAsync("gold/page_metrics_5m_corrections", "count(*)", "1"))]);
        Assert.Equal(["50"], await _lake.RowsAsync("gold/page_metrics_1m", "sum(events)", "1"));
        Assert.Equal(["250"], await _lake.RowsAsync("gold/page_metrics_5m", "sum(events)", "1"));
        Assert.Equal(["5|50"], await _lake.RowsAsync("gold/page_sessions", "count(*), sum(events)", "1"));
    }
}
