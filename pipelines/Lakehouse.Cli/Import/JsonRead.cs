using System.Globalization;
using Lakehouse.Delta.Schema;
using Lakehouse.Delta.Write;
using Lakehouse.Engine;

namespace Lakehouse.Cli.Import;

/// <summary>
/// The DuckDB query that reads JSON inputs with a schema decided beforehand (the table's, or the one inferred from the whole
/// input): <c>read_json</c> with explicit <c>columns</c>, so DuckDB samples nothing and every key is read. The scan has already
/// checked that each value has the kind of its column, so DuckDB's conversions are exact; dates, timestamps, decimals and
/// integers narrower than long are read as text or long and converted by <see cref="StrictCast"/>, which refuses what does not
/// fit (an impossible date, a seventh digit of seconds, 300 in a byte column).
/// </summary>
internal sealed class JsonRead
{
    private readonly IReadOnlyList<ImportInput> _files;
    private readonly IReadOnlyList<JsonFileScan> _scans;
    private readonly long _maxObjectSize;
    private readonly List<Column> _columns = [];

    private sealed record Column(string Name, string Key, DeltaType Type, string ReadType, string Select);

    internal JsonRead(IReadOnlyList<ImportInput> files, IReadOnlyList<JsonFileScan> scans, StructType schema, JsonShape record, long maxObjectSize)
    {
        _files = files;
        _scans = scans;
        _maxObjectSize = maxObjectSize;
        foreach (var f in schema.Fields)
        {
            var shape = JsonTypes.ColumnShape(record, f.Name);
            if (shape is null) continue; // not in the input: the writer fills NULL (or refuses a non-nullable column)
            var (readType, select) = Plan(SqlText.Identifier(shape.Name), f, shape);
            _columns.Add(new Column(f.Name, shape.Name, f.Type, readType, select));
        }
    }

    /// <summary>True when no column of the schema appears in the input.</summary>
    internal bool HasNoColumns => _columns.Count == 0;

    private static (string ReadType, string Select) Plan(string key, StructField f, JsonShape shape)
    {
        var name = SqlText.Identifier(f.Name);
        return f.Type switch
        {
            // The scan saw that every value is an ISO date or timestamp in range with at most microseconds (IsoText), which
            // DuckDB's cast reads exactly; timestamp_ntz still needs the check that refuses UTC offsets.
            PrimitiveType { Name: "date" } when shape.AllDates && (shape.Kinds & ~JsonKinds.Null) == JsonKinds.String =>
                ("VARCHAR", $"CAST({key} AS DATE) AS {name}"),
            PrimitiveType { Name: "timestamp" } when shape.AllTimestamps && (shape.Kinds & ~JsonKinds.Null) == JsonKinds.String =>
                ("VARCHAR", $"CAST({key} AS TIMESTAMPTZ) AS {name}"),
            PrimitiveType { Name: "date" or "timestamp" or "timestamp_ntz" } or DecimalType =>
                ("VARCHAR", $"{StrictCast.ConvertSql(key, "VARCHAR", f.Type, f.Name)} AS {name}"),
            PrimitiveType { Name: "integer" or "short" or "byte" } =>
                ("BIGINT", $"{StrictCast.ConvertSql(key, "BIGINT", f.Type, f.Name)} AS {name}"),
            _ => (f.Type.ToDuckDb(), $"{key} AS {name}"),
        };
    }

    /// <summary>The query over every input that holds records.</summary>
    internal string Sql()
    {
        var select = string.Join(", ", _columns.Select(c => c.Select));
        var parts = new List<string>();
        foreach (var layout in new[] { JsonLayout.Lines, JsonLayout.Array })
        {
            var paths = _files.Where((f, i) => _scans[i].Layout == layout).Select(f => f.Path).ToList();
            if (paths.Count > 0) parts.Add($"SELECT {select} FROM {ReadJson(paths, layout, _columns)}");
        }
        return string.Join(" UNION ALL ", parts);
    }

