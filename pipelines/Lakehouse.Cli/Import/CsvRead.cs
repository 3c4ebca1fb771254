using System.Globalization;
using System.Text;
using Lakehouse.Core;
using Lakehouse.Delta.Schema;
using Lakehouse.Delta.Write;
using Lakehouse.Engine;

namespace Lakehouse.Cli.Import;

/// <summary>
/// The DuckDB query that reads CSV inputs. The dialect is fixed, not sniffed from a sample: the header is the first line, the
/// delimiter is the one of , ; tab | that the header holds most (tab for .tsv), fields are quoted with " (doubled inside). Every
/// field is read as text in DuckDB's strict mode, so a row with too few or too many fields is refused with its line (DuckDB's
/// sniffer would otherwise skip to the widest rows and drop the others); an empty unquoted field is NULL and "" the empty
/// string. Types come from the table, or for a new table from one pass over every row: the first of boolean, long, double,
/// date, timestamp that <see cref="StrictCast"/> converts every value to exactly (numbers with leading zeros stay strings), else
/// string.
/// </summary>
internal sealed class CsvRead
{
    private static readonly DeltaType[] Candidates = [PrimitiveType.Boolean, PrimitiveType.Long, PrimitiveType.Double, PrimitiveType.Date, PrimitiveType.Timestamp];

    private static readonly char[] Delimiters = [',', ';', '\t', '|'];

    private readonly List<CsvFile> _files;

    private sealed record CsvFile(int Index, ImportInput Input, char Delimiter, List<string> Header);

    private CsvRead(List<CsvFile> files) => _files = files;

    /// <summary>The inputs that hold at least one row (not empty, blank or header-only).</summary>
    internal bool HasRows => _files.Count > 0;

    internal static CsvRead Open(IReadOnlyList<ImportInput> inputs)
    {
        var files = new List<CsvFile>();
        for (var i = 0; i < inputs.Count; i++)
        {
            var (header, hasRows) = ReadHeader(inputs[i]);
            if (!hasRows) continue;
            files.Add(new CsvFile(i, inputs[i], header.Delimiter, header.Names));
        }
        return new CsvRead(files);
    }

    /// <summary>The columns of the inputs, in the order first seen.</summary>
    internal List<string> Columns => _files.SelectMany(f => f.Header).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>The schema of a new table: for each column, the narrowest type that holds every value exactly.</summary>
    internal StructType Infer(DuckEngine engine)
    {
        var columns = Columns;
        var checks = new List<string>();
        foreach (var c in columns)
        {
            var x = SqlText.Identifier(c);
            checks.Add($"count({x}) > 0");
            foreach (var t in Candidates)
            {
                var extra = t is PrimitiveType { Name: "long" or "double" }
                    // "007" is a code, not 7; "nan" and "inf" are words until a column is declared double.
                    ? $" AND ({x} IS NULL OR (NOT regexp_matches({x}, '^\\s*[+-]?0[0-9]') AND regexp_full_match({x}, '\\s*[+-]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?\\s*')))"
                    : "";
                checks.Add($"coalesce(bool_and({StrictCast.FitsSql(x, "VARCHAR", t)}{extra}), true)");
            }
        }
        using var lease = engine.Lease();
        using var r = lease.Connection.Query($"SELECT {string.Join(", ", checks)} FROM ({RawSql()}) AS __csv");
        r.Read();
        var fields = new List<StructField>();
        var k = 0;
        foreach (var c in columns)
        {
            var any = (bool)r.GetValue(k++)!;
            DeltaType type = PrimitiveType.String;
            foreach (var t in Candidates)
            {
                var fits = (bool)r.GetValue(k++)!;
                if (any && fits && type == PrimitiveType.String) type = t;
            }
            fields.Add(new StructField(c, type, true));
        }
        return new StructType(fields);
    }

