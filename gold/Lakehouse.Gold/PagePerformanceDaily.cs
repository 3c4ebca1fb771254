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
    public static string Sql(string eventsSql) => Sql(eventsSql, null);

    /// <summary>
    /// <see cref="Sql(string)"/>, with the sessions of each row taken from <paramref name="sessions"/> (a relation of
    /// <c>event_date</c>, <c>page_url</c> and <c>sessions</c>, see <see cref="SessionsAdded"/>) instead of counted from the events,
    /// when given: counting a day's distinct sessions per page is half the cost of its row.
    /// </summary>
    internal static string Sql(string eventsSql, string? sessions) => $"""
        SELECT d.event_date, d.page_url, events, {(sessions is null ? "sessions" : "CAST(coalesce(s.sessions, 0) AS BIGINT) AS sessions")},
          tti_avg_ms, tti_q[1] AS tti_p50_ms, tti_q[2] AS tti_p95_ms,
          ttar_avg_ms, ttar_q[1] AS ttar_p50_ms, ttar_q[2] AS ttar_p95_ms,
          error_rate
        FROM (
          SELECT
            {Windows.WindowSql.DateOfMicros("epoch_us(event_time)")} AS event_date,
            page_url,
            count(*) AS events,
            {(sessions is null ? "count(DISTINCT session_id) AS sessions," : "")}
            {Average("tti_ms")} AS tti_avg_ms,
            quantile_cont(tti_ms, [0.5, 0.95]) AS tti_q,
            {Average("ttar_ms")} AS ttar_avg_ms,
            quantile_cont(ttar_ms, [0.5, 0.95]) AS ttar_q,
            count_if(status >= 400) / count(*) AS error_rate
          FROM ({eventsSql}) AS events
          GROUP BY 1, 2
        ) AS d{(sessions is null ? "" : $" LEFT JOIN {sessions} AS s ON s.event_date = d.event_date AND s.page_url IS NOT DISTINCT FROM d.page_url")}
        """;

    /// <summary>
    /// The sessions of each page and day after new events were added to the day's events: the count the table held before them
    /// (<paramref name="previous"/>: its rows of those days, <c>event_date</c>, <c>page_url</c>, <c>sessions</c>) plus the sessions the
    /// new events (<paramref name="newEvents"/>) bring to a page, that no earlier event of the page and day had. Whether a page and
    /// session had events before is read from <paramref name="sessionEvents"/>, every event of the day of the sessions the new events
    /// have (new ones included): it had when it has more events there than among the new ones. Columns: <c>event_date</c>,
    /// <c>page_url</c>, <c>sessions</c>, <c>unmatched</c> (per row, the page's new sessions missing from
    /// <paramref name="sessionEvents"/>: when any, the relations do not fit together and the count must not be used).
    /// </summary>
    internal static string SessionsAdded(string previous, string newEvents, string sessionEvents)
    {
        var date = Windows.WindowSql.DateOfMicros("epoch_us(\"timestamp\")");
        string Pairs(string events) =>
            $"SELECT {date} AS event_date, page_url, session_id, count(*) AS n FROM {events} WHERE session_id IS NOT NULL AND \"timestamp\" IS NOT NULL GROUP BY ALL";
        return $"""
            WITH added AS (
              SELECT a.event_date, a.page_url,
                count(*) FILTER (WHERE h.n = a.n) AS added,
                count(*) FILTER (WHERE h.n IS NULL OR h.n < a.n) AS unmatched
              FROM ({Pairs(newEvents)}) AS a
              LEFT JOIN ({Pairs(sessionEvents)}) AS h ON h.event_date = a.event_date AND h.page_url IS NOT DISTINCT FROM a.page_url AND h.session_id = a.session_id
              GROUP BY ALL
            )
            SELECT coalesce(p.event_date, a.event_date) AS event_date, CASE WHEN p.event_date IS NULL THEN a.page_url ELSE p.page_url END AS page_url,
              coalesce(p.sessions, 0) + coalesce(a.added, 0) AS sessions, coalesce(a.unmatched, 0) AS unmatched
            FROM (SELECT event_date, page_url, sessions FROM {previous}) AS p
            FULL JOIN added AS a ON a.event_date = p.event_date AND a.page_url IS NOT DISTINCT FROM p.page_url
            """;
    }

    private static string Average(string column)
    {
        var (decimalSum, count, large) = Windows.WindowSql.AverageParts(column);
        return Windows.WindowSql.ExactAverage(decimalSum, count, large);
    }
}
