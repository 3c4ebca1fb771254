using System.Globalization;
using System.Text;
using Lakehouse.Core;
using Lakehouse.Delta.Log;
using Lakehouse.Delta.Schema;
using Lakehouse.Engine;

namespace Lakehouse.Delta.Scan;

/// <summary>Options for a scan.</summary>
public sealed class DeltaScanOptions
{
    /// <summary>Only these files (default: every live file of the snapshot).</summary>
    public IReadOnlyList<AddAction>? Files { get; set; }

    /// <summary>Adds a column <see cref="DeltaScan.FileColumn"/> with each row's table-relative file path.</summary>
    public bool IncludeFilePath { get; set; }
}

/// <summary>
/// A snapshot's live rows as a DuckDB SELECT on one connection: <c>read_parquet</c> over the live files, deleted
/// rows (deletion vectors) anti-joined away by row position, partition values joined in with their Delta types,
/// physical (column-mapped) names renamed to logical ones, and every column cast to its table type (which also
/// reads widened types). Helper tables live on the connection until the scan is disposed.
/// </summary>
public sealed class DeltaScan : IDisposable
{
    /// <summary>Name of the optional file-path column.</summary>
    public const string FileColumn = "__lakehouse_file";

    private readonly DuckConnection _connection;
    private readonly List<string> _helperTables;

    private DeltaScan(DuckConnection connection, string sql, List<string> helperTables)
    {
        _connection = connection;
        Sql = sql;
        _helperTables = helperTables;
    }

    /// <summary>The SELECT returning the rows, columns in schema order with logical names.</summary>
    public string Sql { get; }

    /// <summary>Prepares a scan of <paramref name="snapshot"/> on <paramref name="connection"/>.</summary>
    public static async Task<DeltaScan> CreateAsync(DeltaTable table, DeltaSnapshot snapshot, DuckConnection connection, DeltaScanOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(connection);
        options ??= new DeltaScanOptions();
        var files = options.Files ?? snapshot.Files;
        var schema = snapshot.Schema;
        var mapped = snapshot.ColumnMappingMode is "name" or "id";
        var partitionNames = new HashSet<string>(snapshot.PartitionColumns, StringComparer.OrdinalIgnoreCase);

        if (files.Count == 0)
        {
            var empty = schema.Fields.Select(f => $"CAST(NULL AS {f.Type.ToDuckDb()}) AS {SqlText.Identifier(f.Name)}").ToList();
            if (options.IncludeFilePath) empty.Add($"CAST(NULL AS VARCHAR) AS {SqlText.Identifier(FileColumn)}");
            return new DeltaScan(connection, "SELECT " + string.Join(", ", empty) + " WHERE false", []);
        }

        // Local copies (downloads for remote stores) and deletion vectors.
        var relative = files.Select(f => DeltaPaths.ToTableRelative(f.Path, table.Storage)).ToArray();
        var locals = new string[files.Count];
        var deleted = new long[files.Count][];
        await StorageWork.ForEachFileAsync(table.Storage, files.Count, async (i, ct) =>
        {
            try
            {
                locals[i] = await table.Storage.GetLocalCopyAsync(relative[i], ct).ConfigureAwait(false);
            }
            catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.NotFound)
            {
                // A file of the version read is damage; one of an earlier version (a reader of changes) was removed since and then
                // deleted, which a VACUUM does once the removal is older than its retention: NotFound, for that reader to explain.
                if (options.Files is null || snapshot.Files.Any(f => f.Path == files[i].Path))
                    throw new LakehouseException(LakehouseErrorReason.CorruptLog, $"Data file '{relative[i]}' is live in version {snapshot.Version} of '{table.Location}' but missing from storage.", e);
                throw new LakehouseException(LakehouseErrorReason.NotFound,
                    $"Data file '{relative[i]}' of '{table.Location}' is missing from storage: it was added before version {snapshot.Version} and removed since (by a compaction or " +
                    "an overwrite), then deleted, as a VACUUM does once the removal is older than its retention.", e);
            }
            deleted[i] = files[i].DeletionVector is { } dv ? await DeletionVectors.ReadAsync(dv, relative[i], table.Storage, ct).ConfigureAwait(false) : [];
        }, cancellationToken).ConfigureAwait(false);
        CheckDeletionVectorBounds(connection, files, relative, locals, deleted);
        var uniform = DataFileTypes.Check(connection, snapshot, locals, relative, table.Location, FileSchemaMemory.Shared);

