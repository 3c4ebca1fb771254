using Lakehouse.Engine;

namespace Lakehouse.Bronze;

/// <summary>
/// Landing-zone NDJSON files as raw bronze rows: every line kept as it was written (valid JSON or not), with the file and
/// line it came from, so nothing is lost before silver parses it.
/// </summary>
public static class RawLines
{
    /// <summary>
    /// A DuckDB SELECT of <c>payload</c> (the line's text, without its line break), <c>source_file</c> and <c>source_line</c>
    /// (1-based) over <paramref name="files"/> (absolute paths). Blank lines are skipped; a trailing carriage return is dropped.
    /// </summary>
    public static string Sql(IReadOnlyCollection<string> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (files.Count == 0) throw new ArgumentException("No files to read.", nameof(files));
        return $"""
            SELECT rtrim(lines[r.i + 1], chr(13)) AS payload, f.filename AS source_file, r.i + 1 AS source_line
            FROM (SELECT filename, string_split(content, chr(10)) AS lines FROM read_text({SqlText.LiteralList(files)})) AS f,
                 range(len(f.lines)) AS r(i)
            WHERE trim(lines[r.i + 1]) <> ''
            """;
    }
}
