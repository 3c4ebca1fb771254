namespace Lakehouse.Gold.Windows;

/// <summary>
/// The windowed gold tables as DuckDB SELECT statements over an input relation: <c>page_metrics_1m</c>, <c>page_metrics_5m</c>,
/// <c>sensor_metrics_1m</c>, <c>sensor_metrics_5m</c> (tumbling 1-minute windows, and 5-minute windows sliding every minute, all
/// aligned to the UTC minute), <c>sensor_sessions</c> and <c>page_sessions</c> (session windows), and the watermark helpers.
/// </summary>
/// <remarks>
/// <para>
/// Input relations. Web events: <c>timestamp</c> (TIMESTAMPTZ), <c>page_url</c>, <c>session_id</c>, <c>tti_ms</c>,
/// <c>ttar_ms</c> (DOUBLE), <c>status</c> (INTEGER), <c>ingest_time</c> (TIMESTAMPTZ), <c>arrival_watermark</c> (TIMESTAMPTZ,
/// NULL when there was none). Sensor readings: <c>timestamp</c>, <c>sensor_id</c>, <c>device_type</c>, <c>value</c> (DOUBLE,
/// °F for temperatures), <c>status</c> (VARCHAR), <c>ingest_time</c>, <c>arrival_watermark</c>. Rows without a timestamp are
/// left out. <see cref="ArrivalWatermarkSql"/> adds <c>arrival_watermark</c>; <see cref="WatermarkSql"/> gives the current one.
/// </para>
/// <para>
/// Windows are half-open, <c>[window_start, window_end)</c>: an event at 10:00:59.999999 is in the minute of 10:00, one at
/// 10:01:00 in the next. <c>event_date</c> is the UTC date of <c>window_start</c>. A window is final (<c>is_final</c>) once the
/// watermark has reached its end (<c>window_end &lt;= watermark</c>); <c>late_events</c> counts the window's rows whose
/// <c>arrival_watermark</c> had already reached its end when they arrived, which are in the numbers all the same: a recompute
/// of the window's day includes them.
/// </para>
/// <para>
/// Recomputing by day: a 1-minute window holds events of its own date only, but a 5-minute window that starts at 23:56 to
/// 23:59 reaches up to 4 minutes into the next date. To recompute the 5-minute rows of date D, give the events of D and of the
/// first 4 minutes of D + 1, keep the rows whose <c>event_date</c> is D, and count an event in the first 4 minutes of a date as
/// touching the previous date too. Sessions never span two dates (see <see cref="SensorSessions"/>).
/// </para>
/// </remarks>
public static partial class WindowedMetrics
{
    /// <summary>The tumbling window: 1 minute.</summary>
    private static readonly Shape Tumbling = new(WindowSql.MinuteMicros, 1);

    /// <summary>The sliding window: 5 minutes, starting every minute (each event is in 5 windows).</summary>
    private static readonly Shape Sliding = new(5 * WindowSql.MinuteMicros, 5);

    /// <summary>
    /// <c>page_metrics_1m</c>: per page URL and UTC minute, <c>event_date</c>, <c>page_url</c>, <c>window_start</c>,
    /// <c>window_end</c>, <c>events</c> (BIGINT), <c>tti_avg_ms</c>, <c>tti_p95_ms</c> (exact, linearly interpolated),
    /// <c>error_rate</c> (share of rows with status 400 or above), <c>late_events</c> (BIGINT) and <c>is_final</c>.
    /// </summary>
    /// <param name="eventsSql">The web events (see the class remarks).</param>
    /// <param name="watermarkSql">A TIMESTAMPTZ expression for the current watermark, or <c>NULL</c> (no window is final).</param>
    public static string PageMetrics1m(string eventsSql, string watermarkSql) => PageMetrics(eventsSql, watermarkSql, Tumbling);

    /// <summary>
    /// <c>page_metrics_5m</c>: as <see cref="PageMetrics1m"/> over 5-minute windows that start every minute, so each event is
    /// counted in the 5 windows that start in the 5 minutes up to and including its own.
    /// </summary>
    /// <inheritdoc cref="PageMetrics1m" path="/param"/>
    public static string PageMetrics5m(string eventsSql, string watermarkSql) => PageMetrics(eventsSql, watermarkSql, Sliding);

