namespace Lakehouse.Gold.Windows;

public static partial class WindowedMetrics
{
    /// <summary>The suffix of a windowed table's corrections table: <c>sensor_metrics_1m</c> → <c>sensor_metrics_1m_corrections</c>.</summary>
    public const string CorrectionsSuffix = "_corrections";

    private static readonly string[] PageMeasureNames = ["tti_avg_ms", "tti_p95_ms", "error_rate"];
    private static readonly string[] SensorMeasureNames = ["value_avg", "value_min", "value_max"];

    /// <summary>
    /// <c>page_metrics_1m_corrections</c>: for each 1-minute page window that received late events, one row per batch of them
    /// (see <see cref="SensorCorrections1m"/> for the columns): <c>events_on_time</c>, <c>tti_avg_ms_on_time</c>,
    /// <c>tti_p95_ms_on_time</c>, <c>error_rate_on_time</c> next to <c>events</c>, <c>tti_avg_ms</c>, <c>tti_p95_ms</c>, <c>error_rate</c>.
    /// </summary>
    /// <param name="eventsSql">The web events (see the class remarks), with <c>ingest_time</c>.</param>
    public static string PageCorrections1m(string eventsSql) => Corrections(eventsSql, "page_url", "tti_ms, status", PageMeasures, PageMeasureNames, 1);

    /// <summary><c>page_metrics_5m_corrections</c>: as <see cref="PageCorrections1m"/> for the 5-minute windows that start every minute.</summary>
    /// <inheritdoc cref="PageCorrections1m" path="/param"/>
    public static string PageCorrections5m(string eventsSql) => Corrections(eventsSql, "page_url", "tti_ms, status", PageMeasures, PageMeasureNames, SlidingMinutes);

    /// <summary>
    /// <c>sensor_metrics_1m_corrections</c>: for each 1-minute sensor window that received late events (rows that arrived when the
    /// watermark had already passed the window's end), one row per revision n ≥ 1: the window's result after its n-th batch of late
    /// events (a batch is one <c>ingest_time</c>), next to its on-time result (the rows that had arrived while it was open, the
    /// answer it had when it became final). Columns: <c>event_date</c>, <c>sensor_id</c>, <c>window_start</c>, <c>window_end</c>,
    /// <c>revision</c> (BIGINT, 1 for the first late batch), <c>revised_at</c> (the <c>ingest_time</c> of that batch),
    /// <c>late_events</c> (late rows in the numbers of this revision), then each measure on time and corrected:
    /// <c>events_on_time</c>, <c>events</c>, <c>value_avg_on_time</c>, <c>value_avg</c>, <c>value_min_on_time</c>, <c>value_min</c>,
    /// <c>value_max_on_time</c>, <c>value_max</c>.
    /// </summary>
    /// <remarks>
    /// Which rows are on time is a property of the data (each row's <c>arrival_watermark</c>, from the ingest order), so the on-time
    /// result and every revision come out the same from any run over the same silver rows: a rerun or a range recompute keeps them.
    /// A window whose events all arrived late has <c>events_on_time</c> 0 and null on-time measures. The latest revision equals the
    /// window's row in the windowed table itself.
    /// </remarks>
    /// <param name="eventsSql">The sensor readings (see the class remarks), with <c>ingest_time</c>.</param>
    public static string SensorCorrections1m(string eventsSql) => Corrections(eventsSql, "sensor_id", "value", SensorMeasures, SensorMeasureNames, 1);

    /// <summary><c>sensor_metrics_5m_corrections</c>: as <see cref="SensorCorrections1m"/> for the 5-minute windows that start every minute.</summary>
    /// <inheritdoc cref="SensorCorrections1m" path="/param"/>
    public static string SensorCorrections5m(string eventsSql) => Corrections(eventsSql, "sensor_id", "value", SensorMeasures, SensorMeasureNames, SlidingMinutes);

