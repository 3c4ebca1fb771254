using System.Globalization;
using System.Text;
using Lakehouse.Engine;

namespace Lakehouse.Cli;

/// <summary>Writing results: DuckDB streams CSV/JSON lines straight to standard output; query results print as aligned tables.</summary>
internal static class Output
{
    private const int MaxCellWidth = 80;

    /// <summary>Streams a query's rows to standard output as CSV (with header) or JSON lines, written by DuckDB itself.</summary>
    internal static async Task CopyToStdoutAsync(DuckConnection connection, string query, string format, TextWriter stdout, CancellationToken cancellationToken)
    {
        var options = CopyOptions(format);
        await stdout.FlushAsync(cancellationToken).ConfigureAwait(false);
        await connection.CopyToStandardOutputAsync(query, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>DuckDB's COPY options for an output format: csv (with header) or jsonl.</summary>
    internal static string CopyOptions(string format) => format switch
    {
        "csv" => "FORMAT csv, HEADER true",
        "jsonl" or "json" => "FORMAT json",
        _ => throw CommandLine.Usage($"--format must be csv or jsonl, not '{format}'"),
    };

    /// <summary>
    /// Prints the rows of <paramref name="query"/> (every column VARCHAR) as an aligned table: at most <paramref name="maxRows"/> rows are
    /// held and printed; the rest are only counted while DuckDB streams them, so a large result costs no memory.
    /// </summary>
    internal static async Task WriteQueryAsTableAsync(DuckConnection connection, string query, int maxRows, TextWriter stdout, CancellationToken cancellationToken)
    {
        using var result = connection.Query(query, cancellationToken);
        var rows = new List<string?[]>();
        long total = 0;
        while (result.Read())
        {
            if (total++ < maxRows)
            {
                var row = new string?[result.ColumnCount];
                for (var i = 0; i < row.Length; i++) row[i] = result.IsNull(i) ? null : result.GetString(i);
                rows.Add(row);
            }
        }
        await WriteTableAsync(stdout, result.Names, rows).ConfigureAwait(false);
        await stdout.WriteLineAsync(total > rows.Count
            ? $"({rows.Count.ToString("N0", CultureInfo.InvariantCulture)} of {total.ToString("N0", CultureInfo.InvariantCulture)} rows shown; --max-rows N shows more, --format csv|jsonl streams them all)"
            : $"({total.ToString("N0", CultureInfo.InvariantCulture)} row{(total == 1 ? "" : "s")})").ConfigureAwait(false);
    }

    /// <summary>Prints rows as an aligned text table.</summary>
    internal static async Task WriteTableAsync(TextWriter stdout, IReadOnlyList<string> headers, IReadOnlyList<string?[]> rows)
    {
        var widths = headers.Select(h => Math.Min(MaxCellWidth, h.Length)).ToArray();
        foreach (var row in rows)
            for (var i = 0; i < row.Length; i++) widths[i] = Math.Max(widths[i], Math.Min(MaxCellWidth, Cell(row[i]).Length));
        var sb = new StringBuilder();
        void Line(IEnumerable<string?> cells)
        {
            sb.AppendJoin("  ", cells.Select((c, i) => Clip(Cell(c), MaxCellWidth).PadRight(widths[i]))).Append('\n');
        }
        Line(headers);
        Line(widths.Select(w => new string('-', w)));
        foreach (var row in rows) Line(row);
        await stdout.WriteAsync(sb.ToString()).ConfigureAwait(false);
    }

    /// <summary>A value as one line of a table cell: NULL for null, control characters (a newline in a value) escaped.</summary>
    private static string Cell(string? value)
    {
        if (value is null) return "NULL";
        if (!value.Any(char.IsControl)) return value;
        var sb = new StringBuilder(value.Length + 8);
        foreach (var c in value)
        {
            sb.Append(c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when char.IsControl(c) => "\\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture),
                _ => c.ToString(),
            });
        }
        return sb.ToString();
    }

    private static string Clip(string s, int max) => s.Length <= max ? s : s[..(max - 1)] + "…";

    internal static string Format(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
