namespace Lakehouse.Gold.Windows;

public static partial class WindowedMetrics
{
    /// <summary>
    /// <c>sensor_sessions</c>: per sensor, runs of readings with no pause longer than <paramref name="gap"/> between consecutive
    /// ones: <c>event_date</c> (UTC date of <c>session_start</c>), <c>sensor_id</c>, <c>session_start</c> (first reading),
    /// <c>session_end</c> (last reading) and <c>events</c> (BIGINT).
    /// </summary>
    /// <remarks>
    /// A pause of exactly <paramref name="gap"/> keeps the session; one microsecond more starts a new one. Sessions are cut at
    /// UTC midnight: a session never spans two dates, so gold can recompute a date's sessions from that date's events alone
    /// (a sensor that reads through midnight has one session ending before it and another starting after it). Rows without
    /// a sensor id or a timestamp are left out; readings with equal timestamps are one moment of the session.
    /// </remarks>
    /// <param name="eventsSql">The sensor readings (see the class remarks); only <c>timestamp</c> and <c>sensor_id</c> are read.</param>
    /// <param name="gap">The longest pause within a session: more than zero, whole microseconds.</param>
    public static string SensorSessions(string eventsSql, TimeSpan gap) => Sessions(eventsSql, gap, "sensor_id");

    /// <summary>
    /// <c>page_sessions</c>: per web session id, runs of page events with no pause longer than <paramref name="gap"/>:
    /// <c>event_date</c>, <c>session_id</c>, <c>session_start</c>, <c>session_end</c> and <c>events</c>, cut at UTC midnight
    /// as in <see cref="SensorSessions"/>. Rows without a session id are left out.
    /// </summary>
    /// <param name="eventsSql">The web events (see the class remarks); only <c>timestamp</c> and <c>session_id</c> are read.</param>
    /// <param name="gap">The longest pause within a session: more than zero, whole microseconds.</param>
    public static string PageSessions(string eventsSql, TimeSpan gap) => Sessions(eventsSql, gap, "session_id");

    /// <summary>
    /// A reading starts a session when it is the first of its key and date or follows the previous one by more than the gap;
    /// the running count of starts (over peers too, so readings with equal times stay together) numbers the sessions.
    /// </summary>
    private static string Sessions(string eventsSql, TimeSpan gap, string key)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(eventsSql);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(gap, TimeSpan.Zero);
        var gapMicros = WindowSql.Micros(WindowSql.WholeMicroseconds(gap, nameof(gap)));
        return $"""
            WITH keyed AS (
              SELECT k, t, us, {WindowSql.Floor("us", WindowSql.DayMicros)} AS d
              FROM (
                SELECT {key} AS k, timestamp AS t, epoch_us(timestamp) AS us
                FROM ({eventsSql}) AS events
                WHERE {key} IS NOT NULL AND timestamp IS NOT NULL
              ) AS timed
            ),
            starts AS (
              SELECT k, t, d,
                CASE WHEN us - lag(us) OVER (PARTITION BY k, d ORDER BY us) <= {WindowSql.Integer(gapMicros)} THEN 0 ELSE 1 END AS starts_session
              FROM keyed
            ),
            numbered AS (
              SELECT k, t, d,
                sum(starts_session) OVER (PARTITION BY k, d ORDER BY t RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS session_number
              FROM starts
            )
            SELECT {WindowSql.DateOfMicros("d")} AS event_date, k AS {key}, min(t) AS session_start, max(t) AS session_end, count(*) AS events
            FROM numbered
            GROUP BY d, k, session_number
            """;
    }
}
