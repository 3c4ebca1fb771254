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
    /// A reading starts a session when it is the first of its key and date or follows the previous one by more than the gap.
    /// One hash aggregate gathers each key's times of the date, sorted; the session starts are the positions after a longer pause,
    /// and each session is read off the sorted list (readings with equal times are never apart). No window function: sorting the
    /// whole day by key twice cost several times more.
    /// </summary>
    private static string Sessions(string eventsSql, TimeSpan gap, string key)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(eventsSql);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(gap, TimeSpan.Zero);
        var gapMicros = WindowSql.Integer(WindowSql.Micros(WindowSql.WholeMicroseconds(gap, nameof(gap))));
        return $"""
            WITH keyed AS (
              SELECT k, d, list_sort(list(t)) AS ts
              FROM (
                SELECT {key} AS k, timestamp AS t, {WindowSql.Floor("epoch_us(timestamp)", WindowSql.DayMicros)} AS d
                FROM ({eventsSql}) AS events
                WHERE {key} IS NOT NULL AND timestamp IS NOT NULL
              ) AS timed
              GROUP BY k, d
            ),
            starts AS (
              SELECT k, d, ts,
                list_filter(range(1, len(ts) + 1), i -> i = 1 OR epoch_us(ts[i]) - epoch_us(ts[i - 1]) > {gapMicros}) AS sp
              FROM keyed
            ),
            sessions AS (
              SELECT k, d, unnest(list_transform(range(1, len(sp) + 1), j -> struct_pack(
                session_start := ts[sp[j]],
                session_end := ts[CASE WHEN j < len(sp) THEN sp[j + 1] - 1 ELSE len(ts) END],
                events := CAST((CASE WHEN j < len(sp) THEN sp[j + 1] ELSE len(ts) + 1 END) - sp[j] AS BIGINT)
              ))) AS s
              FROM starts
            )
            SELECT {WindowSql.DateOfMicros("d")} AS event_date, k AS {key}, s.session_start, s.session_end, s.events
            FROM sessions
            """;
    }
}