    /// <summary>Refuses columns the table does not have, and CSV columns for a table's nested columns.</summary>
    internal void Check(StructType schema, string table)
    {
        foreach (var f in _files)
        {
            var extra = f.Header.Where(h => schema.Find(h) is null).ToList();
            if (extra.Count > 0)
                throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                    $"{f.Input.Display} line 1 has column{(extra.Count > 1 ? "s" : "")} {string.Join(", ", extra.Select(e => "'" + e + "'"))} that '{table}' does not have " +
                    $"(its columns: {string.Join(", ", schema.Fields.Select(x => x.Name))}); nothing was imported. Drop or rename {(extra.Count > 1 ? "them" : "it")}.");
            foreach (var h in f.Header)
            {
                var field = schema.Find(h)!;
                if (field.Type is StructType or ArrayType or MapType)
                    throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                        $"{f.Input.Display} line 1: column '{field.Name}' of '{table}' is a {StrictCast.TypeName(field.Type)}, which CSV text cannot fill; nothing was imported.");
            }
        }
    }

    /// <summary>The query with the columns of <paramref name="schema"/> that the inputs have, converted to their types.</summary>
    internal string Sql(StructType schema)
    {
        var columns = Columns;
        var select = schema.Fields
            .Select(f => (Field: f, Source: columns.FirstOrDefault(c => c == f.Name) ?? columns.FirstOrDefault(c => string.Equals(c, f.Name, StringComparison.OrdinalIgnoreCase))))
            .Where(p => p.Source is not null)
            .Select(p => $"{StrictCast.ConvertSql(SqlText.Identifier(p.Source!), "VARCHAR", p.Field.Type, p.Field.Name)} AS {SqlText.Identifier(p.Field.Name)}");
        return $"SELECT {string.Join(", ", select)} FROM ({RawSql()}) AS __csv";
    }

    private string RawSql() => string.Join(" UNION ALL BY NAME ", _files.Select(f => $"SELECT * FROM {ReadCsv(f)}"));

    private static string ReadCsv(CsvFile f) =>
        $"read_csv({SqlText.Literal(f.Input.Path)}, auto_detect = false, header = true, skip = 0, delim = {SqlText.Literal(f.Delimiter.ToString())}, quote = '\"', escape = '\"', " +
        "strict_mode = true, null_padding = false, allow_quoted_nulls = false, " +
        $"columns = {{{string.Join(", ", f.Header.Select(h => SqlText.Literal(h) + ": 'VARCHAR'"))}}})";

    /// <summary>The first row, in input order, whose <paramref name="column"/> does not fit <paramref name="type"/>: input index and 0-based row.</summary>
    internal (int File, long Record)? FirstMisfit(DuckEngine engine, string column, DeltaType type) =>
        FirstWhere(engine, column, source => "NOT " + StrictCast.FitsSql(SqlText.Identifier(source), "VARCHAR", type));

    /// <summary>The first row, in input order, whose <paramref name="column"/> is the empty string (a quoted "" field): input index and 0-based row.</summary>
    internal (int File, long Record)? FirstEmpty(DuckEngine engine, string column) =>
        FirstWhere(engine, column, source => $"{SqlText.Identifier(source)} = ''");

    private (int File, long Record)? FirstWhere(DuckEngine engine, string column, Func<string, string> condition)
    {
        using var lease = engine.Lease();
        foreach (var f in _files)
        {
            var source = f.Header.FirstOrDefault(h => string.Equals(h, column, StringComparison.OrdinalIgnoreCase));
            if (source is null) continue;
            var sql = $"SELECT ordinality FROM {ReadCsv(f)} WITH ORDINALITY WHERE {condition(source)} ORDER BY ordinality LIMIT 1";
            if (lease.Connection.Scalar(sql) is { } ordinal) return (f.Index, Convert.ToInt64(ordinal, CultureInfo.InvariantCulture) - 1);
        }
        return null;
    }

    /// <summary>The header (delimiter and names) of a CSV input, and whether any line after it is not blank.</summary>
    private static ((char Delimiter, List<string> Names) Header, bool HasRows) ReadHeader(ImportInput input)
    {
        using var stream = new FileStream(input.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16);
        var bytes = new List<byte>();
        int b;
        while ((b = stream.ReadByte()) >= 0 && b != '\n') bytes.Add((byte)b);
        var line = Encoding.UTF8.GetString([.. bytes]).TrimEnd('\r');
        if (line.Length > 0 && line[0] == '\uFEFF') line = line[1..];
        var hasRows = false;
        while ((b = stream.ReadByte()) >= 0)
        {
            if (b is ' ' or '\t' or '\r' or '\n') continue;
            hasRows = true;
            break;
        }
        if (line.Trim().Length == 0) return ((',', []), false);
        var delimiter = input.Path.EndsWith(".tsv", StringComparison.OrdinalIgnoreCase) || input.Display.EndsWith(".tsv", StringComparison.OrdinalIgnoreCase)
            ? '\t'
            : Delimiters.OrderByDescending(d => Split(line, d).Count).First();
        var names = Split(line, delimiter);
        if (names.Any(string.IsNullOrWhiteSpace))
            throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"{input.Display} line 1 (the header) has an empty column name; every column needs a name.");
        var duplicate = names.GroupBy(n => n, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"{input.Display} line 1 (the header) names column '{duplicate.Key}' twice (column names are case-insensitive).");
        return ((delimiter, names), hasRows);
    }

    /// <summary>Splits a CSV line on <paramref name="delimiter"/> outside double quotes, unquoting fields.</summary>
    private static List<string> Split(string line, char delimiter)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"') quoted = false;
                else field.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == delimiter)
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else field.Append(c);
        }
        fields.Add(field.ToString());
        return fields;
    }

    /// <summary>
    /// The physical line (1-based) of what DuckDB's CSV errors call line <paramref name="logical"/>: it counts line ends outside
    /// quoted fields, so a field with a line break in it makes it fall behind the real line.
    /// </summary>
    internal static long PhysicalLine(string path, long logical)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16, FileOptions.SequentialScan);
        var buffer = new byte[1 << 16];
        long physical = 1, counted = 1;
        var quoted = false;
        int n;
        while (counted < logical && (n = stream.Read(buffer)) > 0)
        {
            for (var i = 0; i < n && counted < logical; i++)
            {
                if (buffer[i] == (byte)'"') quoted = !quoted;
                else if (buffer[i] == (byte)'\n')
                {
                    physical++;
                    if (!quoted) counted++;
                }
            }
        }
        return physical;
    }

    /// <summary>The 1-based line where data row <paramref name="record"/> (0-based) of input <paramref name="file"/> starts.</summary>
    internal long LineOfRecord(int file, long record)
    {
        var f = _files.First(x => x.Index == file);
        using var stream = new FileStream(f.Input.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16, FileOptions.SequentialScan);
        var buffer = new byte[1 << 16];
        long line = 1, seen = -2; // the header is row -1
        bool quoted = false, blank = true;
        int n;
        while ((n = stream.Read(buffer)) > 0)
        {
            for (var i = 0; i < n; i++)
            {
                var b = buffer[i];
                if (b == (byte)'"') quoted = !quoted;
                if (b == (byte)'\n')
                {
                    line++;
                    if (!quoted) blank = true;
                    continue;
                }
                if (blank && !quoted && b is not ((byte)' ' or (byte)'\t' or (byte)'\r'))
                {
                    blank = false;
                    if (++seen == record) return line;
                }
                else if (blank && b == (byte)'"')
                {
                    blank = false;
                    if (++seen == record) return line;
                }
            }
        }
        return line;
    }
}
