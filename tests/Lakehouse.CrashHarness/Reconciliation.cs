using System.Globalization;
using Lakehouse.Delta;
using Lakehouse.Delta.Scan;
using Lakehouse.Engine;
using Lakehouse.Storage;

namespace Lakehouse.CrashHarness;

/// <summary>
/// The counts of every table after the last runs, taken through the Delta snapshots (what readers see), and the gold tables compared
/// row by row with an independent recomputation: SQL written here, over the silver Parquet files the silver snapshot lists.
/// </summary>
/// <param name="BronzeRows">Rows of bronze.</param>
/// <param name="BronzeDistinct">Distinct source positions (file, line) in bronze.</param>
/// <param name="SilverRows">Rows of silver.</param>
/// <param name="SilverDistinct">Distinct event ids in silver.</param>
/// <param name="QuarantineRows">Rows of the quarantine table.</param>
/// <param name="QuarantineDistinct">Distinct bronze positions in the quarantine table.</param>
/// <param name="GoldDailyRows">Rows of gold.page_performance_daily.</param>
/// <param name="GoldDailyMismatches">Rows of page_performance_daily that differ from the recomputation (either side).</param>
/// <param name="GoldMinuteRows">Rows of gold.page_metrics_1m.</param>
/// <param name="GoldMinuteMismatches">Rows of page_metrics_1m whose events, error rate or p95 differ from the recomputation (either side).</param>
/// <param name="AlertDuplicates">Alert ids that appear more than once in gold.alerts.</param>
public sealed record Reconciliation(
    long BronzeRows,
    long BronzeDistinct,
    long SilverRows,
    long SilverDistinct,
    long QuarantineRows,
    long QuarantineDistinct,
    long GoldDailyRows,
    long GoldDailyMismatches,
    long GoldMinuteRows,
    long GoldMinuteMismatches,
    long AlertDuplicates)
{
    /// <summary>Events the lake lost against what was produced (bronze), and against what bronze holds (silver + quarantine + duplicates).</summary>
    public long Lost(long produced, long duplicates) => Math.Max(0, produced - BronzeDistinct) + Math.Max(0, BronzeDistinct - duplicates - SilverDistinct - QuarantineDistinct);

    /// <summary>Events held twice: bronze rows of one source position, silver rows of one event id, quarantine rows of one bronze position.</summary>
    public long Duplicated => (BronzeRows - BronzeDistinct) + (SilverRows - SilverDistinct) + (QuarantineRows - QuarantineDistinct);

    /// <summary>Every way the counts fail to reconcile with what the simulator produced (empty when they all do).</summary>
    public IEnumerable<string> Problems(long produced, long malformed, long duplicates)
    {
        if (BronzeRows != produced) yield return $"produced {produced} events, bronze holds {BronzeRows}";
        if (BronzeRows != BronzeDistinct) yield return $"bronze holds {BronzeRows - BronzeDistinct} rows twice (by source position)";
        if (SilverRows != SilverDistinct) yield return $"silver holds {SilverRows - SilverDistinct} event ids twice";
        if (QuarantineRows != QuarantineDistinct) yield return $"the quarantine holds {QuarantineRows - QuarantineDistinct} bronze positions twice";
        if (BronzeRows != SilverRows + QuarantineRows + duplicates)
            yield return $"bronze {BronzeRows} ≠ silver {SilverRows} + quarantine {QuarantineRows} + duplicates {duplicates}";
        if (QuarantineRows != malformed) yield return $"the simulator sent {malformed} malformed events, the quarantine holds {QuarantineRows}";
        if (GoldDailyRows == 0) yield return "gold.page_performance_daily is empty";
        if (GoldDailyMismatches != 0) yield return $"gold.page_performance_daily differs from the recomputation in {GoldDailyMismatches} rows";
        if (GoldMinuteMismatches != 0) yield return $"gold.page_metrics_1m differs from the recomputation in {GoldMinuteMismatches} rows";
        if (AlertDuplicates != 0) yield return $"gold.alerts holds {AlertDuplicates} alert ids twice";
    }

    /// <summary>Counts every table of <paramref name="dataset"/> in <paramref name="lake"/> and compares gold with the recomputation.</summary>
    public static async Task<Reconciliation> ComputeAsync(DuckEngine engine, string lake, string dataset, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(engine);
        using var lease = engine.Lease();
        var c = lease.Connection;
        async Task<string> ViewAsync(string name, string layer, string table)
        {
            var delta = DeltaTable.Open(LakeStorage.Open(Path.Combine(lake, layer, table)), engine);
            var snapshot = await delta.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            using var scan = await DeltaScan.CreateAsync(delta, snapshot, c, cancellationToken: cancellationToken).ConfigureAwait(false);
            c.Execute($"CREATE OR REPLACE TEMP TABLE {name} AS {scan.Sql}", cancellationToken);
            return name;
        }

        long Count(string sql) => Convert.ToInt64(c.Scalar(sql, cancellationToken), CultureInfo.InvariantCulture);

        var bronze = await ViewAsync("h_bronze", "bronze", dataset).ConfigureAwait(false);
        var silver = await ViewAsync("h_silver", "silver", dataset).ConfigureAwait(false);
        var quarantine = await ViewAsync("h_quarantine", "silver", dataset + "_quarantine").ConfigureAwait(false);
        var daily = await ViewAsync("h_daily", "gold", "page_performance_daily").ConfigureAwait(false);
        var minute = await ViewAsync("h_minute", "gold", "page_metrics_1m").ConfigureAwait(false);
        var alerts = await ViewAsync("h_alerts", "gold", "alerts").ConfigureAwait(false);

        // The independent recomputation reads the silver Parquet files its snapshot lists, straight (silver has no deletion vectors).
        var silverTable = DeltaTable.Open(LakeStorage.Open(Path.Combine(lake, "silver", dataset)), engine);
        var silverFiles = (await silverTable.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Files
            .Select(f => Path.Combine(lake, "silver", dataset, Uri.UnescapeDataString(f.Path))).ToList();
        c.Execute($"CREATE OR REPLACE TEMP VIEW h_events AS SELECT * FROM read_parquet({SqlText.LiteralList(silverFiles)}, union_by_name = true)", cancellationToken);

        const string Recomputed = """
            SELECT CAST(timezone('UTC', "timestamp") AS DATE) AS d, page_url AS p, count(*) AS n, count(DISTINCT session_id) AS s,
                   avg(CAST(tti_ms AS DOUBLE)) AS tti_avg, quantile_cont(CAST(tti_ms AS DOUBLE), 0.5) AS tti_p50, quantile_cont(CAST(tti_ms AS DOUBLE), 0.95) AS tti_p95,
                   avg(CAST(ttar_ms AS DOUBLE)) AS ttar_avg, quantile_cont(CAST(ttar_ms AS DOUBLE), 0.5) AS ttar_p50, quantile_cont(CAST(ttar_ms AS DOUBLE), 0.95) AS ttar_p95,
                   avg(CASE WHEN status >= 400 THEN 1.0 ELSE 0.0 END) AS err
            FROM h_events GROUP BY 1, 2
            """;
        c.Execute("CREATE OR REPLACE TEMP MACRO h_close_fn(a, b) AS (a IS NULL AND b IS NULL) OR " +
            "(a IS NOT NULL AND b IS NOT NULL AND abs(a - b) <= 1e-9 * greatest(1, abs(a), abs(b)))", cancellationToken); // gold sums exact decimals, this averages doubles
        var dailyMismatches = Count($"""
            SELECT count(*) FROM ({Recomputed}) r FULL OUTER JOIN h_daily g ON g.event_date = r.d AND g.page_url = r.p
            WHERE r.d IS NULL OR g.event_date IS NULL OR g.events <> r.n OR g.sessions <> r.s
               OR NOT h_close_fn(g.tti_avg_ms, r.tti_avg) OR NOT h_close_fn(g.tti_p50_ms, r.tti_p50) OR NOT h_close_fn(g.tti_p95_ms, r.tti_p95)
               OR NOT h_close_fn(g.ttar_avg_ms, r.ttar_avg) OR NOT h_close_fn(g.ttar_p50_ms, r.ttar_p50) OR NOT h_close_fn(g.ttar_p95_ms, r.ttar_p95)
               OR NOT h_close_fn(g.error_rate, r.err)
            """);
        const string PerMinute = """
            SELECT page_url AS p, time_bucket(INTERVAL 1 MINUTE, "timestamp", TIMESTAMPTZ '1970-01-01 00:00:00+00') AS w, count(*) AS n,
                   quantile_cont(CAST(tti_ms AS DOUBLE), 0.95) AS tti_p95, avg(CASE WHEN status >= 400 THEN 1.0 ELSE 0.0 END) AS err
            FROM h_events GROUP BY 1, 2
            """;
        var minuteMismatches = Count($"""
            SELECT count(*) FROM ({PerMinute}) r FULL OUTER JOIN h_minute g ON g.page_url = r.p AND g.window_start = r.w
            WHERE r.p IS NULL OR g.page_url IS NULL OR g.events <> r.n OR NOT h_close_fn(g.tti_p95_ms, r.tti_p95) OR NOT h_close_fn(g.error_rate, r.err)
            """);

        return new Reconciliation(
            Count($"SELECT count(*) FROM {bronze}"),
            Count($"SELECT count(DISTINCT (source, source_line)) FROM {bronze}"),
            Count($"SELECT count(*) FROM {silver}"),
            Count($"SELECT count(DISTINCT event_id) FROM {silver}"),
            Count($"SELECT count(*) FROM {quarantine}"),
            Count($"SELECT count(DISTINCT bronze_position) FROM {quarantine}"),
            Count($"SELECT count(*) FROM {daily}"),
            dailyMismatches,
            Count($"SELECT count(*) FROM {minute}"),
            minuteMismatches,
            Count($"SELECT count(*) - count(DISTINCT alert_id) FROM {alerts}"));
    }
}
