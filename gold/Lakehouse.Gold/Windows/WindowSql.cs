using System.Globalization;

namespace Lakehouse.Gold.Windows;

/// <summary>
/// SQL fragments the window and alert builders share. Times are handled in UTC whatever the session's time zone: a
/// TIMESTAMPTZ is turned into UTC wall-clock time before it is truncated or given a date, and durations are compared as
/// whole microseconds (<c>epoch_us</c>), never as calendar intervals.
/// </summary>
internal static class WindowSql
{
    /// <summary>One minute in microseconds.</summary>
    internal const long MinuteMicros = 60_000_000;

    /// <summary>One day in microseconds.</summary>
    internal const long DayMicros = 86_400_000_000;

    /// <summary>Refuses a duration finer than DuckDB's microsecond timestamps (it would be truncated silently).</summary>
    internal static TimeSpan WholeMicroseconds(TimeSpan value, string name) =>
        value.Ticks % TimeSpan.TicksPerMicrosecond == 0
            ? value
            : throw new ArgumentOutOfRangeException(name, value, "The duration must be a whole number of microseconds.");

    /// <summary>The duration in microseconds.</summary>
    internal static long Micros(TimeSpan value) => value.Ticks / TimeSpan.TicksPerMicrosecond;

    /// <summary>An exact INTERVAL of <paramref name="micros"/> microseconds (no days or months, so it adds absolute time).</summary>
    internal static string Interval(long micros) => $"to_microseconds(CAST({micros.ToString(CultureInfo.InvariantCulture)} AS BIGINT))";

    /// <inheritdoc cref="Interval(long)"/>
    internal static string Interval(TimeSpan value) => Interval(Micros(value));

    /// <summary>A DOUBLE literal that round-trips <paramref name="value"/> exactly.</summary>
    internal static string Double(double value)
    {
        if (!double.IsFinite(value)) throw new ArgumentOutOfRangeException(nameof(value), value, "Only finite numbers are SQL literals here.");
        return $"CAST('{value.ToString("R", CultureInfo.InvariantCulture)}' AS DOUBLE)";
    }

    /// <summary>A BIGINT literal.</summary>
    internal static string Integer(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>The start (TIMESTAMPTZ) of the UTC minute that holds <paramref name="timestamp"/>.</summary>
    internal static string MinuteStart(string timestamp) => $"timezone('UTC', date_trunc('minute', timezone('UTC', {timestamp})))";

    /// <summary>The UTC date (DATE) of <paramref name="timestamp"/>.</summary>
    internal static string UtcDate(string timestamp) => $"CAST(timezone('UTC', {timestamp}) AS DATE)";

    /// <summary>UTC midnight (TIMESTAMPTZ) at the start of <paramref name="date"/>.</summary>
    internal static string DateStart(string date) => $"timezone('UTC', CAST({date} AS TIMESTAMP))";

    /// <summary>ISO-8601 UTC text with microseconds, e.g. <c>2026-01-01T10:00:00.000000Z</c> (the form alert ids hash).</summary>
    internal static string Iso(string timestamp) => $"strftime(timezone('UTC', {timestamp}), '%Y-%m-%dT%H:%M:%S.%fZ')";

    /// <summary>Readable UTC text to the second, e.g. <c>2026-01-01 10:00:00 UTC</c>, for messages.</summary>
    internal static string Readable(string timestamp) => $"strftime(timezone('UTC', {timestamp}), '%Y-%m-%d %H:%M:%S UTC')";
}
