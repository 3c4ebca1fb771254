using System.Globalization;
using System.Text.RegularExpressions;
using Lakehouse.Core;
using Lakehouse.Delta.Schema;
using Lakehouse.Delta.Write;
using Lakehouse.Engine;

namespace Lakehouse.Cli.Import;

/// <summary>
/// The rows of <c>lakehouse table import</c>: the files made regular (<see cref="ImportInputs"/>), checked before DuckDB reads
/// them (<see cref="JsonScanner"/> for JSON), typed over the whole input or by the table, and read by one query (<see cref="Sql"/>)
/// whose columns already have the table's types. <see cref="Explain"/> turns a failure of that query into a message naming the
/// file and line. Dispose to delete spooled copies.
/// </summary>
internal sealed partial class ImportSource : IDisposable
{
    private readonly DuckEngine _engine;
    private readonly ImportInputs _inputs;
    private readonly ImportOptions _options;
    private JsonRead? _json;
    private List<JsonFileScan>? _scans;
    private CsvRead? _csv;
    private StructType? _schema;

    private ImportSource(DuckEngine engine, ImportInputs inputs, ImportOptions options)
    {
        _engine = engine;
        _inputs = inputs;
        _options = options;
    }

    /// <summary>The query reading every row; null when the inputs hold none (see <see cref="NothingReason"/>).</summary>
    internal string? Sql { get; private set; }

    /// <summary>Why there is nothing to import.</summary>
    internal string NothingReason { get; private set; } = "";

    internal IReadOnlyList<ImportInput> Files => _inputs.Files;

