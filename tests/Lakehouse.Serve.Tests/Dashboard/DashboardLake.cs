using Lakehouse.Delta;
using Lakehouse.Delta.Write;
using Lakehouse.Engine;
using Lakehouse.Storage;

namespace Lakehouse.Serve.Tests.Dashboard;

/// <summary>
/// Hand-made gold and silver tables for the dashboard tests, written with the project's Delta writer (gold tables
/// partitioned by event_date, as the gold job writes them). The values are chosen so that every number the API derives
/// (sums, weighted averages) is exact in binary floating point, and the tests can assert equality, not closeness. Measures
/// are DOUBLE, as the gold job writes them (a bare 812.5 in DuckDB is a DECIMAL: the first row of each VALUES casts).
/// </summary>
internal static class DashboardLake
{
    internal const string Home = "https://shop.example/";
    internal const string Product = "https://shop.example/products/42";
    internal const string Cart = "https://shop.example/cart";
    internal const string Quoted = "https://shop.example/it's--fine";
    private const string QuotedAsLiteral = "'https://shop.example/it''s--fine'";

    internal const string PageColumns = "event_date, page_url, events, sessions, tti_avg_ms, tti_p50_ms, tti_p95_ms, ttar_avg_ms, ttar_p50_ms, ttar_p95_ms, error_rate";

    /// <summary>Two days; on 2026-11-01 the cart has no TTAR (every measurement null).</summary>
    internal const string PagesSql = $"""
        SELECT * FROM (VALUES
          (DATE '2026-11-01', '{Home}', 1200::BIGINT, 300::BIGINT, 812.5::DOUBLE, 750.0::DOUBLE, 1834.25::DOUBLE, 210.5::DOUBLE, 190.0::DOUBLE, 402.75::DOUBLE, 0.015625::DOUBLE),
          (DATE '2026-11-01', '{Product}', 800::BIGINT, 250::BIGINT, 1020.0, 990.5, 2210.75, 305.0, 280.0, 610.5, 0.03125),
          (DATE '2026-11-01', '{Cart}', 400::BIGINT, 180::BIGINT, 640.25, 600.0, 1205.5, NULL, NULL, NULL, 0.0625),
          (DATE '2026-10-31', '{Home}', 1000::BIGINT, 280::BIGINT, 790.0, 720.0, 1700.5, 200.0, 185.0, 390.0, 0.0078125),
          (DATE '2026-10-31', '{Product}', 600::BIGINT, 200::BIGINT, 1000.0, 950.0, 2100.0, 300.0, 270.0, 600.0, 0.015625)
        ) AS t({PageColumns})
        """;

    internal const string PageWindowsSql = $"""
        SELECT * FROM (VALUES
          (DATE '2026-11-01', '{Home}', TIMESTAMPTZ '2026-11-01 12:00:00+00', TIMESTAMPTZ '2026-11-01 12:01:00+00', 40::BIGINT, 800.5::DOUBLE, 1500.25::DOUBLE, 0.025::DOUBLE, 0::BIGINT, true),
          (DATE '2026-11-01', '{Product}', TIMESTAMPTZ '2026-11-01 12:00:00+00', TIMESTAMPTZ '2026-11-01 12:01:00+00', 25::BIGINT, 1000.0, 2000.0, 0.0, 1::BIGINT, true),
          (DATE '2026-11-01', '{Home}', TIMESTAMPTZ '2026-11-01 12:01:00+00', TIMESTAMPTZ '2026-11-01 12:02:00+00', 12::BIGINT, 790.0, 1400.0, 0.0, 0::BIGINT, false),
          (DATE '2026-11-01', {QuotedAsLiteral}, TIMESTAMPTZ '2026-11-01 11:59:00+00', TIMESTAMPTZ '2026-11-01 12:00:00+00', 3::BIGINT, 500.0, 600.0, 0.0, 0::BIGINT, true)
        ) AS t(event_date, page_url, window_start, window_end, events, tti_avg_ms, tti_p95_ms, error_rate, late_events, is_final)
        """;

    internal const string SensorWindowsSql = """
        SELECT * FROM (VALUES
          (DATE '2026-11-01', 'sensor-7', TIMESTAMPTZ '2026-11-01 12:00:00+00', TIMESTAMPTZ '2026-11-01 12:01:00+00', 6::BIGINT, 101.5::DOUBLE, 99.0::DOUBLE, 104.25::DOUBLE, 2::BIGINT, true),
          (DATE '2026-11-01', 'sensor-3', TIMESTAMPTZ '2026-11-01 12:00:00+00', TIMESTAMPTZ '2026-11-01 12:01:00+00', 6::BIGINT, 70.5, 70.0, 71.0, 0::BIGINT, true)
        ) AS t(event_date, sensor_id, window_start, window_end, events, value_avg, value_min, value_max, late_events, is_final)
        """;

    internal const string AlertColumns = "event_date, alert_id, rule, key, window_start, window_end, value, threshold, detected_at, message";

