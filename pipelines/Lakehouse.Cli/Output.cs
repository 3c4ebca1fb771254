using System.Globalization;
using System.Text;
using Lakehouse.Engine;

namespace Lakehouse.Cli;

/// <summary>Writing results: DuckDB streams CSV/JSON lines straight to standard output; small results print as aligned tables.</summary>
internal static class Output
{
    /// <summary>Streams a query's rows to standard output as CSV (with header) or JSON lines, written by DuckDB itself.</summary>
    internal static async Task CopyToStdoutAsync(DuckConnection connection, string query, string format, TextWriter stdout)
    {
        var options = CopyOptions(format);
        await stdout.FlushAsync().ConfigureAwait(false);
        using var stream = Console.OpenStandardOutput();
        await connection.CopyToStreamAsync(query, options, stream).ConfigureAwait(false);
    }

    /// <summary>DuckDB's COPY options for an output format: csv (with header) or jsonl.</summary>
    internal static string CopyOptions(string format) => format switch
    {
        "csv" => "FORMAT csv, HEADER true",
        "jsonl" or "json" => "FORMAT json",
        _ => throw CommandLine.Usage($"--format must be csv or jsonl, not '{format}'"),
    };

    /// <summary>Prints rows as an aligned text table.</summary>
    internal static async Task WriteTableAsync(TextWriter stdout, IReadOnlyList<string> headers, IReadOnlyList<string?[]> rows)
    {
        var widths = headers.Select(h => h.Length).ToArray();
        foreach (var row in rows)
            for (var i = 0; i < row.Length; i++) widths[i] = Math.Max(widths[i], Math.Min(80, (row[i] ?? "NULL").Length));
        var sb = new StringBuilder();
        void Line(IEnumerable<string?> cells)
        {
            sb.AppendJoin("  ", cells.Select((c, i) => Clip(c ?? "NULL", 80).PadRight(widths[i]))).Append('\n');
        }
        Line(headers);
        Line(widths.Select(w => new string('-', w)));
        foreach (var row in rows) Line(row);
        await stdout.WriteAsync(sb.ToString()).ConfigureAwait(false);
    }

    private static string Clip(string s, int max) => s.Length <= max ? s : s[..(max - 1)] + "…";

    internal static string Format(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