        var id = Guid.NewGuid().ToString("N")[..16];
        var helpers = new List<string>();
        var hasDv = deleted.Any(d => d.Length > 0);
        var partitionFields = schema.Fields.Where(f => partitionNames.Contains(f.Name)).ToList();
        // Partition values as typed literals, one read_parquet per run of consecutive files that share them, where there are few
        // such runs and no row needs its file's name: a join of every row's file name with a table of the files costs a tenth of a
        // 10M-row read, and a filter on a partition column then drops whole runs unread.
        var runs = partitionFields.Count > 0 && !options.IncludeFilePath && !hasDv ? Runs(files, partitionFields) : null;
        if (runs is not null) return Literal(connection, schema, mapped, partitionFields, uniform, runs, locals);
        var needsFileTable = partitionNames.Count > 0 || options.IncludeFilePath;
        try
        {
            string? filesTable = null;
            if (needsFileTable)
            {
                filesTable = $"__lakehouse_scan_{id}_files";
                CreateFileTable(connection, filesTable, partitionFields, files, locals, relative);
                helpers.Add(filesTable);
            }
            string? dvTable = null;
            if (hasDv)
            {
                dvTable = $"__lakehouse_scan_{id}_dv";
                connection.Execute($"CREATE TEMP TABLE {SqlText.Identifier(dvTable)}(fname VARCHAR, pos BIGINT)", cancellationToken);
                helpers.Add(dvTable);
                using var appender = connection.CreateAppender(dvTable);
                for (var i = 0; i < files.Count; i++)
                    foreach (var pos in deleted[i]) appender.AppendRow(locals[i], pos);
                appender.Close();
            }

            var fileList = SqlText.LiteralList(locals);
            var readOptions = ReadOptions(uniform);
            if (needsFileTable || hasDv) readOptions += ", filename = true";
            if (hasDv) readOptions += ", file_row_number = true";
            var source = $"read_parquet({fileList}, {readOptions})";
            var columns = Columns(schema, mapped, DescribeColumns(connection, source),
                partitionFields.ToDictionary(f => f.Name, f => $"f.{SqlText.Identifier(PartitionColumnName(f))}", StringComparer.Ordinal));
            if (options.IncludeFilePath) columns.Add($"f.rel AS {SqlText.Identifier(FileColumn)}");

            var sql = new StringBuilder("SELECT ").AppendJoin(", ", columns).Append(" FROM ").Append(source).Append(" AS d");
            if (filesTable is not null) sql.Append(" JOIN ").Append(SqlText.Identifier(filesTable)).Append(" AS f ON d.filename = f.fname");
            if (dvTable is not null)
                sql.Append(" WHERE NOT EXISTS (SELECT 1 FROM ").Append(SqlText.Identifier(dvTable))
                   .Append(" AS x WHERE x.fname = d.filename AND x.pos = d.file_row_number)");
            return new DeltaScan(connection, sql.ToString(), helpers);
        }
        catch
        {
            Drop(connection, helpers);
            throw;
        }
    }

    private static string PartitionColumnName(StructField field) => "p_" + field.Name;

    /// <summary>How many runs of files with the same partition values a scan reads as literals at most; more are joined by file name.</summary>
    private const int MaxLiteralRuns = 32;

    /// <summary>Files of one schema are read as they are (DuckDB then reads one footer to bind), others unified by column name.</summary>
    private static string ReadOptions(bool uniform) => uniform ? "union_by_name = false" : "union_by_name = true";

    /// <summary>The indexes of consecutive files with the same partition values, with those values; null when there are too many runs.</summary>
    private static List<(List<int> Files, string?[] Values)>? Runs(IReadOnlyList<AddAction> files, List<StructField> partitionFields)
    {
        var runs = new List<(List<int> Files, string?[] Values)>();
        for (var i = 0; i < files.Count; i++)
        {
            var values = partitionFields.Select(f => PartitionValue(files[i], f)).ToArray();
            if (runs.Count > 0 && runs[^1].Values.SequenceEqual(values, StringComparer.Ordinal))
            {
                runs[^1].Files.Add(i);
                continue;
            }
            if (runs.Count == MaxLiteralRuns) return null;
            runs.Add(([i], values));
        }
        return runs;
    }

    /// <summary>The scan as a UNION ALL of one read_parquet per run, the partition values typed literals (checked here, as the file table checks them).</summary>
    private static DeltaScan Literal(DuckConnection connection, StructType schema, bool mapped, List<StructField> partitionFields, bool uniform,
        List<(List<int> Files, string?[] Values)> runs, string[] locals)
    {
        var typedRuns = runs.Select(run => partitionFields
            .Select((field, i) => (field.Name, Sql: PartitionCast(run.Values[i] is { } v ? SqlText.Literal(v) : "CAST(NULL AS VARCHAR)", field.Type)))
            .ToDictionary(x => x.Name, x => x.Sql, StringComparer.Ordinal)).ToList();
        try
        {
            // Every run's values in one query, selected, not counted: DuckDB does not evaluate a column nothing reads.
            connection.Execute(string.Join(" UNION ALL ", typedRuns.Select(t => "SELECT " + string.Join(", ", t.Values))));
        }
        catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.Engine)
        {
            throw BadPartitionValue(e);
        }
        var parts = new List<string>();
        List<string>? physical = null;
        for (var r = 0; r < runs.Count; r++)
        {
            var source = $"read_parquet({SqlText.LiteralList([.. runs[r].Files.Select(i => locals[i])])}, {ReadOptions(uniform)})";
            // Files of one schema have the same physical columns in every run.
            if (physical is null || !uniform) physical = DescribeColumns(connection, source);
            parts.Add($"SELECT {string.Join(", ", Columns(schema, mapped, physical, typedRuns[r]))} FROM {source} AS d");
        }
        return new DeltaScan(connection, string.Join(" UNION ALL ", parts), []);
    }

    /// <summary>
    /// The scan's columns in schema order with logical names: each partition column as <paramref name="partitions"/> gives it (by
    /// field name), each data column from the files' physical column (NULL when the files lack it).
    /// </summary>
    private static List<string> Columns(StructType schema, bool mapped, List<string> physical, Dictionary<string, string> partitions)
    {
        var columns = new List<string>();
        foreach (var field in schema.Fields)
        {
            if (!partitions.TryGetValue(field.Name, out var expr))
            {
                var name = mapped ? field.PhysicalName : field.Name;
                var actual = physical.FirstOrDefault(p => string.Equals(p, name, StringComparison.Ordinal))
                    ?? physical.FirstOrDefault(p => string.Equals(p, name, StringComparison.OrdinalIgnoreCase));
                expr = actual is null
                    ? $"CAST(NULL AS {field.Type.ToDuckDb()})"
                    : Convert(field.Type, "d." + SqlText.Identifier(actual), mapped, 0);
            }
            columns.Add($"{expr} AS {SqlText.Identifier(field.Name)}");
        }
        return columns;
    }

    /// <summary>
    /// Refuses a deletion vector that names a row at or past its file's row count (stats numRecords, else the parquet footer):
    /// such a vector belongs to another file or is damaged, and would silently delete nothing.
    /// </summary>
    private static void CheckDeletionVectorBounds(DuckConnection connection, IReadOnlyList<AddAction> files, string[] relative, string[] locals, long[][] deleted)
    {
        var withoutStats = new List<int>();
        for (var i = 0; i < files.Count; i++)
        {
            if (deleted[i].Length == 0) continue;
            if (StatsJson.NumRecords(files[i]) is { } rows) DeletionVectors.CheckBounds(deleted[i], rows, relative[i]);
            else withoutStats.Add(i);
        }
        if (withoutStats.Count == 0) return;
        var footerRows = new Dictionary<string, long>(StringComparer.Ordinal);
        using (var r = connection.Query($"SELECT file_name, num_rows FROM parquet_file_metadata({SqlText.LiteralList([.. withoutStats.Select(i => locals[i])])})"))
        {
            while (r.Read()) footerRows[r.GetString(0)] = r.GetInt64(1);
        }
        foreach (var i in withoutStats)
            DeletionVectors.CheckBounds(deleted[i], footerRows.TryGetValue(locals[i], out var n) ? n : 0, relative[i]);
    }

    private static void CreateFileTable(DuckConnection connection, string name, List<StructField> partitionFields, IReadOnlyList<AddAction> files, string[] locals, string[] relative)
    {
        var raw = name + "_raw";
        var rawColumns = new StringBuilder("fname VARCHAR, rel VARCHAR");
        foreach (var (_, i) in partitionFields.Select((f, i) => (f, i))) rawColumns.Append(CultureInfo.InvariantCulture, $", v{i} VARCHAR");
        connection.Execute($"CREATE TEMP TABLE {SqlText.Identifier(raw)}({rawColumns})");
        try
        {
            using (var appender = connection.CreateAppender(raw))
            {
                for (var i = 0; i < files.Count; i++)
                {
                    appender.Append(locals[i]).Append(relative[i]);
                    foreach (var field in partitionFields) appender.Append(PartitionValue(files[i], field));
                    appender.EndRow();
                }
                appender.Close();
            }
            var typed = new StringBuilder("SELECT fname, rel");
            for (var i = 0; i < partitionFields.Count; i++)
                typed.Append(", ").Append(PartitionCast($"v{i}", partitionFields[i].Type)).Append(" AS ").Append(SqlText.Identifier(PartitionColumnName(partitionFields[i])));
            connection.Execute($"CREATE TEMP TABLE {SqlText.Identifier(name)} AS {typed} FROM {SqlText.Identifier(raw)}");
        }
        catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.Engine)
        {
            throw BadPartitionValue(e);
        }
        finally
        {
            connection.Execute($"DROP TABLE IF EXISTS {SqlText.Identifier(raw)}");
        }
    }

    private static LakehouseException BadPartitionValue(LakehouseException e) =>
        new(LakehouseErrorReason.CorruptLog, $"A partition value in the log does not parse as its column type: {e.Message}", e);

    private static string? PartitionValue(AddAction file, StructField field)
    {
        if (file.PartitionValues.TryGetValue(field.PhysicalName, out var v)) return v;
        if (file.PartitionValues.TryGetValue(field.Name, out v)) return v;
        foreach (var (k, value) in file.PartitionValues)
            if (string.Equals(k, field.Name, StringComparison.OrdinalIgnoreCase)) return value;
        return null;
    }

    /// <summary>
    /// Converts a serialized partition value (PROTOCOL.md "Partition Value Serialization") to its type. An empty string is null for
    /// every type, strings and binary included (the protocol says so; this writer refuses to write one, other writers may).
    /// </summary>
    private static string PartitionCast(string column, DeltaType type) => type switch
    {
        PrimitiveType { Name: "string" } => $"NULLIF({column}, '')",
        PrimitiveType { Name: "binary" } => $"encode(NULLIF({column}, ''))",
        _ => $"CAST(NULLIF({column}, '') AS {type.ToDuckDb()})",
    };

    private static List<string> DescribeColumns(DuckConnection connection, string source)
    {
        var names = new List<string>();
        using var r = connection.Query($"DESCRIBE SELECT * FROM {source}");
        while (r.Read()) names.Add(r.GetString(0));
        return names;
    }

    /// <summary>The expression turning a physical value into the logical type: renames nested fields under column mapping, casts leaves.</summary>
    private static string Convert(DeltaType type, string expr, bool mapped, int depth)
    {
        if (!mapped || !HasNestedNames(type)) return $"CAST({expr} AS {type.ToDuckDb()})";
        var v = "e" + depth.ToString(CultureInfo.InvariantCulture);
        return type switch
        {
            StructType s => $"CASE WHEN {expr} IS NULL THEN NULL ELSE struct_pack(" +
                string.Join(", ", s.Fields.Select(f => $"{SqlText.Identifier(f.Name)} := {Convert(f.Type, $"struct_extract({expr}, {SqlText.Literal(f.PhysicalName)})", mapped, depth + 1)}")) + ") END",
            ArrayType a => $"list_transform({expr}, lambda {v}: {Convert(a.ElementType, v, mapped, depth + 1)})",
            MapType m => $"map_from_entries(list_transform(map_entries({expr}), lambda {v}: struct_pack(\"key\" := {Convert(m.KeyType, v + ".key", mapped, depth + 1)}, \"value\" := {Convert(m.ValueType, v + ".value", mapped, depth + 1)})))",
            _ => $"CAST({expr} AS {type.ToDuckDb()})",
        };
    }

    private static bool HasNestedNames(DeltaType type) => type switch
    {
        StructType => true,
        ArrayType a => HasNestedNames(a.ElementType),
        MapType m => HasNestedNames(m.KeyType) || HasNestedNames(m.ValueType),
        _ => false,
    };

    private static void Drop(DuckConnection connection, List<string> tables)
    {
        foreach (var t in tables)
        {
            try
            {
                connection.Execute($"DROP TABLE IF EXISTS {SqlText.Identifier(t)}");
            }
            catch (LakehouseException)
            {
                // Best effort: a temp table dies with the connection anyway.
            }
        }
    }

    /// <inheritdoc />
    public void Dispose() => Drop(_connection, _helperTables);
}
