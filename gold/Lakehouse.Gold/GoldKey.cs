using Lakehouse.Engine;
using Lakehouse.Gold.Windows;

namespace Lakehouse.Gold;

/// <summary>
/// What one row of a gold output depends on, so that an incremental run can recompute only the rows new silver rows reach: each row
/// is a function of the silver rows of one key value (<see cref="Column"/>) in one span of time, its <c>w</c>. For a
/// <see cref="GoldKeySpan.Minute"/> output (1-minute windows) that span is the row's minute; for a <see cref="GoldKeySpan.Sliding"/>
/// one (5-minute windows starting every minute) the five minutes from the window's start; for a <see cref="GoldKeySpan.Day"/> one
/// (sessions, cut at UTC midnight) the row's UTC day.
/// </summary>
/// <remarks>
/// Every query here works on a table of touched keys with columns <c>k</c> (the key's value, possibly NULL, matched with
/// <c>IS NOT DISTINCT FROM</c>) and <c>w</c> (BIGINT microseconds since 1970 for windows, the window's start; DATE for days).
/// </remarks>
internal sealed record GoldKey(string Column, GoldKeySpan Span)
{
    /// <summary>A name for the staged tables of this key (outputs with the same key share them).</summary>
    internal string Name => $"{Span.ToString().ToLowerInvariant()}_{Column}";

    private string K => SqlText.Identifier(Column);

    /// <summary>The UTC date of a touched key's span (<c>w</c>): the event date of the output row it stands for.</summary>
    internal string Date => Span == GoldKeySpan.Day ? "w" : WindowSql.DateOfMicros("w");

    /// <summary>The output rows' <c>w</c>, from their columns.</summary>
    private string OutputSpan => Span == GoldKeySpan.Day ? "o.event_date" : "epoch_us(o.window_start)";

    /// <summary>The UTC minute (microseconds since 1970) of the event time <paramref name="time"/>.</summary>
    private static string Minute(string time) => WindowSql.Floor($"epoch_us({time})", WindowSql.MinuteMicros);

    /// <summary>The <c>w</c> of the span that holds an event at <paramref name="time"/> (a minute, or for sessions its UTC day).</summary>
    private string EventSpan(string time) => Span == GoldKeySpan.Day ? WindowSql.DateOfMicros($"epoch_us({time})") : Minute(time);

    /// <summary>The keys of the output rows the events of <paramref name="newEvents"/> belong to (a 5-minute window: the five that hold its minute).</summary>
    internal string Touched(string newEvents) => Span == GoldKeySpan.Sliding
        ? $"SELECT DISTINCT {K} AS k, m - i * {WindowSql.Integer(WindowSql.MinuteMicros)} AS w FROM (SELECT {K}, {Minute("\"timestamp\"")} AS m FROM {newEvents} WHERE \"timestamp\" IS NOT NULL), range({WindowSql.Integer(WindowedMetrics.SlidingMinutes)}) AS r(i)"
        : $"SELECT DISTINCT {K} AS k, {EventSpan("\"timestamp\"")} AS w FROM {newEvents} WHERE \"timestamp\" IS NOT NULL";

    /// <summary>
    /// The events of <paramref name="events"/> that the output rows of the keys in <paramref name="touched"/> are computed from.
    /// <paramref name="within"/>: the event times their spans cover (<see cref="Times"/>), as a filter on the event time alone, which
    /// DuckDB pushes into a Parquet scan (row groups outside it are skipped by their statistics), where the join reads every row.
    /// </summary>
    internal string Needed(string events, string touched, (string From, string To)? within = null)
    {
        // A sliding window starting at w holds the minutes w to w + 4.
        var spans = Span == GoldKeySpan.Sliding
            ? $"(SELECT DISTINCT k, w + i * {WindowSql.Integer(WindowSql.MinuteMicros)} AS w FROM {touched}, range({WindowSql.Integer(WindowedMetrics.SlidingMinutes)}) AS r(i))"
            : touched;
        var where = within is { } t ? $" WHERE e.\"timestamp\" >= {t.From} AND e.\"timestamp\" < {t.To}" : "";
        return $"SELECT e.* FROM {events} AS e SEMI JOIN {spans} AS t ON e.{K} IS NOT DISTINCT FROM t.k AND {EventSpan("e.\"timestamp\"")} = t.w{where}";
    }

    /// <summary>
    /// A query of one row: the first and the end (microseconds since 1970, BIGINT; NULL without keys) of the event times that the spans
    /// of the keys in <paramref name="touched"/> cover; null for day spans, which a day's rows bound already.
    /// </summary>
    internal string? Times(string touched) => Span switch
    {
        GoldKeySpan.Minute => $"SELECT min(w), max(w) + {WindowSql.Integer(WindowSql.MinuteMicros)} FROM {touched}",
        GoldKeySpan.Sliding => $"SELECT min(w), max(w) + {WindowSql.Integer(WindowedMetrics.SlidingMinutes * WindowSql.MinuteMicros)} FROM {touched}",
        _ => null,
    };

    /// <summary>The rows of <paramref name="output"/> whose keys are in <paramref name="touched"/> (a computation from <see cref="Needed"/> events also yields partial rows of other keys).</summary>
    internal string Recomputed(string output, string touched) =>
        $"SELECT o.* FROM ({output}) AS o SEMI JOIN {touched} AS t ON o.{K} IS NOT DISTINCT FROM t.k AND {OutputSpan} = t.w";

    /// <summary>The rows of <paramref name="existing"/> (the table as the last run left it) whose keys are not in <paramref name="touched"/>.</summary>
    internal string Kept(string existing, string touched) =>
        $"SELECT o.* FROM ({existing}) AS o ANTI JOIN {touched} AS t ON o.{K} IS NOT DISTINCT FROM t.k AND {OutputSpan} = t.w";
}

/// <summary>The span of time one row of a keyed gold output covers (see <see cref="GoldKey"/>).</summary>
internal enum GoldKeySpan
{
    /// <summary>A UTC minute: 1-minute windows.</summary>
    Minute,

    /// <summary>Five minutes from the row's start: 5-minute windows starting every minute.</summary>
    Sliding,

    /// <summary>A UTC day: session windows, which are cut at midnight.</summary>
    Day,
}
