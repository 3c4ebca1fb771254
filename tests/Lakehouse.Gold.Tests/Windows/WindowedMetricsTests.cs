using Lakehouse.Gold.Windows;
using Lakehouse.Testing;
using static Lakehouse.Gold.Tests.Windows.Relations;

namespace Lakehouse.Gold.Tests.Windows;

public sealed class WindowedMetricsTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    private const string NoWatermark = "NULL";

    private FixtureStaging Staging => new(fixture);

    private List<Reference.PageWindow> Pages(string sql) =>
        [.. Query(fixture, $"SELECT * FROM ({sql}) ORDER BY page_url, window_start").Select(r => new Reference.PageWindow(
            (DateOnly)r["event_date"]!, (string?)r["page_url"], (DateTimeOffset)r["window_start"]!, (DateTimeOffset)r["window_end"]!,
            (long)r["events"]!, (double?)r["tti_avg_ms"], (double?)r["tti_p95_ms"], (double)r["error_rate"]!, (long)r["late_events"]!, (bool)r["is_final"]!))];

    private List<Reference.SensorWindow> Sensors(string sql) =>
        [.. Query(fixture, $"SELECT * FROM ({sql}) ORDER BY sensor_id, window_start").Select(r => new Reference.SensorWindow(
            (DateOnly)r["event_date"]!, (string?)r["sensor_id"], (DateTimeOffset)r["window_start"]!, (DateTimeOffset)r["window_end"]!,
            (long)r["events"]!, (double?)r["value_avg"], (double?)r["value_min"], (double?)r["value_max"], (long)r["late_events"]!, (bool)r["is_final"]!))];

    private static void Same(List<Reference.PageWindow> expected, List<Reference.PageWindow> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        foreach (var (e, a) in expected.Zip(actual))
        {
            Assert.Equal(e with { TtiAvgMs = null, TtiP95Ms = null, ErrorRate = 0 }, a with { TtiAvgMs = null, TtiP95Ms = null, ErrorRate = 0 });
            Close(e.TtiAvgMs, a.TtiAvgMs);
            Close(e.TtiP95Ms, a.TtiP95Ms);
            Close(e.ErrorRate, a.ErrorRate);
        }
    }

    private static void Same(List<Reference.SensorWindow> expected, List<Reference.SensorWindow> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        foreach (var (e, a) in expected.Zip(actual))
        {
            Assert.Equal(e with { ValueAvg = null }, a with { ValueAvg = null });
            Close(e.ValueAvg, a.ValueAvg);
        }
    }

    private static void Close(double? expected, double? actual)
    {
        Assert.Equal(expected is null, actual is null);
        if (expected is { } e) Assert.True(Math.Abs(e - actual!.Value) <= 1e-9 * Math.Max(1, Math.Abs(e)), $"expected {e:R}, got {actual:R}");
    }

    [Fact]
    public void PageMetrics1m_EventsAtMinuteEdges_EachInTheMinuteThatHoldsIt()
    {
        WebEvent[] events =
        [
            new(At("2026-03-01 10:00:00"), "/a", TtiMs: 100),
            new(At("2026-03-01 10:00:59.999999"), "/a", TtiMs: 300, Status: 500),
            new(At("2026-03-01 10:01:00"), "/a", TtiMs: 50),
        ];

        var windows = Pages(WindowedMetrics.PageMetrics1m(Staging, WebSql(events), NoWatermark));

        Assert.Equal(
            [
                new(new DateOnly(2026, 3, 1), "/a", At("2026-03-01 10:00:00"), At("2026-03-01 10:01:00"), 2, 200, 290, 0.5, 0, false),
                new Reference.PageWindow(new DateOnly(2026, 3, 1), "/a", At("2026-03-01 10:01:00"), At("2026-03-01 10:02:00"), 1, 50, 50, 0, 0, false),
            ],
            windows);
        Same(Reference.PageWindows(events, 1, null), windows);
    }

    [Fact]
    public void PageMetrics5m_OneEvent_InExactlyTheFiveWindowsThatHoldIt()
    {
        WebEvent[] events = [new(At("2026-03-01 10:02:30"), "/a", TtiMs: 120)];

        var windows = Pages(WindowedMetrics.PageMetrics5m(Staging, WebSql(events), NoWatermark));

        Assert.Equal(["09:58", "09:59", "10:00", "10:01", "10:02"], windows.Select(w => w.WindowStart.ToString("HH:mm", System.Globalization.CultureInfo.InvariantCulture)));
        Assert.All(windows, w => Assert.Equal((w.WindowStart.AddMinutes(5), 1L, 120.0), (w.WindowEnd, w.Events, w.TtiP95Ms!.Value)));
    }

    [Fact]
    public void PageMetrics5m_EventAtAWindowsEnd_NotInThatWindowButInTheNextFour()
    {
        WebEvent[] events =
        [
            new(At("2026-03-01 10:00:00"), "/a", TtiMs: 10),
            new(At("2026-03-01 10:04:59.999999"), "/a", TtiMs: 20),
            new(At("2026-03-01 10:05:00"), "/a", TtiMs: 30),
        ];

        var windows = Pages(WindowedMetrics.PageMetrics5m(Staging, WebSql(events), NoWatermark)).ToDictionary(w => w.WindowStart);

        // [10:00, 10:05) holds the first two; [10:01, 10:06) the last two; [10:05, 10:10) only the last.
        Assert.Equal(2, windows[At("2026-03-01 10:00:00")].Events);
        Assert.Equal(15, windows[At("2026-03-01 10:00:00")].TtiAvgMs);
        Assert.Equal(2, windows[At("2026-03-01 10:01:00")].Events);
        Assert.Equal(25, windows[At("2026-03-01 10:01:00")].TtiAvgMs);
        Assert.Equal(1, windows[At("2026-03-01 10:05:00")].Events);
        Assert.Equal(9 + 1, windows.Count); // 09:56 .. 10:05 start one window each
        Same(Reference.PageWindows(events, 5, null), [.. windows.Values.OrderBy(w => w.WindowStart)]);
    }

    [Fact]
    public void PageMetrics5m_NoTtiInAWindow_AverageAndPercentileNull()
    {
        WebEvent[] events = [new(At("2026-03-01 10:00:10"), "/a", TtiMs: null, Status: 503), new(At("2026-03-01 10:04:10"), "/a", TtiMs: 40)];

        var windows = Pages(WindowedMetrics.PageMetrics5m(Staging, WebSql(events), NoWatermark));

        // Windows starting 09:56 to 09:59 hold only the first event, 10:01 to 10:04 only the second, 10:00 both.
        Assert.Equal([null, null, null, null, 40.0, 40, 40, 40, 40], windows.Select(w => w.TtiP95Ms));
        Assert.Equal([1.0, 1, 1, 1, 0.5, 0, 0, 0, 0], windows.Select(w => w.ErrorRate));
        Same(Reference.PageWindows(events, 5, null), windows);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public void PageMetrics_RandomEventsAcrossMidnight_EqualIndependentComputation(int minutes)
    {
        var events = RandomWebEvents(seed: 7 + minutes, count: 600);
        var watermark = At("2026-03-02 00:03:00");

        var sql = minutes == 1 ? WindowedMetrics.PageMetrics1m(Staging, WebSql(events), Time(watermark)) : WindowedMetrics.PageMetrics5m(Staging, WebSql(events), Time(watermark));
        var windows = Pages(sql);

        var expected = Reference.PageWindows(events, minutes, watermark);
        Same(expected, windows);
        // What the job writes: the windowed table projected from the aggregate it shares with the corrections table.
        var aggregate = minutes == 1 ? WindowedMetrics.Page1m : WindowedMetrics.Page5m;
        Same(expected, Pages(aggregate.Windowed(aggregate.Aggregate(Staging, WebSql(events)), Time(watermark))));
        Assert.Contains(windows, w => w.LateEvents > 0);
        Assert.Contains(windows, w => w.IsFinal);
        Assert.Contains(windows, w => !w.IsFinal);
        if (minutes == 1) Assert.Contains(windows, w => w.TtiP95Ms is null); // a page minute whose events all lack a TTI
        Assert.Equal(2, windows.Select(w => w.EventDate).Distinct().Count());
        Assert.Equal(events.Count * minutes, windows.Sum(w => w.Events));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public void SensorMetrics_Average_AddsTheValuesSorted_SameBitsInAnyOrder(int minutes)
    {
        // Added in the order written, 1e16 + 1 - 1e16 + 1 is 1 (the first 1 is lost to rounding); sorted, -1e16 + 1 + 1 + 1e16 is 0.
        // A double average that depends on the order its rows come in gives different bits from run to run (threads).
        double[] values = [1e16, 1, -1e16, 1];
        var t = At("2026-03-01 10:00:10");
        var late = At("2026-03-01 10:30:00");
        List<SensorReading> Readings(IEnumerable<double> order) =>
            [.. order.Select((v, i) => new SensorReading(t.AddSeconds(i), "s", v, IngestTime: t, ArrivalWatermark: i == 3 ? late : null))];
        var aggregate = minutes == 1 ? WindowedMetrics.Sensor1m : WindowedMetrics.Sensor5m;
        foreach (var order in new[] { values, [.. values.Reverse()], [1, 1e16, 1, -1e16] })
        {
            var readings = Readings(order);
            var builder = minutes == 1 ? WindowedMetrics.SensorMetrics1m(Staging, SensorsSql(readings), NoWatermark) : WindowedMetrics.SensorMetrics5m(Staging, SensorsSql(readings), NoWatermark);
            Assert.All(Sensors(builder), w => Assert.Equal(0.0, w.ValueAvg));
            Assert.All(Sensors(aggregate.Windowed(aggregate.Aggregate(Staging, SensorsSql(readings)), NoWatermark)), w => Assert.Equal(0.0, w.ValueAvg));
            // On time: the three values before the late one, sorted: -1e16 + 1 + 1e16 (or + 1) over three.
            var corrections = Query(fixture, $"SELECT value_avg, value_avg_on_time FROM ({aggregate.Corrections(aggregate.Aggregate(Staging, SensorsSql(readings)))})");
            Assert.NotEmpty(corrections);
            var onTime = order.Take(3).Order().Aggregate(0.0, (sum, v) => sum + v) / 3;
            Assert.All(corrections, c => Assert.Equal((0.0, onTime), ((double?)c["value_avg"], (double?)c["value_avg_on_time"])));
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public void SensorMetrics_ReadingsNearTheLargestDouble_FiniteAverageOfTheirValues(int minutes)
    {
        // value_plausible only warns: such readings reach gold. Their sum overflows a double (it was Infinity); their average does not.
        var t = At("2026-03-01 10:00:10");
        var late = At("2026-03-01 10:30:00");
        SensorReading[] readings =
        [
            new(t, "hot", 1.5e308, IngestTime: t), new(t.AddSeconds(1), "hot", 1.6e308, IngestTime: t),
            new(t.AddSeconds(2), "hot", 1.7e308, IngestTime: late, ArrivalWatermark: late),
            new(t, "cold", -1.7e308, IngestTime: t), new(t.AddSeconds(1), "cold", -1.6e308, IngestTime: t),
        ];
        var aggregate = minutes == 1 ? WindowedMetrics.Sensor1m : WindowedMetrics.Sensor5m;
        var builder = minutes == 1 ? WindowedMetrics.SensorMetrics1m(Staging, SensorsSql(readings), NoWatermark) : WindowedMetrics.SensorMetrics5m(Staging, SensorsSql(readings), NoWatermark);

        var windows = Sensors(builder);
        var corrections = Query(fixture, $"SELECT value_avg_on_time, value_avg FROM ({aggregate.Corrections(aggregate.Aggregate(Staging, SensorsSql(readings)))})");

        // The exact means rounded to a double (Python's fractions).
        Assert.Equal([.. Enumerable.Repeat<double?>(-1.6499999999999999e+308, minutes), .. Enumerable.Repeat<double?>(1.6e308, minutes)], windows.Select(w => w.ValueAvg));
        Assert.Equal(Enumerable.Repeat<(double?, double?)>((1.55e308, 1.6e308), minutes),
            corrections.Select(c => ((double?)c["value_avg_on_time"], (double?)c["value_avg"])));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public void PageMetrics_TtisTooLargeForADecimal_FiniteAverageOfTheirValues(int minutes)
    {
        // An expectation set to warn lets TTIs in the wrong unit through: 1e30 failed the exact decimal sum of the parts, and with it
        // the whole gold run; sums near the largest double overflow. The exact means rounded to a double (Python's fractions).
        var t = At("2026-03-01 10:00:10");
        var late = At("2026-03-01 10:30:00");
        WebEvent[] events =
        [
            new(t, "/unit", TtiMs: 100, IngestTime: t), new(t.AddSeconds(1), "/unit", TtiMs: 1e30, IngestTime: t),
            new(t, "/huge", TtiMs: 1.5e308, IngestTime: t), new(t.AddSeconds(1), "/huge", TtiMs: 1.6e308, IngestTime: t),
            new(t.AddSeconds(2), "/huge", TtiMs: 1.7e308, IngestTime: late, ArrivalWatermark: late),
            new(t, "/mixed", TtiMs: -2e20, IngestTime: t), new(t.AddSeconds(1), "/mixed", TtiMs: 7.25, IngestTime: t), new(t.AddSeconds(2), "/mixed", TtiMs: 1e18, IngestTime: t),
        ];
        var aggregate = minutes == 1 ? WindowedMetrics.Page1m : WindowedMetrics.Page5m;
        var builder = minutes == 1 ? WindowedMetrics.PageMetrics1m(Staging, WebSql(events), NoWatermark) : WindowedMetrics.PageMetrics5m(Staging, WebSql(events), NoWatermark);

        var windows = Pages(builder);
        var corrections = Query(fixture, $"SELECT tti_avg_ms_on_time, tti_avg_ms FROM ({aggregate.Corrections(aggregate.Aggregate(Staging, WebSql(events)))})");

        Assert.Equal([.. Enumerable.Repeat<double?>(1.6e308, minutes), .. Enumerable.Repeat<double?>(-6.633333333333334e+19, minutes), .. Enumerable.Repeat<double?>(5e29, minutes)],
            windows.Select(w => w.TtiAvgMs));
        Assert.Equal(Enumerable.Repeat<(double?, double?)>((1.55e308, 1.6e308), minutes),
            corrections.Select(c => ((double?)c["tti_avg_ms_on_time"], (double?)c["tti_avg_ms"])));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public void SensorMetrics_RandomReadings_EqualIndependentComputation(int minutes)
    {
        var readings = RandomReadings(seed: 11 + minutes, count: 500);
        var watermark = At("2026-03-01 10:12:00");

        var sql = minutes == 1 ? WindowedMetrics.SensorMetrics1m(Staging, SensorsSql(readings), Time(watermark)) : WindowedMetrics.SensorMetrics5m(Staging, SensorsSql(readings), Time(watermark));
        var windows = Sensors(sql);

        Same(Reference.SensorWindows(readings, minutes, watermark), windows);
        var aggregate = minutes == 1 ? WindowedMetrics.Sensor1m : WindowedMetrics.Sensor5m;
        Same(Reference.SensorWindows(readings, minutes, watermark), Sensors(aggregate.Windowed(aggregate.Aggregate(Staging, SensorsSql(readings)), Time(watermark))));
        Assert.Contains(windows, w => w.LateEvents > 0);
        Assert.Contains(windows, w => w.IsFinal);
        Assert.Contains(windows, w => !w.IsFinal);
        Assert.Equal(readings.Count * minutes, windows.Sum(w => w.Events));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public void PageCorrections_RandomEventsInFourBatches_EqualIndependentComputation(int minutes)
    {
        var random = new Random(23 + minutes);
        var batches = Enumerable.Range(0, 4).Select(i => At("2026-03-02 00:00:00").AddMinutes(i)).ToArray();
        // Arrival watermarks are the events' own (random, not tied to the batch): lateness is per row.
        var events = RandomWebEvents(seed: 29 + minutes, count: 600).Select(e => e with { IngestTime = batches[random.Next(batches.Length)] }).ToList();
        // A page whose only event is late for every window that holds it: no on-time row, null on-time measures.
        events.Add(new WebEvent(At("2026-03-02 00:05:30"), "/z", "s1", 100, 500, batches[3], At("2026-03-02 00:20:00")));
        var aggregate = minutes == 1 ? WindowedMetrics.Page1m : WindowedMetrics.Page5m;

        var actual = Query(fixture, $"SELECT * FROM ({aggregate.Corrections(aggregate.Aggregate(Staging, WebSql(events)))}) ORDER BY page_url, window_start");

        var expected = LateWindows(events, minutes, e => e.PageUrl, e => e.Timestamp, e => e.ArrivalWatermark)
            .Select(w =>
            {
                var tti = w.OnTime.Select(e => e.TtiMs).OfType<double>().ToList();
                return (w.Key, w.Start, Late: w.Late.Count, Batches: w.Late.Select(e => e.IngestTime).Distinct().Count(), Revised: w.Late.Max(e => e.IngestTime),
                    OnTimeRows: w.OnTime.Count, Events: w.Late.Count + w.OnTime.Count, Avg: tti.Count == 0 ? (double?)null : tti.Average(),
                    P95: Reference.Percentile(tti, 0.95), ErrorRate: w.OnTime.Count == 0 ? (double?)null : (double)w.OnTime.Count(e => e.Status >= 400) / w.OnTime.Count);
            })
            .ToList();
        Assert.Contains(expected, w => w.Batches > 1);
        Assert.Contains(expected, w => w.OnTimeRows > 0 && w.OnTimeRows < w.Events);
        Assert.Contains(expected, w => w.OnTimeRows == 0);
        Assert.Equal(expected.Count, actual.Count);
        foreach (var (e, a) in expected.Zip(actual))
        {
            Assert.Equal((e.Key, e.Start, e.Start.AddMinutes(minutes), (long)e.Late, (long)e.Batches, e.Revised, (long)e.OnTimeRows, (long)e.Events),
                ((string?)a["page_url"], (DateTimeOffset)a["window_start"]!, (DateTimeOffset)a["window_end"]!, (long)a["late_events"]!, (long)a["late_batches"]!,
                    (DateTimeOffset?)a["revised_at"], (long)a["events_on_time"]!, (long)a["events"]!));
            Close(e.Avg, (double?)a["tti_avg_ms_on_time"]);
            Close(e.P95, (double?)a["tti_p95_ms_on_time"]);
            Close(e.ErrorRate, (double?)a["error_rate_on_time"]);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public void SensorCorrections_RandomReadingsInFourBatches_EqualIndependentComputation(int minutes)
    {
        var random = new Random(17 + minutes);
        var batches = Enumerable.Range(0, 4).Select(i => At("2026-03-01 12:00:00").AddMinutes(i)).ToArray();
        var readings = RandomReadings(seed: 13 + minutes, count: 400).Select(r => r with { IngestTime = batches[random.Next(batches.Length)] }).ToList();
        var aggregate = minutes == 1 ? WindowedMetrics.Sensor1m : WindowedMetrics.Sensor5m;

        var actual = Query(fixture, $"SELECT * FROM ({aggregate.Corrections(aggregate.Aggregate(Staging, SensorsSql(readings)))}) ORDER BY sensor_id, window_start");

        var expected = LateWindows(readings, minutes, r => r.SensorId, r => r.Timestamp, r => r.ArrivalWatermark)
            .Select(w =>
            {
                var onTime = w.OnTime.Select(r => r.Value).OfType<double>().ToList();
                return (w.Key, w.Start, Late: w.Late.Count, Batches: w.Late.Select(r => r.IngestTime).Distinct().Count(), Revised: w.Late.Max(r => r.IngestTime),
                    OnTimeRows: w.OnTime.Count, Events: w.Late.Count + w.OnTime.Count, Avg: onTime.Count == 0 ? (double?)null : onTime.Average(),
                    Min: onTime.Count == 0 ? (double?)null : onTime.Min(), Max: onTime.Count == 0 ? (double?)null : onTime.Max());
            })
            .ToList();
        Assert.Contains(expected, w => w.Batches > 1);
        Assert.Contains(expected, w => w.OnTimeRows > 0);
        Assert.Equal(expected.Count, actual.Count);
        foreach (var (e, a) in expected.Zip(actual))
        {
            Assert.Equal((e.Key, e.Start, e.Start.AddMinutes(minutes), (long)e.Late, (long)e.Batches, e.Revised, (long)e.OnTimeRows, (long)e.Events),
                ((string?)a["sensor_id"], (DateTimeOffset)a["window_start"]!, (DateTimeOffset)a["window_end"]!, (long)a["late_events"]!, (long)a["late_batches"]!,
                    (DateTimeOffset?)a["revised_at"], (long)a["events_on_time"]!, (long)a["events"]!));
            Close(e.Avg, (double?)a["value_avg_on_time"]);
            Assert.Equal((e.Min, e.Max), ((double?)a["value_min_on_time"], (double?)a["value_max_on_time"]));
        }
    }

    [Theory]
    [InlineData(null, false, false)]
    [InlineData("2026-03-01 10:00:59.999999", false, false)]
    [InlineData("2026-03-01 10:01:00", true, false)]
    [InlineData("2026-03-01 10:01:59.999999", true, false)]
    [InlineData("2026-03-01 10:02:00", true, true)]
    public void SensorMetrics1m_Watermark_FinalOnceItReachesTheWindowsEnd(string? watermark, bool firstFinal, bool secondFinal)
    {
        SensorReading[] readings = [new(At("2026-03-01 10:00:30"), "s1", 70), new(At("2026-03-01 10:01:00"), "s1", 71)];

        var windows = Sensors(WindowedMetrics.SensorMetrics1m(Staging, SensorsSql(readings), watermark is null ? NoWatermark : Time(At(watermark))));

        Assert.Equal([firstFinal, secondFinal], windows.Select(w => w.IsFinal));
    }

    [Fact]
    public void PageMetrics5m_Watermark_FinalFlipsWindowByWindow()
    {
        WebEvent[] events = [new(At("2026-03-01 10:02:30"), "/a", TtiMs: 1)];

        var windows = Pages(WindowedMetrics.PageMetrics5m(Staging, WebSql(events), Time(At("2026-03-01 10:04:00"))));

        // Ends 10:03, 10:04, 10:05, 10:06, 10:07: the first two are final.
        Assert.Equal([true, true, false, false, false], windows.Select(w => w.IsFinal));
    }

    [Fact]
    public void SensorMetrics_LateReading_CountedOnlyInWindowsAlreadyFinalWhenItArrived()
    {
        SensorReading[] readings =
        [
            new(At("2026-03-01 10:02:30"), "s1", 70, ArrivalWatermark: At("2026-03-01 10:04:00")),
            new(At("2026-03-01 10:02:40"), "s1", 72, ArrivalWatermark: At("2026-03-01 10:02:40")),
            new(At("2026-03-01 10:02:50"), "s1", 74),
        ];

        var fiveMinute = Sensors(WindowedMetrics.SensorMetrics5m(Staging, SensorsSql(readings), NoWatermark));
        var oneMinute = Sensors(WindowedMetrics.SensorMetrics1m(Staging, SensorsSql(readings), NoWatermark));

        // 5-minute windows ending 10:03 and 10:04 were final at 10:04; those ending 10:05 to 10:07 were not.
        Assert.Equal([1L, 1, 0, 0, 0], fiveMinute.Select(w => w.LateEvents));
        Assert.All(fiveMinute, w => Assert.Equal(3, w.Events)); // late readings still count in the numbers
        Assert.Equal([(At("2026-03-01 10:02:00"), 1L)], oneMinute.Select(w => (w.WindowStart, w.LateEvents)));
        Same(Reference.SensorWindows(readings, 5, null), fiveMinute);
    }

    [Fact]
    public void LateEventsSql_RowsBehindTheirArrivalWatermark_CountedStrictly()
    {
        SensorReading[] readings =
        [
            new(At("2026-03-01 10:00:00"), "s1", 1, ArrivalWatermark: At("2026-03-01 10:00:00.000001")),
            new(At("2026-03-01 10:00:00"), "s1", 1, ArrivalWatermark: At("2026-03-01 10:00:00")),
            new(At("2026-03-01 09:00:00"), "s2", 1, ArrivalWatermark: At("2026-03-01 10:00:00")),
            new(At("2026-03-01 09:00:00"), "s2", 1),
        ];

        var rows = Query(fixture, WindowedMetrics.LateEventsSql(SensorsSql(readings)));

        Assert.Equal(2L, Assert.Single(rows)["late_events"]);
        Assert.Equal(0L, Assert.Single(Query(fixture, WindowedMetrics.LateEventsSql(SensorsSql([]))))["late_events"]);
    }

    [Fact]
    public void ArrivalWatermarkSql_ThreeMicroBatches_EachRowGetsTheNewestOfEarlierBatchesMinusTheDelay()
    {
        var first = At("2026-03-01 10:00:40");
        var second = At("2026-03-01 10:00:50");
        var third = At("2026-03-01 10:01:00");
        SensorReading[] readings =
        [
            new(At("2026-03-01 10:00:30"), "a", 1, IngestTime: first),
            new(At("2026-03-01 10:00:10"), "b", 2, IngestTime: first),
            new(At("2026-03-01 10:00:50"), "a", 3, IngestTime: second), // same batch as the next row: does not make it late
            new(At("2026-03-01 10:00:20"), "b", 4, IngestTime: second),
            new(At("2026-03-01 10:00:35"), "a", 5, IngestTime: third),
            new(At("2026-03-01 10:00:45"), "b", 6, IngestTime: null),
        ];
        var delay = TimeSpan.FromSeconds(10);

        var rows = Query(fixture, $"SELECT value, arrival_watermark FROM ({WindowedMetrics.ArrivalWatermarkSql(SensorsSql(readings), delay)}) ORDER BY value");
        var late = Query(fixture, WindowedMetrics.LateEventsSql(WindowedMetrics.ArrivalWatermarkSql(SensorsSql(readings), delay)));

        DateTimeOffset?[] expected = [null, null, At("2026-03-01 10:00:20"), At("2026-03-01 10:00:20"), At("2026-03-01 10:00:40"), null];
        Assert.Equal(expected, rows.Select(r => (DateTimeOffset?)r["arrival_watermark"]));
        Assert.Equal(readings.Select(r => Reference.ArrivalWatermark(readings, x => x.Timestamp, x => x.IngestTime, r, delay)), expected);
        Assert.Equal(1L, Assert.Single(late)["late_events"]); // 10:00:35 arrived behind 10:00:40; 10:00:20 exactly at 10:00:20 is not late
    }

    [Fact]
    public void ArrivalWatermarkSql_RandomBatches_EqualIndependentComputation()
    {
        var random = new Random(5);
        var start = At("2026-03-01 10:00:00");
        var readings = Enumerable.Range(0, 300).Select(i => new SensorReading(
            start.AddMilliseconds(random.Next(0, 600_000)), "s" + (i % 4).ToString(System.Globalization.CultureInfo.InvariantCulture), i,
            IngestTime: start.AddSeconds(random.Next(0, 40) * 15))).ToList();
        var delay = TimeSpan.FromSeconds(10);

        var rows = Query(fixture, $"SELECT value, arrival_watermark FROM ({WindowedMetrics.ArrivalWatermarkSql(SensorsSql(readings), delay)}) ORDER BY value");

        Assert.Equal(readings.Select(r => Reference.ArrivalWatermark(readings, x => x.Timestamp, x => x.IngestTime, r, delay)), rows.Select(r => (DateTimeOffset?)r["arrival_watermark"]));
        Assert.Contains(rows, r => r["arrival_watermark"] is null);
    }

    [Fact]
    public void WatermarkSql_Events_NewestEventTimeMinusTheDelay()
    {
        SensorReading[] readings = [new(At("2026-03-01 10:00:30"), "a", 1), new(At("2026-03-01 10:05:00.5"), "b", 2), new(At("2026-03-01 09:00:00"), "c", 3)];

        var mark = Query(fixture, $"SELECT {WindowedMetrics.WatermarkSql(SensorsSql(readings), TimeSpan.FromSeconds(10))} AS w");
        var none = Query(fixture, $"SELECT {WindowedMetrics.WatermarkSql(SensorsSql([]), TimeSpan.FromSeconds(10))} AS w");

        Assert.Equal(At("2026-03-01 10:04:50.5"), Assert.Single(mark)["w"]);
        Assert.Null(Assert.Single(none)["w"]);
    }

    [Fact]
    public void PageAndSensorMetrics_Columns_NamesAndTypesOfTheContract()
    {
        var page = Types(fixture, WindowedMetrics.PageMetrics5m(Staging, WebSql([new(At("2026-03-01 10:00:00"), "/a")]), NoWatermark));
        var sensor = Types(fixture, WindowedMetrics.SensorMetrics1m(Staging, SensorsSql([new(At("2026-03-01 10:00:00"), "a", 1)]), NoWatermark));

        Assert.Equal(
            ["event_date:DATE", "page_url:VARCHAR", "window_start:TIMESTAMPTZ", "window_end:TIMESTAMPTZ", "events:BIGINT", "tti_avg_ms:DOUBLE",
             "tti_p95_ms:DOUBLE", "error_rate:DOUBLE", "late_events:BIGINT", "is_final:BOOLEAN"],
            page.Select(c => $"{c.Key}:{c.Value}"));
        Assert.Equal(
            ["event_date:DATE", "sensor_id:VARCHAR", "window_start:TIMESTAMPTZ", "window_end:TIMESTAMPTZ", "events:BIGINT", "value_avg:DOUBLE",
             "value_min:DOUBLE", "value_max:DOUBLE", "late_events:BIGINT", "is_final:BOOLEAN"],
            sensor.Select(c => $"{c.Key}:{c.Value}"));
    }

    /// <summary>Web events from 23:50 to 00:10 across midnight: three pages, TTIs sometimes missing, errors, micro-batches, some late.</summary>
    /// <summary>
    /// From outside the SQL: every window of <paramref name="minutes"/> that holds a row that arrived after its end (rows of minute m
    /// are in the windows starting m − minutes + 1 … m), with those late rows and the others, by key and start.
    /// </summary>
    private static List<(string? Key, DateTimeOffset Start, List<T> Late, List<T> OnTime)> LateWindows<T>(IEnumerable<T> rows, int minutes,
        Func<T, string?> key, Func<T, DateTimeOffset> time, Func<T, DateTimeOffset?> arrival) =>
        [.. rows
            .SelectMany(r => Enumerable.Range(0, minutes).Select(k => (Start: Reference.MinuteOf(time(r)).AddMinutes(-k), Row: r)))
            .GroupBy(p => (Key: key(p.Row), p.Start))
            .Select(g =>
            {
                var end = g.Key.Start.AddMinutes(minutes);
                return (g.Key.Key, g.Key.Start, Late: g.Where(p => arrival(p.Row) >= end).Select(p => p.Row).ToList(),
                    OnTime: g.Where(p => !(arrival(p.Row) >= end)).Select(p => p.Row).ToList());
            })
            .Where(w => w.Late.Count > 0)
            .OrderBy(w => w.Key, StringComparer.Ordinal).ThenBy(w => w.Start)];

    private static List<WebEvent> RandomWebEvents(int seed, int count)
    {
        var random = new Random(seed);
        var start = At("2026-03-01 23:50:00");
        var events = new List<WebEvent>();
        for (var i = 0; i < count; i++)
        {
            var t = start.AddTicks(random.NextInt64(0, TimeSpan.FromMinutes(20).Ticks) / 10 * 10);
            var page = new[] { "/a", "/b", "/c" }[random.Next(3)];
            // "/c" has no TTI in the minute 23:55 (its events there all lack one).
            double? tti = random.Next(10) == 0 || (page == "/c" && Reference.MinuteOf(t) == At("2026-03-01 23:55:00")) ? null : Math.Round(random.NextDouble() * 2000, 3);
            var status = new[] { 200, 200, 200, 304, 404, 500 }[random.Next(6)];
            DateTimeOffset? mark = random.Next(8) == 0 ? t.AddSeconds(random.Next(-30, 400)) : null;
            events.Add(new WebEvent(t, page, "s" + random.Next(20).ToString(System.Globalization.CultureInfo.InvariantCulture), tti, status, ArrivalWatermark: mark));
        }
        return events;
    }

    private static List<SensorReading> RandomReadings(int seed, int count)
    {
        var random = new Random(seed);
        var start = At("2026-03-01 10:00:00");
        return [.. Enumerable.Range(0, count).Select(_ =>
        {
            var t = start.AddTicks(random.NextInt64(0, TimeSpan.FromMinutes(15).Ticks) / 10 * 10);
            DateTimeOffset? mark = random.Next(6) == 0 ? t.AddSeconds(random.Next(-30, 300)) : null;
            return new SensorReading(t, "s" + random.Next(4).ToString(System.Globalization.CultureInfo.InvariantCulture),
                random.Next(15) == 0 ? null : Math.Round(random.NextDouble() * 120 - 10, 2), ArrivalWatermark: mark);
        })];
    }
}
