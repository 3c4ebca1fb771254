using Lakehouse.Gold.Windows;
using Lakehouse.Testing;
using static Lakehouse.Gold.Tests.Windows.Relations;

namespace Lakehouse.Gold.Tests.Windows;

/// <summary>
/// The 1- and 5-minute windows' percentiles and late batches, which C# computes from the staged per-minute parts, against DuckDB's own
/// <c>quantile_cont</c>, distinct count and max over each window's rows (its on-time rows, its late rows), window by window.
/// </summary>
public sealed class WindowListsTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    [Theory]
    [InlineData(1, 60, false, 5)]
    [InlineData(2, 3000, false, 5)]
    [InlineData(3, 3000, true, 5)]
    [InlineData(4, 60, false, 1)]
    [InlineData(5, 3000, true, 1)]
    public void PageMetrics_RandomEventsLateAndOnTime_PercentilesAndLateBatchesAsSqlGivesThemForEachWindow(int seed, int count, bool hostile, int minutes)
    {
        var random = new Random(seed);
        var start = At("2026-03-01 23:50:00");
        // The edge values gold takes (its exact average sums TTIs as DECIMAL(38, 9), so NaN, infinities and 1e30 fail the run earlier).
        double[] specials = [0, -0.0, 1e-9, 5e-324, 1e20, -1e20, 99_999_999_999_999_999_999.5];
        var events = new List<WebEvent>();
        for (var i = 0; i < count; i++)
        {
            var at = start.AddMicroseconds(random.NextInt64(0, 20 * 60_000_000L));
            // Few distinct values, so ties are common; some missing; with hostile, the doubles' edge values too.
            double? tti = random.Next(10) == 0 ? null
                : hostile && random.Next(8) == 0 ? specials[random.Next(specials.Length)]
                : random.Next(4) == 0 ? random.Next(5) * 100 : Math.Round(random.NextDouble() * 5000, 3);
            var page = random.Next(7) switch { 0 => null, 1 or 2 => "/a", 3 or 4 => "/b", _ => "/c?q=1" };
            // The watermark the row arrived under: none, or anywhere from well before its minute to well after.
            DateTimeOffset? mark = random.Next(3) == 0 ? null : at.AddMicroseconds(random.NextInt64(-12 * 60_000_000L, 4 * 60_000_000L));
            events.Add(new WebEvent(at, page, TtiMs: tti, IngestTime: start.AddSeconds(random.Next(100)), ArrivalWatermark: mark));
        }
        var web = WebSql(events);
        var aggregate = minutes == 1 ? WindowedMetrics.Page1m : WindowedMetrics.Page5m;
        var length = minutes * 60_000_000L;
        var actual = $"SELECT start_us, page_url, tti_p95_ms, tti_p95_ms_on_time, late_events, late_batches, revised_at FROM ({aggregate.Aggregate(new FixtureStaging(fixture), web)})";
        var expected = $"""
            WITH t AS (
              SELECT page_url, tti_ms, ingest_time, epoch_us(arrival_watermark) AS a, epoch_us(date_trunc('minute', timezone('UTC', timestamp))) AS m FROM ({web})
            ),
            w AS (SELECT DISTINCT page_url, m - i * 60000000 AS start_us FROM t, range({minutes}) AS r(i))
            SELECT w.start_us, w.page_url,
              quantile_cont(tti_ms, 0.95) AS p95,
              quantile_cont(tti_ms, 0.95) FILTER (WHERE NOT coalesce(a >= w.start_us + {length}, false)) AS p95_on_time,
              count(*) FILTER (WHERE coalesce(a >= w.start_us + {length}, false)) AS late,
              count(DISTINCT ingest_time) FILTER (WHERE coalesce(a >= w.start_us + {length}, false)) AS late_batches,
              max(ingest_time) FILTER (WHERE coalesce(a >= w.start_us + {length}, false)) AS revised_at
            FROM w JOIN t ON t.page_url IS NOT DISTINCT FROM w.page_url AND t.m >= w.start_us AND t.m < w.start_us + {length}
            GROUP BY ALL
            """;
        var rows = Query(fixture, $"""
            SELECT count(*) AS windows,
              count(*) FILTER (x.start_us IS NULL OR e.start_us IS NULL) AS unmatched,
              count(*) FILTER (x.tti_p95_ms IS DISTINCT FROM e.p95) AS differ,
              count(*) FILTER (e.late > 0 AND x.tti_p95_ms_on_time IS DISTINCT FROM e.p95_on_time) AS differ_on_time,
              count(*) FILTER (e.late = 0 AND x.tti_p95_ms_on_time IS NOT NULL) AS on_time_without_late,
              count(*) FILTER (x.late_events IS DISTINCT FROM e.late OR x.late_batches IS DISTINCT FROM (CASE WHEN e.late > 0 THEN e.late_batches END)
                OR x.revised_at IS DISTINCT FROM e.revised_at) AS differ_late,
              count(*) FILTER (e.late > 0) AS with_late,
              count(*) FILTER (e.p95 IS NULL) AS without_tti,
              count(*) FILTER (e.late > 0 AND e.p95_on_time IS NULL) AS late_without_on_time_tti
            FROM ({actual}) AS x FULL JOIN ({expected}) AS e ON x.start_us = e.start_us AND x.page_url IS NOT DISTINCT FROM e.page_url
            """);
        var r = Assert.Single(rows);
        Assert.Equal("", string.Join(", ", r.Where(c => c.Key is "unmatched" or "differ" or "differ_on_time" or "on_time_without_late" or "differ_late" && (long)c.Value! != 0).Select(c => $"{c.Key} {c.Value}")));
        Assert.Equal(0L, r["unmatched"]);
        Assert.Equal(0L, r["differ"]);
        Assert.Equal(0L, r["differ_on_time"]);
        Assert.Equal(0L, r["on_time_without_late"]);
        // The data reaches every case: windows with and without late rows, without any TTI, late ones whose on-time rows have none.
        Assert.True((long)r["windows"]! > 20);
        Assert.InRange((long)r["with_late"]!, 1, (long)r["windows"]! - (minutes == 1 && count > 100 ? 0 : 1));
        if (count <= 100) Assert.True((long)r["without_tti"]! + (long)r["late_without_on_time_tti"]! > 0);
    }

    [Fact]
    public void Interpolated_ManyMinutesOfOneValueOrNone_AsQuantileContWouldGive()
    {
        static long[] Keys(params double[] values) => [.. values.Select(WindowLists.OrderKey).Order()];

        Assert.Null(WindowLists.Interpolated([Keys(), Keys()], 0.95));
        Assert.Equal(7.0, WindowLists.Interpolated([Keys(7)], 0.95));
        // Ranks 0..3 of 1, 2, 3, 4: (n − 1)·0.95 = 2.85, between 3 and 4.
        var d = 3 * 0.95 - 2;
        Assert.Equal(3 * (1 - d) + 4 * d, WindowLists.Interpolated([Keys(4, 1), Keys(3), Keys(2)], 0.95));
        Assert.Equal(1.0, WindowLists.Interpolated([Keys(4, 1), Keys(3), Keys(2)], 0));
        Assert.Equal(4.0, WindowLists.Interpolated([Keys(4, 1), Keys(3), Keys(2)], 1));
        // NaN sorts last, -∞ first, as DuckDB sorts them.
        Assert.Equal(double.NegativeInfinity, WindowLists.Interpolated([Keys(double.NaN, 1), Keys(double.NegativeInfinity)], 0));
        Assert.True(double.IsNaN(WindowLists.Interpolated([Keys(double.NaN, 1), Keys(double.NegativeInfinity)], 1)!.Value));
    }

    [Fact]
    public void Write_Cancelled_StopsWithoutATable()
    {
        var staging = new FixtureStaging(fixture);
        var parts = staging.Table("parts", "SELECT 0::BIGINT AS minute_us, 'a' AS page_url, 0 AS c, [1.0, 2.0] AS tti_values, CAST(NULL AS BIGINT[]) AS ingests");
        var table = "lists_" + Guid.NewGuid().ToString("N");
        using var lease = fixture.Engine.Lease();

        Assert.ThrowsAny<OperationCanceledException>(() =>
            WindowLists.Write(lease.Connection, parts, "page_url", [new("p95", "tti_values", 0.95)], [1, 5], table, new CancellationToken(true)));
        Assert.Equal(0L, Assert.Single(Query(fixture, $"SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = '{table}'"))["n"]);
    }
}
