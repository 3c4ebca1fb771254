using System.Globalization;
using Lakehouse.Datasets;
using Lakehouse.Engine;

namespace Lakehouse.Silver;

/// <summary>
/// Each expectation of a dataset as a DuckDB expression over a parsed row: a {rule, action, message} struct when the row breaks
/// it, NULL when it keeps it. A null value passes every check but not_null (as in Delta Live Tables).
/// </summary>
internal static class ExpectationSql
{
    /// <summary>The expression for <paramref name="e"/> on <paramref name="definition"/>'s columns.</summary>
    internal static string Violation(DatasetDefinition definition, DatasetExpectation e)
    {
        var column = definition.Column(e.Column)
            ?? throw new ArgumentException($"Expectation '{e.Name}' checks '{e.Column}', which is not a column of {definition.Name}.", nameof(e));
        var c = SqlText.Identifier(column.Name);
        var name = column.Name;
        string broken, message;
        switch (e.Check)
        {
            case ExpectationCheck.NotNull:
                broken = $"{c} IS NULL";
                message = Text($"{name} is missing");
                break;
            case ExpectationCheck.Between:
                var tests = new List<string>();
                if (e.Min is { } min) tests.Add(LowerBound(c, column.Type, min, e.MinExclusive));
                if (e.Max is { } max) tests.Add(UpperBound(c, column.Type, max, e.MaxExclusive));
                broken = tests.Count == 0 ? "false" : $"{c} IS NOT NULL AND NOT ({string.Join(" AND ", tests)})";
                message = $"{Text(name + " = ")} || CAST({c} AS VARCHAR) || {Text(" is not " + Range(e))}";
                break;
            case ExpectationCheck.In:
                broken = $"{c} IS NOT NULL AND CAST({c} AS VARCHAR) NOT IN ({string.Join(", ", e.Values.Select(SqlText.Literal))})";
                message = $"{Text(name + " = '")} || left(CAST({c} AS VARCHAR), 60) || {Text("' is not one of " + string.Join(", ", e.Values))}";
                break;
            case ExpectationCheck.Matches:
                broken = $"{c} IS NOT NULL AND NOT regexp_matches(CAST({c} AS VARCHAR), {SqlText.Literal(e.Pattern!)})";
                message = $"{Text(name + " = '")} || left(CAST({c} AS VARCHAR), 60) || {Text("' does not match " + e.Pattern)}";
                break;
            case ExpectationCheck.MaxLength:
                broken = $"{c} IS NOT NULL AND length(CAST({c} AS VARCHAR)) > {Number(e.Max ?? 0)}";
                message = $"{Text(name + " has ")} || length(CAST({c} AS VARCHAR)) || {Text(" characters, more than " + Number(e.Max ?? 0))}";
                break;
            case ExpectationCheck.WithinIngestWindow:
                var window = new List<string>();
                if (e.MaxAge is { } age) window.Add($"{c} < {SilverColumns.IngestTime} - to_microseconds({Micros(age)})");
                if (e.MaxFuture is { } future) window.Add($"{c} > {SilverColumns.IngestTime} + to_microseconds({Micros(future)})");
                broken = window.Count == 0 ? "false" : $"{c} IS NOT NULL AND ({string.Join(" OR ", window)})";
                message = $"{Text(name + " ")} || strftime({c}, '%Y-%m-%dT%H:%M:%S.%fZ') || {Text(" is outside the window of its ingest time ")} || strftime({SilverColumns.IngestTime}, '%Y-%m-%dT%H:%M:%S.%fZ')" +
                          $" || {Text($" ({(e.MaxAge is { } a ? "at most " + a.ToString("c", CultureInfo.InvariantCulture) + " before" : "")}{(e.MaxAge is not null && e.MaxFuture is not null ? ", " : "")}{(e.MaxFuture is { } f ? f.ToString("c", CultureInfo.InvariantCulture) + " after" : "")})")}";
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(e), e.Check, "Unknown check.");
        }
        return $"CASE WHEN {broken} THEN {{'rule': {SqlText.Literal(e.Name)}, 'action': {SqlText.Literal(ActionName(e.Action))}, 'message': {message}}} END";
    }

    /// <summary>missing_id for an id column no enabled drop/fail not_null expectation already guards.</summary>
    internal static IEnumerable<string> MissingId(DatasetDefinition definition, IEnumerable<DatasetExpectation> enabled)
    {
        var guarded = enabled.Where(e => e.Check == ExpectationCheck.NotNull && e.Action != ExpectationAction.Warn)
            .Select(e => e.Column).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var id in definition.Id.Columns.Where(i => !guarded.Contains(i)))
        {
            var c = SqlText.Identifier(id);
            yield return $"CASE WHEN {c} IS NULL THEN {{'rule': '{SilverRules.MissingId}', 'action': 'drop', 'message': {Text($"{id} (part of the id) is missing")}}} END";
        }
    }

    internal static string ActionName(ExpectationAction action) => action switch
    {
        ExpectationAction.Warn => "warn",
        ExpectationAction.Drop => "drop",
        ExpectationAction.Fail => "fail",
        _ => throw new ArgumentOutOfRangeException(nameof(action), action, "Unknown action."),
    };

    /// <summary>
    /// <c>c &gt;= min</c> compared in the column's type: on an integer column (BIGINT) the least whole number the bound lets
    /// through, as an integer literal (a literal such as 1.15E+18 made DuckDB compare as doubles, which round beyond 2^53); on a
    /// number column (DOUBLE) the bound's text cast to a double, rounded as the column's values were.
    /// </summary>
    private static string LowerBound(string c, DatasetColumnType type, decimal min, bool exclusive)
    {
        if (type != DatasetColumnType.Integer) return $"{c} {(exclusive ? ">" : ">=")} {AsDouble(min)}";
        // Kept within one past BIGINT's range, where the test means the same for every BIGINT (and +1 cannot overflow).
        var bound = Math.Clamp(min, (decimal)long.MinValue - 1, (decimal)long.MaxValue + 1);
        return $"{c} >= {Number(exclusive ? decimal.Floor(bound) + 1 : decimal.Ceiling(bound))}";
    }

    /// <summary><c>c &lt;= max</c> compared in the column's type (see <see cref="LowerBound"/>).</summary>
    private static string UpperBound(string c, DatasetColumnType type, decimal max, bool exclusive)
    {
        if (type != DatasetColumnType.Integer) return $"{c} {(exclusive ? "<" : "<=")} {AsDouble(max)}";
        var bound = Math.Clamp(max, (decimal)long.MinValue - 1, (decimal)long.MaxValue + 1);
        return $"{c} <= {Number(exclusive ? decimal.Ceiling(bound) - 1 : decimal.Floor(bound))}";
    }

    private static string AsDouble(decimal d) => $"CAST('{Number(d)}' AS DOUBLE)";

    private static string Range(DatasetExpectation e)
    {
        var parts = new List<string>();
        if (e.Min is { } min) parts.Add((e.MinExclusive ? "above " : "at least ") + Number(min));
        if (e.Max is { } max) parts.Add((e.MaxExclusive ? "below " : "at most ") + Number(max));
        return string.Join(" and ", parts);
    }

    private static string Text(string s) => SqlText.Literal(s);

    private static string Number(decimal d) => d.ToString(CultureInfo.InvariantCulture);

    private static string Micros(TimeSpan t) => (t.Ticks / 10).ToString(CultureInfo.InvariantCulture);
}