    /// <summary>
    /// Windows of <paramref name="minutes"/> minutes starting every minute. Only rows late for some window (arrived after the end of
    /// the shortest window that holds them) are expanded first, to find the late windows; then only the rows of those windows are
    /// placed in them, numbered by late batch, and each row counted in every revision from its batch on.
    /// </summary>
    private static string Corrections(string eventsSql, string key, string inputColumns, string measures, string[] names, int minutes)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(eventsSql);
        var minute = WindowSql.Integer(WindowSql.MinuteMicros);
        var n = WindowSql.Integer(minutes);
        var size = (long)minutes * WindowSql.MinuteMicros;
        var sameKey = (string a, string b) => $"{a}.{key} IS NOT DISTINCT FROM {b}.{key}";
        var pairs = string.Join(",\n      ", names.Select(m => $"o.{m} AS {m}_on_time, c.{m}"));
        return $"""
            WITH timed AS (
              SELECT {WindowSql.Floor("epoch_us(timestamp)", WindowSql.MinuteMicros)} AS minute_us, {key}, {inputColumns},
                epoch_us(arrival_watermark) AS arrival_us, ingest_time
              FROM ({eventsSql}) AS events
              WHERE timestamp IS NOT NULL
            ),
            late_windows AS (
              SELECT DISTINCT minute_us - k.i * {minute} AS start_us, {key}
              FROM (SELECT * FROM timed WHERE arrival_us >= minute_us + {minute}) AS late_rows CROSS JOIN range({n}) AS k(i)
              WHERE arrival_us >= minute_us + ({n} - k.i) * {minute}
            ),
            late_minutes AS (
              SELECT DISTINCT start_us + j.i * {minute} AS minute_us, {key} FROM late_windows CROSS JOIN range({n}) AS j(i)
            ),
            placed AS (
              SELECT t.minute_us - k.i * {minute} AS start_us, t.*,
                coalesce(t.arrival_us >= t.minute_us + ({n} - k.i) * {minute}, false) AS is_late
              FROM (SELECT * FROM timed AS t SEMI JOIN late_minutes AS l ON t.minute_us = l.minute_us AND {sameKey("t", "l")}) AS t
                CROSS JOIN range({n}) AS k(i)
            ),
            windowed AS (
              SELECT p.* FROM placed AS p SEMI JOIN late_windows AS w ON p.start_us = w.start_us AND {sameKey("p", "w")}
            ),
            batches AS (
              SELECT start_us, {key}, ingest_time, row_number() OVER (PARTITION BY start_us, {key} ORDER BY ingest_time) AS batch
              FROM (SELECT DISTINCT start_us, {key}, ingest_time FROM windowed WHERE is_late) AS late_batches
            ),
            numbered AS (
              SELECT w.*, coalesce(b.batch, 0) AS batch, max(b.batch) OVER (PARTITION BY w.start_us, w.{key}) AS last_batch
              FROM windowed AS w LEFT JOIN batches AS b
                ON w.is_late AND w.start_us = b.start_us AND {sameKey("w", "b")} AND w.ingest_time = b.ingest_time
            ),
            revisions AS (
              SELECT start_us, {key}, revision,
                count(*) AS events,
                {measures},
                count(*) FILTER (WHERE is_late) AS late_events,
                max(ingest_time) FILTER (WHERE is_late) AS revised_at
              FROM (SELECT *, unnest(range(batch, last_batch + 1)) AS revision FROM numbered) AS counted
              GROUP BY start_us, {key}, revision
            ),
            paired AS (
              SELECT c.start_us, c.{key}, c.revision, c.revised_at, c.late_events,
                coalesce(o.events, 0) AS events_on_time, c.events,
                {pairs}
              FROM revisions AS c LEFT JOIN revisions AS o ON o.revision = 0 AND o.start_us = c.start_us AND {sameKey("o", "c")}
              WHERE c.revision >= 1
            )
            SELECT
              {Head(key, size)},
              revision, revised_at, late_events, events_on_time, events,
              {string.Join(", ", names.Select(m => $"{m}_on_time, {m}"))}
            FROM paired
            """;
    }
}