    /// <summary>
    /// <c>sensor_metrics_1m</c>: per sensor and UTC minute, <c>event_date</c>, <c>sensor_id</c>, <c>window_start</c>,
    /// <c>window_end</c>, <c>events</c> (BIGINT), <c>value_avg</c>, <c>value_min</c>, <c>value_max</c>, <c>late_events</c> (BIGINT)
    /// and <c>is_final</c>.
    /// </summary>
    /// <param name="eventsSql">The sensor readings (see the class remarks).</param>
    /// <param name="watermarkSql">A TIMESTAMPTZ expression for the current watermark, or <c>NULL</c> (no window is final).</param>
    public static string SensorMetrics1m(string eventsSql, string watermarkSql) => SensorMetrics(eventsSql, watermarkSql, Tumbling);

    /// <summary><c>sensor_metrics_5m</c>: as <see cref="SensorMetrics1m"/> over 5-minute windows that start every minute.</summary>
    /// <inheritdoc cref="SensorMetrics1m" path="/param"/>
    public static string SensorMetrics5m(string eventsSql, string watermarkSql) => SensorMetrics(eventsSql, watermarkSql, Sliding);

    private static string PageMetrics(string eventsSql, string watermarkSql, Shape shape) => Windowed(
        eventsSql, watermarkSql, shape, key: "page_url", inputColumns: "tti_ms, status",
        measures: """
            avg(tti_ms) AS tti_avg_ms,
              quantile_cont(tti_ms, 0.95) AS tti_p95_ms,
              CAST(count(*) FILTER (WHERE status >= 400) AS DOUBLE) / count(*) AS error_rate
            """);

    private static string SensorMetrics(string eventsSql, string watermarkSql, Shape shape) => Windowed(
        eventsSql, watermarkSql, shape, key: "sensor_id", inputColumns: "value",
        measures: """
            avg(value) AS value_avg,
              min(value) AS value_min,
              max(value) AS value_max
            """);

    /// <summary>
    /// Every event goes into the windows that hold it: window k (0 ≤ k &lt; count) starts k minutes before the event's minute.
    /// Then one group per key and window.
    /// </summary>
    private static string Windowed(string eventsSql, string watermarkSql, Shape shape, string key, string inputColumns, string measures)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(eventsSql);
        ArgumentException.ThrowIfNullOrWhiteSpace(watermarkSql);
        var size = WindowSql.Interval(shape.SizeMicros);
        var slide = WindowSql.Interval(WindowSql.MinuteMicros);
        var placement = shape.Count == 1
            ? "SELECT minute AS window_start, * EXCLUDE (minute) FROM minutes"
            : $"SELECT minute - k.i * {slide} AS window_start, * EXCLUDE (minute, i) FROM minutes CROSS JOIN range({shape.Count}) AS k(i)";
        return $"""
            WITH minutes AS (
              SELECT {WindowSql.MinuteStart("timestamp")} AS minute, {key}, {inputColumns}, arrival_watermark
              FROM ({eventsSql}) AS events
              WHERE timestamp IS NOT NULL
            ),
            placed AS (
              {placement}
            ),
            windows AS (
              SELECT window_start, window_start + {size} AS window_end, {key}, {inputColumns}, arrival_watermark
              FROM placed
            )
            SELECT
              {WindowSql.UtcDate("window_start")} AS event_date,
              {key},
              window_start,
              window_end,
              count(*) AS events,
              {measures},
              count(*) FILTER (WHERE arrival_watermark >= window_end) AS late_events,
              coalesce(window_end <= CAST(({watermarkSql}) AS TIMESTAMPTZ), false) AS is_final
            FROM windows
            GROUP BY window_start, window_end, {key}
            """;
    }

    /// <summary>A window's length and how many windows hold each event (the slide is always one minute).</summary>
    private sealed record Shape(long SizeMicros, int Count);
}
