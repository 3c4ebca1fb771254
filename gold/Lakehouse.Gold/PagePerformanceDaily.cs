namespace Lakehouse.Gold;

/// <summary>
/// The gold table <c>page_performance_daily</c>: per UTC day and normalized page URL, the number of events and sessions,
/// the average and exact (linearly interpolated) 50th and 95th percentiles of TTI and TTAR in milliseconds, and the
/// share of events with an HTTP error status (400 or above). Null measurements are left out of their own statistics only.
/// Both percentiles of a measure come from one sort of its values (the list form of <c>quantile_cont</c>); averages sum exact
/// decimals (<see cref="Windows.WindowSql.ExactAverage"/>), so every run gives the same bits (a parallel avg of doubles depends on the
/// order threads add them in). The day is integer arithmetic on the time's microseconds, not DuckDB's time-zone functions: a
/// filter on it is pushed down to every row.
/// </summary>
public static class PagePerformanceDaily
{
    /// <summary>The table's name under <c>&lt;lake&gt;/gold/</c>.</summary>
    public const string TableName = "page_performance_daily";

    /// <summary>
    /// The aggregate over <paramref name="eventsSql"/>, a DuckDB relation of clean, deduplicated events with columns
    /// <c>event_time</c> (TIMESTAMPTZ), <c>page_url</c>, <c>session_id</c>, <c>tti_ms</c>, <c>ttar_ms</c> (DOUBLE) and <c>status</c> (INTEGER).
    /// The day is taken in UTC whatever the session's time zone.
    /// </summary>
    public static string Sql(string eventsSql) => $"""
        SELECT event_date, page_url, events, sessions,
          tti_avg_ms, tti_q[1] AS tti_p50_ms, tti_q[2] AS tti_p95_ms,
          ttar_avg_ms, ttar_q[1] AS ttar_p50_ms, ttar_q[2] AS ttar_p95_ms,
          error_rate
        FROM (
          SELECT
            {Windows.WindowSql.DateOfMicros("epoch_us(event_time)")} AS event_date,
            page_url,
            count(*) AS events,
            count(DISTINCT session_id) AS sessions,
            {Average("tti_ms")} AS tti_avg_ms,
            quantile_cont(tti_ms, [0.5, 0.95]) AS tti_q,
            {Average("ttar_ms")} AS ttar_avg_ms,
            quantile_cont(ttar_ms, [0.5, 0.95]) AS ttar_q,
            count_if(status >= 400) / count(*) AS error_rate
          FROM ({eventsSql}) AS events
          GROUP BY 1, 2
        )
        """;

    private static string Average(string column)
    {
        var (decimalSum, count, large) = Windows.WindowSql.AverageParts(column);
        return Windows.WindowSql.ExactAverage(decimalSum, count, large);
    }
}