    private string ReadJson(IReadOnlyList<string> paths, JsonLayout layout, IEnumerable<Column> columns) =>
        $"read_json({SqlText.LiteralList(paths)}, format = '{(layout == JsonLayout.Array ? "array" : "newline_delimited")}', " +
        $"columns = {{{string.Join(", ", columns.Select(c => SqlText.Literal(c.Key) + ": " + SqlText.Literal(c.ReadType)))}}}, " +
        $"maximum_object_size = {_maxObjectSize.ToString(CultureInfo.InvariantCulture)})";

    /// <summary>
    /// The first record, in input order, whose value of column <paramref name="name"/> does not fit: its input and 0-based
    /// record index; null when none is found.
    /// </summary>
    internal (int File, long Record)? FirstMisfit(DuckEngine engine, string name) =>
        FirstWhere(engine, name, c => "NOT " + StrictCast.FitsSql(SqlText.Identifier(c.Key), c.ReadType, c.Type));

    /// <summary>The first record, in input order, whose value of column <paramref name="name"/> is the empty string (see <see cref="FirstMisfit"/>).</summary>
    internal (int File, long Record)? FirstEmpty(DuckEngine engine, string name) =>
        FirstWhere(engine, name, c => $"CAST({SqlText.Identifier(c.Key)} AS VARCHAR) = ''");

    private (int File, long Record)? FirstWhere(DuckEngine engine, string name, Func<Column, string> condition)
    {
        var column = _columns.FirstOrDefault(c => c.Name == name);
        if (column is null) return null;
        using var lease = engine.Lease();
        for (var i = 0; i < _files.Count; i++)
        {
            if (_scans[i].Layout == JsonLayout.Empty) continue;
            var sql = $"SELECT ordinality FROM {ReadJson([_files[i].Path], _scans[i].Layout, [column])} WITH ORDINALITY WHERE {condition(column)} ORDER BY ordinality LIMIT 1";
            if (lease.Connection.Scalar(sql) is { } ordinal) return (i, Convert.ToInt64(ordinal, CultureInfo.InvariantCulture) - 1);
        }
        return null;
    }

    /// <summary>The DuckDB type a column is read as.</summary>
    internal string? ReadTypeOf(string name) => _columns.FirstOrDefault(c => c.Name == name)?.ReadType;
}

/// <summary>Finds the line of a record of a JSON input (for messages; reads the input again, so only on a failure).</summary>
internal static class JsonLines
{
    /// <summary>
    /// The 1-based line where record <paramref name="record"/> (0-based) starts: the record-th line that is not blank in NDJSON
    /// (DuckDB skips blank lines), the record-th element of the top-level array in a JSON array.
    /// </summary>
    internal static long LineOfRecord(string path, JsonLayout layout, long record)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16, FileOptions.SequentialScan);
        var buffer = new byte[1 << 16];
        long line = 1, seen = -1;
        var blank = true;
        int depth = 0, n;
        bool inString = false, escaped = false, expectElement = false;
        while ((n = stream.Read(buffer)) > 0)
        {
            for (var i = 0; i < n; i++)
            {
                var b = buffer[i];
                if (layout == JsonLayout.Lines)
                {
                    if (b == (byte)'\n')
                    {
                        line++;
                        blank = true;
                    }
                    else if (blank && b is not ((byte)' ' or (byte)'\t' or (byte)'\r'))
                    {
                        blank = false;
                        if (++seen == record) return line;
                    }
                    continue;
                }
                if (b == (byte)'\n') line++;
                if (inString)
                {
                    if (escaped) escaped = false;
                    else if (b == (byte)'\\') escaped = true;
                    else if (b == (byte)'"') inString = false;
                    continue;
                }
                if (expectElement && b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
                {
                    expectElement = false;
                    if (b != (byte)']' && ++seen == record) return line;
                }
                switch (b)
                {
                    case (byte)'"':
                        inString = true;
                        break;
                    case (byte)'[' or (byte)'{':
                        if (++depth == 1) expectElement = true;
                        break;
                    case (byte)']' or (byte)'}':
                        depth--;
                        break;
                    case (byte)',':
                        if (depth == 1) expectElement = true;
                        break;
                }
            }
        }
        return line;
    }
}
