using Lakehouse.Gold.Windows;

namespace Lakehouse.Gold.Alerts;

/// <summary>
/// The alert rules as DuckDB SELECT statements. Each returns <c>alert_id</c> (VARCHAR), <c>rule</c>, <c>key</c>,
/// <c>window_start</c>, <c>window_end</c> (TIMESTAMPTZ), <c>value</c>, <c>threshold</c> (DOUBLE), <c>message</c> and
/// <c>event_date</c> (DATE of <c>window_start</c> in UTC); <c>detected_at</c> is the writer's.
/// </summary>
/// <remarks>
/// <para>
/// One alert per rule, key and window: <c>alert_id</c> is the lower-case hex SHA-256 of <c>rule|key|window_start</c> with the
/// start written <c>yyyy-MM-ddTHH:mm:ss.ffffffZ</c> in UTC, so a rerun over the same or more data finds the same ids, and the
/// writer keeps an alert the first time its id appears (insert where the id is new, never replace). The rules are monotone
/// in the data of a window (more rows can only make a window's maximum higher, its minimum lower, add an error), so an alert
/// found before its window is final stays true; its <c>value</c> is the one seen when it was first found.
/// </para>
/// <para>Rules (names as in DESIGN.md):</para>
/// <list type="bullet">
/// <item><c>temperature_high</c> / <c>temperature_low</c>: per temperature sensor (<c>device_type</c> 'temperature', any case) and
/// UTC minute, the highest reading above <see cref="AlertSettings.TemperatureHighF"/> / the lowest below
/// <see cref="AlertSettings.TemperatureLowF"/>; <c>value</c> = that reading.</item>
/// <item><c>sensor_silent</c>: a pause longer than <see cref="AlertSettings.SilentAfter"/> between consecutive readings of a sensor
/// (window = last reading before it to the next reading, <c>value</c> = the pause in seconds), or a sensor whose last reading is
/// more than that behind the watermark (window = last reading to last reading + SilentAfter, <c>value</c> = watermark − last
/// reading in seconds). Both forms have the same id, so a sensor that resumes is not alerted twice. <c>threshold</c> = SilentAfter
/// in seconds.</item>
/// <item><c>value_spike</c>: a reading more than <see cref="AlertSettings.SpikeRise"/> above an earlier reading of the same sensor
/// at most <see cref="AlertSettings.SpikeWindow"/> before it (rise = (later − earlier) / |earlier|; an earlier reading of 0 has
/// no relative rise); one alert per sensor and UTC minute of the later reading, <c>value</c> = the largest rise in it.</item>
/// <item><c>status_error</c>: readings with status <c>error</c> or <c>critical</c> (any case), per sensor and UTC minute;
/// <c>value</c> = how many, <c>threshold</c> = 1.</item>
/// <item><c>tti_p95_regression</c>: a page's daily p95 TTI above <see cref="AlertSettings.TtiRegressionFactor"/> times its
/// baseline, the average daily p95 over the <see cref="AlertSettings.BaselineDays"/> days before, when at least
/// <see cref="AlertSettings.MinBaselineDays"/> of them have one; window = that UTC day; <c>value</c> = the day's p95,
/// <c>threshold</c> = factor × baseline.</item>
/// </list>
/// <para>
/// Comparisons are strict: a value exactly at its threshold does not fire.
/// </para>
/// </remarks>
public static partial class AlertRules
{
    /// <summary>The rule names, as stored in <c>rule</c>.</summary>
    internal const string TemperatureHigh = "temperature_high";

    /// <inheritdoc cref="TemperatureHigh"/>
    internal const string TemperatureLow = "temperature_low";

    /// <inheritdoc cref="TemperatureHigh"/>
    internal const string SensorSilent = "sensor_silent";

    /// <inheritdoc cref="TemperatureHigh"/>
    internal const string ValueSpike = "value_spike";

    /// <inheritdoc cref="TemperatureHigh"/>
    internal const string StatusError = "status_error";

    /// <inheritdoc cref="TemperatureHigh"/>
    internal const string TtiP95Regression = "tti_p95_regression";

    /// <summary>
    /// Adds the id and the date to a relation of <c>rule</c>, <c>key</c>, <c>window_start</c>, <c>window_end</c>, <c>value</c>,
    /// <c>threshold</c>, <c>message</c>, and fixes the column types.
    /// </summary>
    private static string Finish(string raisedSql) => $"""
        SELECT
          sha256(rule || '|' || key || '|' || {WindowSql.Iso("window_start")}) AS alert_id,
          CAST(rule AS VARCHAR) AS rule,
          CAST(key AS VARCHAR) AS key,
          window_start,
          window_end,
          CAST(value AS DOUBLE) AS value,
          CAST(threshold AS DOUBLE) AS threshold,
          CAST(message AS VARCHAR) AS message,
          {WindowSql.UtcDate("window_start")} AS event_date
        FROM ({raisedSql}) AS raised
        """;
}
