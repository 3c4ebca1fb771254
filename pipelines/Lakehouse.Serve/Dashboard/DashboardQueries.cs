using System.Globalization;
using Lakehouse.Engine;

namespace Lakehouse.Serve.Dashboard;

/// <summary>
/// The dashboard's SQL, one fixed query per panel. Values from a query string reach it only after validation, as typed values
/// (a <see cref="DateOnly"/>, an <see cref="int"/>, a name from a fixed list), and a text value only as a literal quoted by
/// <see cref="SqlText"/>; the whole text is then run by <see cref="Sql.LakeQuery"/> as exactly one read-only query.
/// The first argument of each method, <c>t</c>, is the table's SQL name at one version (<see cref="DashboardTable.At"/>).
/// </summary>
internal static class DashboardQueries
{
    /// <summary>The days <c>page_performance_daily</c> holds, newest first.</summary>
    internal static string PageDates(string t, int limit) =>
        $"SELECT DISTINCT CAST(event_date AS DATE) AS event_date FROM {t} ORDER BY 1 DESC LIMIT {Number(limit)}";

    /// <summary>TTI and TTAR per page on one day, busiest pages first.</summary>
    internal static string Pages(string t, DateOnly day, int limit) => $"""
        SELECT page_url, events, sessions, tti_avg_ms, tti_p50_ms, tti_p95_ms, ttar_avg_ms, ttar_p50_ms, ttar_p95_ms, error_rate
        FROM {t}
        WHERE event_date = {Date(day)}
        ORDER BY events DESC, page_url
        LIMIT {Number(limit)}
        """;

    /// <summary>
    /// Per day, the last <paramref name="days"/> days that have data, oldest first: events over every page; the average TTI
    /// weighted by each page's events (every silver weblog event has a TTI, so this is the day's own average); the highest
    /// p95 of any page (a day's p95 over all its events cannot be rebuilt from per-page percentiles); the error rate weighted
    /// by events.
    /// </summary>
    internal static string Trend(string t, int days) => $"""
        SELECT * FROM (
          SELECT CAST(event_date AS DATE) AS event_date,
                 CAST(sum(events) AS BIGINT) AS events,
                 count(*) AS pages,
                 sum(tti_avg_ms * events) / sum(events) AS tti_avg_ms,
                 max(tti_p95_ms) AS tti_p95_max_ms,
                 sum(error_rate * events) / sum(events) AS error_rate
          FROM {t}
          GROUP BY 1
          ORDER BY 1 DESC
          LIMIT {Number(days)}
        ) ORDER BY event_date
        """;

    /// <summary>The latest windows of a windowed table, optionally of one page or sensor.</summary>
    internal static string Windows(string t, WindowTable table, string? key, int limit)
    {
        var columns = string.Join(", ", table.Columns.Select(SqlText.Identifier));
        var where = key is null ? "" : $"WHERE {SqlText.Identifier(table.KeyColumn)} = {SqlText.Literal(key)} ";
        return $"SELECT {columns} FROM {t} {where}ORDER BY {SqlText.Identifier(table.OrderColumn)} DESC, {SqlText.Identifier(table.KeyColumn)} LIMIT {Number(limit)}";
    }

    /// <summary>The latest alerts, optionally of one rule.</summary>
    internal static string Alerts(string t, string? rule, int limit)
    {
        var where = rule is null ? "" : $"WHERE rule = {SqlText.Literal(rule)} ";
        return $"SELECT alert_id, rule, key, window_start, window_end, value, threshold, detected_at, message FROM {t} {where}" +
               $"ORDER BY detected_at DESC, alert_id LIMIT {Number(limit)}";
    }

    /// <summary>Alerts per rule: how many, and when the latest was detected.</summary>
    internal static string AlertCounts(string t) =>
        $"SELECT rule, count(*) AS alerts, max(detected_at) AS latest_detected_at FROM {t} GROUP BY rule ORDER BY rule";

    /// <summary>The latest gold runs (<c>gold/_runs</c>).</summary>
    internal static string Runs(string t, int limit) => $"""
        SELECT run_id, dataset, kind, status, started_at, finished_at, silver_version_from, silver_version_to, dates_recomputed,
               rows_in, rows_written, late_events, watermark, alerts_new, message
        FROM {t}
        ORDER BY started_at DESC, run_id
        LIMIT {Number(limit)}
        """;

    /// <summary>
    /// The latest silver runs from <c>silver/_quality</c> (one row per run and rule there; the run's totals repeat on each), one
    /// row per run here, with the rules that failed rows and how many.
    /// </summary>
    internal static string Quality(string t, int limit) => $"""
        SELECT run_id, max(dataset) AS dataset, max(mode) AS mode, max(status) AS status, max(started_at) AS started_at,
               max(finished_at) AS finished_at, max(rows_in) AS rows_in, max(rows_out) AS rows_out,
               max(rows_quarantined) AS rows_quarantined, max(duplicates_removed) AS duplicates_removed, max(rows_warned) AS rows_warned,
               string_agg(rule || ' ' || CAST(rule_failed AS VARCHAR), ', ' ORDER BY rule) FILTER (WHERE rule_failed > 0) AS rules_failed
        FROM {t}
        GROUP BY run_id
        ORDER BY max(started_at) DESC, run_id
        LIMIT {Number(limit)}
        """;

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Date(DateOnly day) => "DATE " + SqlText.Literal(day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
}