    internal const string AlertsSql = $"""
        SELECT * FROM (VALUES
          (DATE '2026-11-01', 'a-1', 'temperature_high', 'sensor-7', TIMESTAMPTZ '2026-11-01 12:00:00+00', TIMESTAMPTZ '2026-11-01 12:01:00+00', 104.25::DOUBLE, 100.0::DOUBLE, TIMESTAMPTZ '2026-11-01 12:01:10+00', 'sensor-7 read 104.25 °F, above 100 °F'),
          (DATE '2026-11-01', 'a-2', 'status_error', 'sensor-3', TIMESTAMPTZ '2026-11-01 12:03:00+00', TIMESTAMPTZ '2026-11-01 12:04:00+00', 1.0, 0.0, TIMESTAMPTZ '2026-11-01 12:04:10+00', 'sensor-3 reported critical'),
          (DATE '2026-11-01', 'a-3', 'temperature_high', 'sensor-7', TIMESTAMPTZ '2026-11-01 12:05:00+00', TIMESTAMPTZ '2026-11-01 12:06:00+00', 101.5, 100.0, TIMESTAMPTZ '2026-11-01 12:06:10+00', 'sensor-7 read 101.5 °F, above 100 °F')
        ) AS t({AlertColumns})
        """;

    internal const string RunsSql = """
        SELECT * FROM (VALUES
          ('g-1', 'weblogs', 'incremental', 'committed', TIMESTAMPTZ '2026-11-01 12:00:00+00', TIMESTAMPTZ '2026-11-01 12:00:02.5+00', 3::BIGINT, 5::BIGINT, 2, 3000::BIGINT, 5::BIGINT, 4::BIGINT, TIMESTAMPTZ '2026-11-01 11:59:50+00', 0::BIGINT, NULL),
          ('g-2', 'sensors', 'incremental', 'failed', TIMESTAMPTZ '2026-11-01 12:05:00+00', TIMESTAMPTZ '2026-11-01 12:05:01+00', 7::BIGINT, 8::BIGINT, 0, 0::BIGINT, 0::BIGINT, 0::BIGINT, NULL, 0::BIGINT, 'silver.sensors version 8 cannot be read')
        ) AS t(run_id, dataset, kind, status, started_at, finished_at, silver_version_from, silver_version_to, dates_recomputed, rows_in, rows_written, late_events,
               watermark, alerts_new, message)
        """;

    /// <summary>silver/_quality as silver writes it: one row per run and rule, the run's totals repeated on each.</summary>
    internal const string QualitySql = """
        SELECT * FROM (VALUES
          ('s-1', 'weblogs', 'incremental', 'committed', TIMESTAMPTZ '2026-11-01 11:58:00+00', TIMESTAMPTZ '2026-11-01 11:58:03+00', 0::BIGINT, 4::BIGINT, NULL::DATE, NULL::DATE,
           5000::BIGINT, 4890::BIGINT, 60::BIGINT, 50::BIGINT, 7::BIGINT, 'tti_present', 'drop', 5000::BIGINT, 4960::BIGINT, 40::BIGINT),
          ('s-1', 'weblogs', 'incremental', 'committed', TIMESTAMPTZ '2026-11-01 11:58:00+00', TIMESTAMPTZ '2026-11-01 11:58:03+00', 0::BIGINT, 4::BIGINT, NULL::DATE, NULL::DATE,
           5000::BIGINT, 4890::BIGINT, 60::BIGINT, 50::BIGINT, 7::BIGINT, 'status_is_http', 'drop', 4960::BIGINT, 4940::BIGINT, 20::BIGINT),
          ('s-1', 'weblogs', 'incremental', 'committed', TIMESTAMPTZ '2026-11-01 11:58:00+00', TIMESTAMPTZ '2026-11-01 11:58:03+00', 0::BIGINT, 4::BIGINT, NULL::DATE, NULL::DATE,
           5000::BIGINT, 4890::BIGINT, 60::BIGINT, 50::BIGINT, 7::BIGINT, 'event_id_present', 'drop', 5000::BIGINT, 5000::BIGINT, 0::BIGINT)
        ) AS t(run_id, dataset, mode, status, started_at, finished_at, bronze_from_version, bronze_to_version, date_from, date_to,
               rows_in, rows_out, rows_quarantined, duplicates_removed, rows_warned, rule, rule_action, rule_checked, rule_passed, rule_failed)
        """;

    /// <summary>Appends <paramref name="sql"/>'s rows to <c>&lt;lake&gt;/&lt;layer&gt;/&lt;name&gt;</c> (creating it, partitioned by event_date when it has that column first).</summary>
    internal static async Task<long> AppendAsync(DuckEngine engine, string lake, string layer, string name, string sql, bool partitioned = true)
    {
        var table = DeltaTable.Open(LakeStorage.Open(Path.Combine(lake, layer, name)), engine);
        var options = new DeltaWriteOptions { PartitionColumns = partitioned ? ["event_date"] : [] };
        var result = await DeltaWriter.Create(table, options).AppendAsync(sql);
        return result.Version;
    }

    /// <summary>Every table the dashboard reads, with the rows above.</summary>
    internal static async Task WriteAllAsync(DuckEngine engine, string lake, bool withRuns = true)
    {
        await AppendAsync(engine, lake, "gold", "page_performance_daily", PagesSql);
        await AppendAsync(engine, lake, "gold", "page_metrics_1m", PageWindowsSql);
        await AppendAsync(engine, lake, "gold", "sensor_metrics_1m", SensorWindowsSql);
        await AppendAsync(engine, lake, "gold", "alerts", AlertsSql);
        if (withRuns) await AppendAsync(engine, lake, "gold", "_runs", RunsSql, partitioned: false);
        await AppendAsync(engine, lake, "silver", "_quality", QualitySql, partitioned: false);
    }
}
