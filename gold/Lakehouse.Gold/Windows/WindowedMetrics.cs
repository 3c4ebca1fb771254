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
    /// <summary>How many 1-minute steps a sliding window spans (5 minutes, starting every minute).</summary>
    internal const int SlidingMinutes = 5;

    /// <summary>
    /// How far past the end of its date a window of the date reaches (a 5-minute window starting at 23:59 ends at 00:04 the next
    /// day): the events of the next day a recompute of a date needs, at most.
    /// </summary>
    internal static TimeSpan ReachPastMidnight => TimeSpan.FromMinutes(SlidingMinutes);

    /// <summary>
    /// <c>page_metrics_1m</c>: per page URL and UTC minute, <c>event_date</c>, <c>page_url</c>, <c>window_start</c>,
    /// <c>window_end</c>, <c>events</c> (BIGINT), <c>tti_avg_ms</c>, <c>tti_p95_ms</c> (exact, linearly interpolated),
    /// <c>error_rate</c> (share of rows with status 400 or above), <c>late_events</c> (BIGINT) and <c>is_final</c>.
    /// </summary>
    /// <param name="staging">Where the per-minute parts are staged and the list measures computed (<see cref="WindowLists"/>).</param>
    /// <param name="eventsSql">The web events (see the class remarks).</param>
    /// <param name="watermarkSql">A TIMESTAMPTZ expression for the current watermark, or <c>NULL</c> (no window is final).</param>
    internal static string PageMetrics1m(IGoldStaging staging, string eventsSql, string watermarkSql) => Page1m.Windowed(Page1m.Aggregate(staging, eventsSql), watermarkSql);

    /// <summary>
    /// <c>page_metrics_5m</c>: as <see cref="PageMetrics1m"/> over 5-minute windows that start every minute, so each event is
    /// counted in the 5 windows that start in the 5 minutes up to and including its own.
    /// </summary>
    /// <param name="staging">Where the per-minute parts are staged and the list measures computed (<see cref="WindowLists"/>).</param>
    /// <param name="eventsSql">The web events (see the class remarks).</param>
    /// <param name="watermarkSql">A TIMESTAMPTZ expression for the current watermark, or <c>NULL</c> (no window is final).</param>
    internal static string PageMetrics5m(IGoldStaging staging, string eventsSql, string watermarkSql) => Page5m.Windowed(Page5m.Aggregate(staging, eventsSql), watermarkSql);

    /// <summary>
    /// <c>sensor_metrics_1m</c>: per sensor and UTC minute, <c>event_date</c>, <c>sensor_id</c>, <c>window_start</c>,
    /// <c>window_end</c>, <c>events</c> (BIGINT), <c>value_avg</c>, <c>value_min</c>, <c>value_max</c>, <c>late_events</c> (BIGINT)
    /// and <c>is_final</c>.
    /// </summary>
    /// <param name="staging">Where the per-minute parts are staged and the list measures computed (<see cref="WindowLists"/>).</param>
    /// <param name="eventsSql">The sensor readings (see the class remarks).</param>
    /// <param name="watermarkSql">A TIMESTAMPTZ expression for the current watermark, or <c>NULL</c> (no window is final).</param>
    internal static string SensorMetrics1m(IGoldStaging staging, string eventsSql, string watermarkSql) => Sensor1m.Windowed(Sensor1m.Aggregate(staging, eventsSql), watermarkSql);

    /// <summary><c>sensor_metrics_5m</c>: as <see cref="SensorMetrics1m"/> over 5-minute windows that start every minute.</summary>
    /// <param name="staging">Where the per-minute parts are staged and the list measures computed (<see cref="WindowLists"/>).</param>
    /// <param name="eventsSql">The sensor readings (see the class remarks).</param>
    /// <param name="watermarkSql">A TIMESTAMPTZ expression for the current watermark, or <c>NULL</c> (no window is final).</param>
    internal static string SensorMetrics5m(IGoldStaging staging, string eventsSql, string watermarkSql) => Sensor5m.Windowed(Sensor5m.Aggregate(staging, eventsSql), watermarkSql);

    /// <summary>The page measures' parts per minute (the TTIs themselves for the exact percentile).</summary>
    private static string PageParts
    {
        get
        {
            const string Values = "list(tti_ms) FILTER (WHERE tti_ms IS NOT NULL)";
            var (decimalSum, count, large) = WindowSql.AverageParts("tti_ms", listed: Values);
            return $"""
        {decimalSum} AS tti_sum,
          {count} AS tti_count,
          {large} AS tti_large,
          {Values} AS tti_values,
          count(*) FILTER (WHERE status >= 400) AS errors
        """;
        }
    }

    /// <summary>The page measures of a window from the parts of its minutes, but the percentile: C# takes it from the TTI lists (<see cref="WindowLists"/>).</summary>
    private static string PageCombined => $"""
        {WindowSql.ExactAverage("sum(tti_sum)", "sum(tti_count)", "flatten(list(tti_large))")} AS tti_avg_ms,
          CAST(sum(errors) AS DOUBLE) / sum(events) AS error_rate
        """;

    /// <summary>
    /// The sensor measures' parts per minute: the values themselves, for an average that adds them sorted, so a rerun gives the
    /// same bits (a parallel avg of doubles depends on the order the threads add them in: two gold runs of one lake differed in
    /// the last digit of 320 of 16,099 5-minute windows). Readings are doubles of any size (value_plausible only warns), so the
    /// pages' exact decimal sum could overflow here.
    /// </summary>
    private const string SensorParts = """
        list(value) FILTER (WHERE value IS NOT NULL) AS "values",
          min(value) AS value_min,
          max(value) AS value_max
        """;

    /// <summary>The sensor measures of a window from the parts of its minutes.</summary>
    private static string SensorCombined => $"""
        {WindowSql.SortedAverage("list_sort(flatten(list(\"values\")))", "min(value_min)", "max(value_max)")} AS value_avg,
          min(value_min) AS value_min,
          max(value_max) AS value_max
        """;

    /// <summary>The output columns every window table starts with, from <c>start_us</c> (BIGINT) and the key.</summary>
    private static string Head(string key, long sizeMicros) => $"""
        {WindowSql.DateOfMicros("start_us")} AS event_date,
              {key},
              {WindowSql.TimestampOfWholeSeconds("start_us")} AS window_start,
              {WindowSql.TimestampOfWholeSeconds("start_us + " + WindowSql.Integer(sizeMicros))} AS window_end
        """;

    /// <summary>A window is final once the watermark has reached its end; never without a watermark.</summary>
    private static string IsFinal(string watermarkSql, long sizeMicros) =>
        $"coalesce(start_us + {WindowSql.Integer(sizeMicros)} <= epoch_us(CAST(({watermarkSql}) AS TIMESTAMPTZ)), false) AS is_final";

    /// <summary>
    /// <c>is_final</c> of a window table's row from its <paramref name="windowEnd"/> column: the same as the windows compute it, for
    /// rows an incremental run keeps while the watermark moves on.
    /// </summary>
    internal static string IsFinal(string windowEnd, string watermarkSql) =>
        $"coalesce(epoch_us({windowEnd}) <= epoch_us(CAST(({watermarkSql}) AS TIMESTAMPTZ)), false)";
}