    /// <summary>
    /// Reads and checks <paramref name="arguments"/> for a table with <paramref name="schema"/> (null: a new table, typed from
    /// the whole input). Throws InvalidInput naming file and line for input that does not fit.
    /// </summary>
    internal static ImportSource Open(DuckEngine engine, IReadOnlyList<string> arguments, ImportOptions options, StructType? schema, string table,
        CancellationToken cancellationToken)
    {
        var inputs = ImportInputs.Resolve(engine, arguments, options, cancellationToken);
        var source = new ImportSource(engine, inputs, options);
        try
        {
            var format = inputs.Files[0].Format;
            switch (format)
            {
                case ImportFormat.Json or ImportFormat.Ndjson:
                    source.OpenJson(schema, table, cancellationToken);
                    break;
                case ImportFormat.Csv:
                    source.OpenCsv(schema, table);
                    break;
                default:
                    source._schema = schema;
                    source.OpenParquet();
                    break;
            }
            return source;
        }
        catch (LakehouseException e) when (source.Explain(e, table) is { } explained)
        {
            source.Dispose();
            throw explained;
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    private void OpenJson(StructType? schema, string table, CancellationToken cancellationToken)
    {
        var files = _inputs.Files;
        var scans = new JsonFileScan?[files.Count];
        var errors = new Exception?[files.Count];
        Parallel.For(0, files.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = cancellationToken }, i =>
        {
            try
            {
                scans[i] = JsonScanner.Scan(files[i].Path, files[i].Display, i, _options.MaxObjectSize, forceLines: files[i].Format == ImportFormat.Ndjson);
            }
            catch (Exception e) when (e is LakehouseException or IOException or UnauthorizedAccessException)
            {
                errors[i] = e;
            }
        });
        if (errors.FirstOrDefault(e => e is not null) is { } error)
        {
            if (error is LakehouseException) throw error;
            throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"Reading {files[Array.IndexOf(errors, error)].Display} failed: {error.Message}", error);
        }
        _scans = [.. scans.Select(s => s!)];
        var record = new JsonShape("");
        foreach (var s in _scans.Where(s => s.Layout != JsonLayout.Empty)) record.Merge(s.Record);
        if (_scans.All(s => s.Layout == JsonLayout.Empty))
        {
            NothingReason = $"{Describe(files)} {(files.Count == 1 ? "holds" : "hold")} no JSON records (empty, blank lines only, or [])";
            return;
        }
        var types = new JsonTypes(files);
        if (schema is null) schema = types.Infer(record);
        else types.Check(record, schema, table);
        _schema = schema;
        ExactDecimalText(schema, cancellationToken);
        _json = new JsonRead(files, _scans, schema, record, _options.MaxObjectSize);
        if (_json.HasNoColumns)
        {
            NothingReason = $"the records of {Describe(files)} have no keys";
            if (schema.Fields.Count == 0)
                throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"The records of {Describe(files)} have no keys: a table needs at least one column.");
        }
        Sql = _json.Sql();
    }

    /// <summary>
    /// Gives DuckDB a copy of each JSON input whose records hold a number with a fraction or an exponent under a decimal column,
    /// with those numbers as strings of their digits (<see cref="JsonNumberText"/>): DuckDB reads such a number through a double.
    /// </summary>
    private void ExactDecimalText(StructType schema, CancellationToken cancellationToken)
    {
        var decimals = schema.Fields.Where(f => f.Type is DecimalType).ToList();
        if (decimals.Count == 0) return;
        for (var i = 0; i < _scans!.Count; i++)
        {
            var keys = decimals.Select(f => JsonTypes.ColumnShape(_scans[i].Record, f.Name))
                .Where(s => s is not null && (s.Kinds & JsonKinds.Fraction) != 0)
                .Select(s => s!.Name).ToHashSet(StringComparer.Ordinal);
            if (keys.Count == 0) continue;
            var input = _inputs.Files[i];
            var layout = _scans[i].Layout;
            _inputs.ReplaceWithCopy(_engine, i, copy => JsonNumberText.Copy(input, layout, keys, copy, cancellationToken));
        }
    }

    private void OpenCsv(StructType? schema, string table)
    {
        _csv = CsvRead.Open(_inputs.Files);
        if (!_csv.HasRows)
        {
            NothingReason = $"{Describe(_inputs.Files)} {(_inputs.Files.Count == 1 ? "has" : "have")} no rows (empty, blank, or a header only)";
            return;
        }
        if (schema is null) schema = _csv.Infer(_engine);
        else _csv.Check(schema, table);
        _schema = schema;
        Sql = _csv.Sql(schema);
    }

    private void OpenParquet()
    {
        var list = SqlText.LiteralList(_inputs.Files.Select(f => f.Path));
        long rows;
        using (var lease = _engine.Lease())
        {
            try
            {
                rows = Convert.ToInt64(lease.Connection.Scalar($"SELECT coalesce(sum(num_rows), 0) FROM parquet_file_metadata({list})"), CultureInfo.InvariantCulture);
            }
            catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.Engine)
            {
                throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"{Describe(_inputs.Files)}: not readable as Parquet: {EngineText(e.Message)}", e);
            }
        }
        if (rows == 0)
        {
            NothingReason = $"{Describe(_inputs.Files)} {(_inputs.Files.Count == 1 ? "holds" : "hold")} no rows";
            return;
        }
        Sql = $"SELECT * FROM read_parquet({list}, union_by_name = true)";
    }

    private static string Describe(IReadOnlyList<ImportInput> files) =>
        files.Count == 1 ? files[0].Display : $"the {files.Count} files";

    // ---- errors -------------------------------------------------------------------------------------------------------------

    /// <summary>
    /// A message for a failure of the import query that names the file and line (or row) and never shows SQL, with the
    /// original error inside; null when <paramref name="e"/> is not about reading the inputs.
    /// </summary>
    internal LakehouseException? Explain(LakehouseException e, string table)
    {
        if (e.Reason == LakehouseErrorReason.InvalidInput && EmptyPartition().Match(e.Message) is { Success: true } empty)
            return EmptyPartitionError(empty.Groups["column"].Value, table, e);
        var engine = e.Reason == LakehouseErrorReason.Engine ? e : e.InnerException as LakehouseException;
        if (engine is null || engine.Reason != LakehouseErrorReason.Engine) return null;
        var text = engine.Message;
        if (StrictCast.TryParseError(text, out var cast)) return CastError(cast, table, e);
        if (MalformedJson().Match(text) is { Success: true } m) return JsonError(m, e, malformed: true);
        if (TransformJson().Match(text) is { Success: true } t) return JsonError(t, e, malformed: false);
        if (text.Contains("maximum_object_size", StringComparison.Ordinal))
            return new LakehouseException(LakehouseErrorReason.InvalidInput,
                $"A JSON record is larger than {ImportOptions.FormatSize(_options.MaxObjectSize)}, the most the import reads ({FileOf(text) ?? Describe(Files)}); " +
                "raise the limit with --max-object-size (for example --max-object-size 256MiB).", e);
        if (CsvError().Match(text) is { Success: true } c) return CsvLineError(c, text, e);
        // Any other engine failure, raised as is or quoted by a wrapper: DuckDB's first line, without the SQL it may quote.
        if (e.Reason != LakehouseErrorReason.Engine && !e.Message.Contains(text, StringComparison.Ordinal)) return null;
        return new LakehouseException(LakehouseErrorReason.InvalidInput, $"Reading {Describe(Files)} failed: {EngineText(text)}", e);
    }

    private LakehouseException CastError(StrictCastError cast, string table, Exception inner)
    {
        var field = _schema?.Find(cast.Label);
        (int File, long Record)? misfit = null;
        try
        {
            if (field is not null && _json is not null) misfit = _json.FirstMisfit(_engine, field.Name);
            else if (field is not null && _csv is not null) misfit = _csv.FirstMisfit(_engine, field.Name, field.Type);
        }
        catch (LakehouseException)
        {
            // Locating is best effort; the message below still names the column and the value.
        }
        var what = $"column '{cast.Label}' of '{table}' is {cast.Target}, and the value {Quote(cast.Value)} does not fit it without loss; nothing was imported.";
        if (_json is null && _csv is null && field is not null && FirstParquetMisfit(cast, field) is { } row)
            return new LakehouseException(LakehouseErrorReason.InvalidInput, $"{Files[row.File].Display} row {row.Row}: {what}", inner);
        if (misfit is { } at)
        {
            var line = _json is not null
                ? JsonLines.LineOfRecord(Files[at.File].Path, _scans![at.File].Layout, at.Record)
                : _csv!.LineOfRecord(at.File, at.Record);
            return new LakehouseException(LakehouseErrorReason.InvalidInput, $"{Files[at.File].Display} line {line}: {what}", inner);
        }
        return new LakehouseException(LakehouseErrorReason.InvalidInput, $"{Describe(Files)}: {what[0..1].ToUpperInvariant()}{what[1..]}", inner);
    }

    /// <summary>
    /// The writer refused an empty string in a partition column (Delta would read it back as null): the message names the file and
    /// line (or Parquet row) of the first such value, so the user can find it.
    /// </summary>
    private LakehouseException EmptyPartitionError(string column, string table, Exception inner)
    {
        (int File, long Record)? at = null;
        try
        {
            at = _json?.FirstEmpty(_engine, column) ?? _csv?.FirstEmpty(_engine, column);
        }
        catch (LakehouseException)
        {
            // Locating is best effort; the message below still names the column.
        }
        var what = $"column '{column}' is a partition column of '{table}', and its value is the empty string, which a partition column cannot hold: " +
            "Delta stores partition values as text and reads an empty one back as null, so the row would change. Nothing was imported; " +
            "give such rows null (or another value) there, or partition by another column.";
        if (_json is null && _csv is null && FirstParquetRow($"{SqlText.Identifier(column)} = ''") is { } row)
            return new LakehouseException(LakehouseErrorReason.InvalidInput, $"{Files[row.File].Display} row {row.Row}: {what}", inner);
        if (at is { } a)
        {
            var line = _json is not null ? JsonLines.LineOfRecord(Files[a.File].Path, _scans![a.File].Layout, a.Record) : _csv!.LineOfRecord(a.File, a.Record);
            return new LakehouseException(LakehouseErrorReason.InvalidInput, $"{Files[a.File].Display} line {line}: {what}", inner);
        }
        return new LakehouseException(LakehouseErrorReason.InvalidInput, $"{Describe(Files)}: {what[0..1].ToUpperInvariant()}{what[1..]}", inner);
    }

    /// <summary>The first Parquet row (1-based, in file order) whose column does not fit; Parquet has no lines.</summary>
    private (int File, long Row)? FirstParquetMisfit(StrictCastError cast, StructField field) =>
        FirstParquetRow("NOT " + StrictCast.FitsSql(SqlText.Identifier(field.Name), cast.SourceType, field.Type));

    /// <summary>The first Parquet row (1-based, in file order) where <paramref name="condition"/> holds.</summary>
    private (int File, long Row)? FirstParquetRow(string condition)
    {
        try
        {
            using var lease = _engine.Lease();
            for (var i = 0; i < Files.Count; i++)
            {
                var sql = $"SELECT ordinality FROM read_parquet({SqlText.Literal(Files[i].Path)}) WITH ORDINALITY WHERE {condition} ORDER BY ordinality LIMIT 1";
                if (lease.Connection.Scalar(sql) is { } ordinal) return (i, Convert.ToInt64(ordinal, CultureInfo.InvariantCulture));
            }
        }
        catch (LakehouseException)
        {
            // A file without that column (or of another type): no row to name.
        }
        return null;
    }

    private static string Quote(string value) => value.Length > 80 ? $"'{value[..80]}…'" : $"'{value}'";

    private LakehouseException JsonError(Match m, Exception inner, bool malformed)
    {
        var path = m.Groups["file"].Value;
        var index = Files.Select((f, i) => (f, i)).FirstOrDefault(p => p.f.Path == path || Path.GetFullPath(p.f.Path) == Path.GetFullPath(path));
        var display = index.f?.Display ?? path;
        var number = long.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture);
        // DuckDB counts records from 1, and in a malformed-JSON message one too high; blank lines are not records.
        var record = number - (malformed ? 2 : 1);
        var line = index.f is not null && _scans is not null && record >= 0
            ? JsonLines.LineOfRecord(index.f.Path, _scans[index.i].Layout, record)
            : number;
        var reason = m.Groups["reason"].Value.Trim();
        var cut = reason.IndexOf('\n', StringComparison.Ordinal);
        if (cut >= 0) reason = reason[..cut];
        // A transform error quotes the whole object; keep the message short.
        reason = ObjectQuote().Replace(reason, "the object");
        if (reason.Length > 200) reason = reason[..200] + "…";
        return new LakehouseException(LakehouseErrorReason.InvalidInput,
            $"{display} line {line}: {(malformed ? "malformed JSON" : "cannot read the record")}: {reason.TrimEnd('.', ' ')}; nothing was imported.", inner);
    }

    private LakehouseException CsvLineError(Match m, string text, Exception inner)
    {
        var logical = long.Parse(m.Groups["line"].Value, CultureInfo.InvariantCulture);
        var file = FileOf(text)?.Trim();
        var input = Files.FirstOrDefault(f => f.Path == file);
        var display = input?.Display ?? file ?? Describe(Files);
        var line = input is null ? logical : CsvRead.PhysicalLine(input.Path, logical);
        var lines = text.Split('\n');
        var reason = lines.FirstOrDefault(l => l.StartsWith("Expected Number of Columns", StringComparison.Ordinal))
            ?? lines.Skip(1).FirstOrDefault(l => l.Length > 0 && !l.StartsWith("Original Line", StringComparison.Ordinal)) ?? "";
        reason = reason.Replace("Expected Number of Columns: ", "expected ", StringComparison.Ordinal).Replace(" Found: ", " fields, found ", StringComparison.Ordinal);
        return new LakehouseException(LakehouseErrorReason.InvalidInput,
            $"{display} line {line}: {reason.Trim()}; every row must have as many fields as the header. Nothing was imported.", inner);
    }

    private static string? FileOf(string text)
    {
        var m = FileName().Match(text);
        return m.Success ? m.Groups["file"].Value : null;
    }

    /// <summary>DuckDB's error text without the generated SQL it may quote (LINE n: ...) and without its hints.</summary>
    internal static string EngineText(string message)
    {
        var text = message.StartsWith("DuckDB query failed: ", StringComparison.Ordinal) ? message["DuckDB query failed: ".Length..] : message;
        var cut = text.IndexOf("\nLINE ", StringComparison.Ordinal);
        if (cut >= 0) text = text[..cut];
        cut = text.IndexOf('\n', StringComparison.Ordinal);
        if (cut >= 0) text = text[..cut];
        return text.Trim();
    }

    [GeneratedRegex("Malformed JSON in file \"(?<file>[^\"]*)\", at byte \\d+ in (?:line|record/value) (?<n>\\d+): (?<reason>.*)")]
    private static partial Regex MalformedJson();

    [GeneratedRegex("JSON transform error in file \"(?<file>[^\"]*)\", in (?:line|record/value) (?<n>\\d+): (?<reason>.*)")]
    private static partial Regex TransformJson();

    /// <summary>The writer's refusal of an empty string in a partition column (Lakehouse.Delta's PartitionEncoding.EmptyStringMessage).</summary>
    [GeneratedRegex("^Column '(?<column>.*)' is a partition column, and a row holds the empty string in it")]
    private static partial Regex EmptyPartition();

    [GeneratedRegex("CSV Error on Line: (?<line>\\d+)")]
    private static partial Regex CsvError();

    [GeneratedRegex("file\\s*=\\s*(?<file>[^\\n]+)|file \"(?<file>[^\"]+)\"")]
    private static partial Regex FileName();

    [GeneratedRegex("Object \\{.*\\}(?= has)")]
    private static partial Regex ObjectQuote();

    public void Dispose() => _inputs.Dispose();
}
