using System.Globalization;

namespace Lakehouse.Gold.Windows;

/// <summary>
/// SQL fragments the window and alert builders share. Times are handled in UTC whatever the session's time zone. Per-row
/// work is integer arithmetic on microseconds since 1970 (<c>epoch_us</c>): truncating to the minute or the day and
/// comparing durations that way is exact and about ten times cheaper than DuckDB's time-zone functions (measured: 4M rows,
/// 0.17 s against 1.6 s of CPU), which are kept for the few output rows that need text.
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

    /// <summary>
    /// The average of <paramref name="sortedList"/> (a sorted LIST of DOUBLE), added in its order so a rerun gives the same bits;
    /// <paramref name="lowest"/> and <paramref name="highest"/> are its first and last values. Readings near the largest double
    /// (value_plausible only warns) overflowed that sum to infinity: when a magnitude is 2^960 or more, the values are scaled by
    /// 2^-65 first and the average back by 2^65 (both exact), so no partial sum of up to 2^63 values overflows. Below 2^960 the
    /// values are added as they are: the same bits as before.
    /// </summary>
    internal static string SortedAverage(string sortedList, string lowest, string highest) =>
        $"CASE WHEN greatest(-({lowest}), {highest}) < {Double(Math.ScaleB(1, 960))} THEN list_avg({sortedList}) " +
        $"ELSE list_avg(list_transform({sortedList}, scaled -> scaled * {Double(Math.ScaleB(1, -65))})) * {Double(Math.ScaleB(1, 65))} END";

    /// <summary>
    /// The three aggregates over a DOUBLE <paramref name="column"/> that <see cref="ExactAverage"/> combines: the exact sum of its
    /// values as decimals with 9 places (<c>DECIMAL(27, 9)</c>: below 10^18 in magnitude, so that 10^11 of them add up within
    /// <c>DECIMAL(38, 9)</c>), the count of its values, and the list of those the decimal cannot hold (NULL when none).
    /// <paramref name="listed"/>: an aggregate the same query computes anyway, the list of the column's non-null values, which
    /// the list of large values is then filtered from when there are any (an aggregate of its own cost 10 % of the 1-minute parts).
    /// </summary>
    internal static (string DecimalSum, string Count, string Large) AverageParts(string column, string? listed = null)
    {
        var asDecimal = $"TRY_CAST({column} AS DECIMAL(27, 9))";
        var large = listed is null
            ? $"list({column}) FILTER (WHERE {column} IS NOT NULL AND {asDecimal} IS NULL)"
            : $"CASE WHEN count({asDecimal}) < count({column}) THEN list_filter({listed}, listed -> TRY_CAST(listed AS DECIMAL(27, 9)) IS NULL) END";
        return ($"sum({asDecimal})", $"count({column})", large);
    }

    /// <summary>
    /// An average that every run gives to the same bit, whatever order the rows come in (a parallel avg of doubles depends on the
    /// order the threads add them in): the decimal sum of the ordinary values over the count, NULL for none, from the aggregates
    /// of <see cref="AverageParts"/> (or sums of them, and the flattened lists). A value of 10^18 or more in magnitude (a TTI in
    /// the wrong unit that an expectation set to warn let through; 1e30 failed the decimal cast, and with it the whole gold run),
    /// or not finite, is added as a double, in sorted order after the decimal sum, each scaled by 2^-65 so that no partial sum overflows,
    /// and the average scaled back. Without them the result is the plain decimal average.
    /// </summary>
    internal static string ExactAverage(string decimalSum, string count, string large) =>
        $"CASE WHEN coalesce(len({large}), 0) = 0 THEN CAST({decimalSum} AS DOUBLE) / nullif({count}, 0) " +
        $"ELSE list_sum(list_prepend(coalesce(CAST({decimalSum} AS DOUBLE), 0) * {Double(Math.ScaleB(1, -65))}, " +
        $"list_transform(list_sort({large}), large -> large * {Double(Math.ScaleB(1, -65))}))) / {count} * {Double(Math.ScaleB(1, 65))} END";

    /// <summary>
    /// A DOUBLE as message text with the fewest digits that read back as the same double, as the table holds it (<c>100.04</c>,
    /// <c>100.0</c>, <c>1.6e+308</c>): printf's <c>%.1f</c> printed 100.04 as 100.0 (so "100.0 °F is above the 100.0 °F limit")
    /// and wrong digits from the 18th on for values over about 1e44.
    /// </summary>
    internal static string Text(string number) => $"CAST(CAST({number} AS DOUBLE) AS VARCHAR)";

    /// <summary>
    /// A ratio as a percentage for messages: to 0.1 below 1e15 %, else with the fewest digits that read back as the same
    /// double, and <c>more than 1.7976931348623157e+308</c> when the percentage is past the largest double.
    /// </summary>
    internal static string Percent(string ratio) =>
        $"CASE WHEN ({ratio}) * 100 < 1e15 THEN printf('%.1f', ({ratio}) * 100) WHEN isfinite(({ratio}) * 100) THEN {Text($"({ratio}) * 100")} " +
        "ELSE 'more than 1.7976931348623157e+308' END";

    /// <summary>A BIGINT literal.</summary>
    internal static string Integer(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary><paramref name="micros"/> (BIGINT) rounded down to a multiple of <paramref name="unit"/>, also before 1970.</summary>
    internal static string Floor(string micros, long unit)
    {
        var u = Integer(unit);
        return $"({micros} - (({micros}) % {u} + {u}) % {u})";
    }

    /// <summary>
    /// The TIMESTAMPTZ at <paramref name="wholeSecondMicros"/> microseconds since 1970, which must be whole seconds (a window
    /// boundary): then the conversion through seconds is exact.
    /// </summary>
    internal static string TimestampOfWholeSeconds(string wholeSecondMicros) => $"to_timestamp(CAST(({wholeSecondMicros}) // 1000000 AS DOUBLE))";

    /// <summary>The TIMESTAMPTZ at <paramref name="micros"/> (BIGINT) microseconds since 1970, exactly; NULL for NULL.</summary>
    internal static string TimestampOfMicros(string micros) => $"(TIMESTAMPTZ '1970-01-01 00:00:00+00' + to_microseconds({micros}))";

    /// <summary>The UTC date (DATE) of an instant given in microseconds since 1970.</summary>
    internal static string DateOfMicros(string micros) => $"CAST(DATE '1970-01-01' + CAST({Floor(micros, DayMicros)} // {Integer(DayMicros)} AS INTEGER) AS DATE)";

    /// <summary>The UTC date (DATE) of <paramref name="timestamp"/>.</summary>
    internal static string UtcDate(string timestamp) => $"CAST(timezone('UTC', {timestamp}) AS DATE)";

    /// <summary>UTC midnight (TIMESTAMPTZ) at the start of <paramref name="date"/>.</summary>
    internal static string DateStart(string date) => $"timezone('UTC', CAST({date} AS TIMESTAMP))";

    /// <summary>ISO-8601 UTC text with microseconds, e.g. <c>2026-01-01T10:00:00.000000Z</c> (the form alert ids hash).</summary>
    internal static string Iso(string timestamp) => $"strftime(timezone('UTC', {timestamp}), '%Y-%m-%dT%H:%M:%S.%fZ')";

    /// <summary>Readable UTC text to the second, e.g. <c>2026-01-01 10:00:00 UTC</c>, for messages.</summary>
    internal static string Readable(string timestamp) => $"strftime(timezone('UTC', {timestamp}), '%Y-%m-%d %H:%M:%S UTC')";
}
