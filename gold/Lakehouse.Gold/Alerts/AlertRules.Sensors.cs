using Lakehouse.Gold.Windows;

namespace Lakehouse.Gold.Alerts;

public static partial class AlertRules
{
    /// <summary>
    /// The sensor rules (<c>temperature_high</c>, <c>temperature_low</c>, <c>sensor_silent</c>, <c>value_spike</c>,
    /// <c>status_error</c>) over the readings in <paramref name="eventsSql"/>.
    /// </summary>
    /// <remarks>
    /// Give every reading from some start time up to the newest, with no upper cut: the trailing form of <c>sensor_silent</c>
    /// takes a sensor's last reading in the input as its last reading, and a pause or a rise is only seen when both of its
    /// readings are in the input. To recompute the days from D, a start of D − 1 day (at least
    /// <see cref="AlertSettings.SilentAfter"/> and <see cref="AlertSettings.SpikeWindow"/> before D) finds every condition that
    /// begins on D or later and pauses up to a day long that began before it; alerts found for earlier dates have ids already
    /// seen and are kept once by the writer.
    /// </remarks>
    /// <param name="eventsSql">Sensor readings: <c>timestamp</c> (TIMESTAMPTZ), <c>sensor_id</c>, <c>device_type</c>, <c>value</c> (DOUBLE, °F for temperatures), <c>status</c>.</param>
    /// <param name="watermarkSql">A TIMESTAMPTZ expression for the current watermark, or <c>NULL</c> (then only pauses that ended are found).</param>
    /// <param name="settings">The thresholds.</param>
    public static string SensorAlerts(string eventsSql, string watermarkSql, AlertSettings settings)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(eventsSql);
        ArgumentException.ThrowIfNullOrWhiteSpace(watermarkSql);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var minute = WindowSql.Integer(WindowSql.MinuteMicros);
        var high = WindowSql.Double(settings.TemperatureHighF);
        var low = WindowSql.Double(settings.TemperatureLowF);
        var silentMicros = WindowSql.Integer(WindowSql.Micros(settings.SilentAfter));
        var silentSeconds = WindowSql.Double(settings.SilentAfter.TotalSeconds);
        var silentMinutes = WindowSql.Double(settings.SilentAfter.TotalMinutes);
        var spike = WindowSql.Double(settings.SpikeRise);
        var spikeWindowSeconds = WindowSql.Double(settings.SpikeWindow.TotalSeconds);
        var minuteStart = WindowSql.TimestampOfWholeSeconds("minute_us");
        var minuteEnd = WindowSql.TimestampOfWholeSeconds($"minute_us + {minute}");
        var minuteText = WindowSql.Readable(minuteStart);
        return Finish($"""
            WITH readings AS (
              SELECT sensor_id, t, us, {WindowSql.Floor("us", WindowSql.MinuteMicros)} AS minute_us, device_type, value, status
              FROM (
                SELECT CAST(sensor_id AS VARCHAR) AS sensor_id, timestamp AS t, epoch_us(timestamp) AS us, lower(device_type) AS device_type,
                  value, lower(status) AS status
                FROM ({eventsSql}) AS events
                WHERE sensor_id IS NOT NULL AND timestamp IS NOT NULL
              ) AS timed
            ),
            temperatures AS (
              SELECT sensor_id, minute_us, max(value) AS highest, min(value) AS lowest
              FROM readings
              WHERE device_type = 'temperature' AND value IS NOT NULL
              GROUP BY sensor_id, minute_us
            ),
            errors AS (
              SELECT sensor_id, minute_us, count(*) AS readings, count(*) FILTER (WHERE status = 'error') AS errors,
                count(*) FILTER (WHERE status = 'critical') AS criticals
              FROM readings
              WHERE status IN ('error', 'critical')
              GROUP BY sensor_id, minute_us
            ),
            earlier AS (
              SELECT sensor_id, minute_us, value,
                min(value) FILTER (WHERE value > 0) OVER spike_frame AS lowest_positive,
                max(value) FILTER (WHERE value < 0) OVER spike_frame AS highest_negative,
                min(value) FILTER (WHERE value < 0) OVER spike_frame AS lowest_negative
              FROM readings
              WHERE value IS NOT NULL
              WINDOW spike_frame AS (PARTITION BY sensor_id ORDER BY us
                RANGE BETWEEN {WindowSql.Integer(WindowSql.Micros(settings.SpikeWindow))} PRECEDING AND CURRENT ROW EXCLUDE GROUP)
            ),
            rises AS (
              SELECT sensor_id, minute_us, value,
                greatest(
                  (value - lowest_positive) / lowest_positive,
                  (value - highest_negative) / -highest_negative,
                  (value - lowest_negative) / -lowest_negative) AS rise
              FROM earlier
            ),
            spikes AS (
              SELECT sensor_id, minute_us, max(rise) AS rise, arg_max(value, rise) AS peak
              FROM rises
              WHERE rise > {spike}
              GROUP BY sensor_id, minute_us
            ),
            pauses AS (
              SELECT sensor_id, t AS last_reading, us, lead(t) OVER next_frame AS next_reading, lead(us) OVER next_frame AS next_us
              FROM (SELECT DISTINCT sensor_id, t, us FROM readings) AS moments
              WINDOW next_frame AS (PARTITION BY sensor_id ORDER BY us)
            ),
            silences AS (
              SELECT sensor_id, last_reading, next_reading, (next_us - us) / 1e6 AS seconds
              FROM pauses
              WHERE next_us - us > {silentMicros}
            ),
            still_silent AS (
              SELECT sensor_id, last_reading, watermark, (epoch_us(watermark) - last_us) / 1e6 AS seconds
              FROM (
                SELECT sensor_id, max(t) AS last_reading, max(us) AS last_us, CAST(({watermarkSql}) AS TIMESTAMPTZ) AS watermark
                FROM readings
                GROUP BY sensor_id
              ) AS lasts
              WHERE epoch_us(watermark) - last_us > {silentMicros}
            )
            SELECT '{TemperatureHigh}' AS rule, sensor_id AS key, {minuteStart} AS window_start, {minuteEnd} AS window_end,
              highest AS value, {high} AS threshold,
              printf('Sensor %s: temperature %s °F is above the %s °F limit in the minute from %s',
                sensor_id, {WindowSql.Text("highest")}, {WindowSql.Text(high)}, {minuteText}) AS message
            FROM temperatures WHERE highest > {high}
            UNION ALL
            SELECT '{TemperatureLow}', sensor_id, {minuteStart}, {minuteEnd}, lowest, {low},
              printf('Sensor %s: temperature %s °F is below the %s °F limit in the minute from %s',
                sensor_id, {WindowSql.Text("lowest")}, {WindowSql.Text(low)}, {minuteText})
            FROM temperatures WHERE lowest < {low}
            UNION ALL
            SELECT '{StatusError}', sensor_id, {minuteStart}, {minuteEnd}, readings, 1,
              printf('Sensor %s: %d reading(s) with status error and %d with status critical in the minute from %s',
                sensor_id, errors, criticals, {minuteText})
            FROM errors
            UNION ALL
            SELECT '{ValueSpike}', sensor_id, {minuteStart}, {minuteEnd}, rise, {spike},
              printf('Sensor %s: a reading of %s rose %s %% above an earlier reading within %g s (limit %.1f %%) in the minute from %s',
                sensor_id, {WindowSql.Text("peak")}, {WindowSql.Percent("rise")}, {spikeWindowSeconds}, {spike} * 100, {minuteText})
            FROM spikes
            UNION ALL
            SELECT '{SensorSilent}', sensor_id, last_reading, next_reading, seconds, {silentSeconds},
              printf('Sensor %s sent nothing for %.1f minutes, from %s to %s (limit %g minutes)',
                sensor_id, seconds / 60, {WindowSql.Readable("last_reading")}, {WindowSql.Readable("next_reading")}, {silentMinutes})
            FROM silences
            UNION ALL
            SELECT '{SensorSilent}', sensor_id, last_reading, last_reading + {WindowSql.Interval(settings.SilentAfter)}, seconds, {silentSeconds},
              printf('Sensor %s has sent nothing since %s, %.1f minutes before the watermark %s (limit %g minutes)',
                sensor_id, {WindowSql.Readable("last_reading")}, seconds / 60, {WindowSql.Readable("watermark")}, {silentMinutes})
            FROM still_silent
            """);
    }
}
