namespace Lakehouse.Gold.Windows;

public static partial class WindowedMetrics
{
    /// <summary>
    /// The events of <paramref name="allEventsSql"/> with one more column, <c>arrival_watermark</c>: the watermark when the
    /// row arrived, that is the newest event time among the rows ingested strictly before it (earlier <c>ingest_time</c>)
    /// minus <paramref name="delay"/>; NULL for the rows of the first ingest, and for rows without an ingest time.
    /// </summary>
    /// <remarks>
    /// Rows with the same <c>ingest_time</c> are one micro-batch and never make each other late. The relation must hold every
    /// event ingested before the rows of interest (the watermark is global to the dataset); filter the result by date after,
    /// not the input before. An <c>arrival_watermark</c> column already in it is replaced.
    /// </remarks>
    /// <param name="allEventsSql">Every event of the dataset, with <c>timestamp</c> and <c>ingest_time</c> (TIMESTAMPTZ).</param>
    /// <param name="delay">How far the watermark stays behind the newest event time (<see cref="WindowSettings.WatermarkDelay"/>).</param>
    /// <param name="futureTolerance">Rows stamped more than this after their ingest time do not move the watermark (<see cref="WindowSettings.FutureTolerance"/>; default its default).</param>
    public static string ArrivalWatermarkSql(string allEventsSql, TimeSpan delay, TimeSpan? futureTolerance = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(allEventsSql);
        var interval = WindowSql.Interval(WindowSettings.CheckDelay(delay));
        return $"""
            WITH arriving AS (
              SELECT COLUMNS(lambda c: c <> 'arrival_watermark') FROM ({allEventsSql}) AS all_events
            ),
            batches AS (
              SELECT ingest_time, max(timestamp) FILTER (WHERE {WithinTolerance(futureTolerance)}) AS newest
              FROM arriving
              WHERE ingest_time IS NOT NULL
              GROUP BY ingest_time
            ),
            marks AS (
              SELECT ingest_time,
                max(newest) OVER (ORDER BY ingest_time ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) - {interval} AS arrival_watermark
              FROM batches
            )
            SELECT arriving.*, marks.arrival_watermark
            FROM arriving LEFT JOIN marks ON arriving.ingest_time = marks.ingest_time
            """;
    }

    /// <summary>
    /// A TIMESTAMPTZ expression (a scalar subquery) for the current watermark: the newest event time in
    /// <paramref name="allEventsSql"/> (of the rows not stamped more than the future tolerance after their ingest time) minus
    /// <paramref name="delay"/>; NULL when there is no event. Pass it as the <c>watermarkSql</c> of the window builders.
    /// </summary>
    /// <param name="allEventsSql">Every event of the dataset (at least the newest), with <c>timestamp</c> and <c>ingest_time</c>.</param>
    /// <param name="delay">How far the watermark stays behind the newest event time.</param>
    /// <param name="futureTolerance">As for <see cref="ArrivalWatermarkSql"/>.</param>
    public static string WatermarkSql(string allEventsSql, TimeSpan delay, TimeSpan? futureTolerance = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(allEventsSql);
        var interval = WindowSql.Interval(WindowSettings.CheckDelay(delay));
        return $"(SELECT max(timestamp) FILTER (WHERE {WithinTolerance(futureTolerance)}) - {interval} FROM ({allEventsSql}) AS watermark_events)";
    }

    /// <summary>A row may move the watermark: its time is not more than the future tolerance after its ingest time (or it has none).</summary>
    private static string WithinTolerance(TimeSpan? futureTolerance)
    {
        var tolerance = (WindowSettings.Default with { FutureTolerance = futureTolerance ?? WindowSettings.Default.FutureTolerance }).FutureTolerance;
        return $"NOT coalesce(timestamp > ingest_time + {WindowSql.Interval(tolerance)}, false)";
    }

    /// <summary>
    /// One row, one column <c>late_events</c> (BIGINT): how many rows of <paramref name="eventsSql"/> were behind the watermark
    /// when they arrived (<c>timestamp &lt; arrival_watermark</c>, the rows Spark would drop; here they are counted, reported
    /// and included in the recompute of their day).
    /// </summary>
    /// <param name="eventsSql">Events with <c>timestamp</c> and <c>arrival_watermark</c> (TIMESTAMPTZ).</param>
    public static string LateEventsSql(string eventsSql)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(eventsSql);
        return $"SELECT count(*) AS late_events FROM ({eventsSql}) AS events WHERE timestamp < arrival_watermark";
    }
}
