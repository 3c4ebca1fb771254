using System.Collections.Concurrent;
using Lakehouse.Core;
using Lakehouse.Delta.Schema;
using Lakehouse.Engine;

namespace Lakehouse.Delta.Scan;

/// <summary>
/// What this process has learned about data files' Parquet schemas: each file's schema, and the schemas known to read as a table
/// schema. Shared by every table of the process (<see cref="Shared"/>): a query that opens its tables anew (sql, the dashboard)
/// does not read the footers again. A file is known by its path, length and last write time, so a file replaced in place (never
/// done by a Delta writer) is read again.
/// </summary>
internal sealed class FileSchemaMemory
{
    /// <summary>Files remembered at most; past it the memory starts over (a long-running process reads ever new files).</summary>
    private const int MostFiles = 200_000;

    private readonly ConcurrentDictionary<string, string> _interned = new(StringComparer.Ordinal);

    /// <summary>The memory of this process.</summary>
    internal static FileSchemaMemory Shared { get; } = new();

    /// <summary>The schema signature of each local data file seen, by <see cref="Key"/>.</summary>
    internal ConcurrentDictionary<string, string> Schemas { get; } = new(StringComparer.Ordinal);

    /// <summary>(file schema signature, table schema key) pairs that were checked and read without change.</summary>
    internal ConcurrentDictionary<(string, string), byte> Accepted { get; } = new();

    /// <summary>How a local file is known: its path, length and last write time (empty when it cannot be read: never remembered).</summary>
    internal static string Key(string local)
    {
        var info = new FileInfo(local);
        return info.Exists ? $"{local}\u001f{info.Length}\u001f{info.LastWriteTimeUtc.Ticks}" : "";
    }

    internal void Remember(string key, string signature)
    {
        if (key.Length == 0) return;
        if (Schemas.Count >= MostFiles) Schemas.Clear();
        Schemas[key] = _interned.GetOrAdd(signature, signature);
    }
}

/// <summary>
/// Checks the column types stored in data files against the table's schema before a scan casts them to it. A scan casts every
/// column to its table type, which would silently change values a file stores in another type (a DOUBLE 22.7 in a long column
/// reads as 23). Allowed are the types of the schema itself, the conversions Delta's type widening allows (PROTOCOL.md "Type
/// Widening": integer widening, float and smaller integers to double, integers and decimals to wider decimals, date to
/// timestamp_ntz) and the timestamp encodings writers choose between (INT96, micro-, milli- and nanoseconds, with or without UTC
/// adjustment). Anything else is refused, naming the file, the column and both types. The footers are read once, in one query.
/// </summary>
internal static class DataFileTypes
{
    /// <summary>One element of a Parquet schema as <c>parquet_schema()</c> lists it, with its children.</summary>
    private sealed class Node
    {
        internal required string Name { get; init; }
        internal string? DuckType { get; init; }
        internal bool Repeated { get; init; }
        internal string? Converted { get; init; }
        internal string? Logical { get; init; }
        internal List<Node> Children { get; } = [];

        internal bool IsList => Converted == "LIST" || (Logical?.StartsWith("ListType", StringComparison.Ordinal) ?? false);

        internal bool IsMap => Converted is "MAP" or "MAP_KEY_VALUE" || (Logical?.StartsWith("MapType", StringComparison.Ordinal) ?? false);
    }

    /// <summary>
    /// Throws CorruptLog when a file stores a column of the schema in a type that does not convert to the table's type without change.
    /// Returns true when every file has the same Parquet schema (names, types, nesting), so a scan need not unify them by name.
    /// The footers of files not seen before are read in one query; each distinct file schema is checked once per table schema, and
    /// both are remembered in <paramref name="memory"/> (data files never change once written). The columns checked are the schema's
    /// of <paramref name="snapshot"/> that are not partition columns, by physical name under column mapping.
    /// </summary>
    internal static bool Check(DuckConnection connection, DeltaSnapshot snapshot, IReadOnlyList<string> locals, IReadOnlyList<string> relative, string table,
        FileSchemaMemory memory)
    {
        if (locals.Count == 0) return true;
        var schema = snapshot.Schema;
        var columnMapping = snapshot.ColumnMappingMode is "name" or "id";
        var partitionColumns = new HashSet<string>(snapshot.PartitionColumns, StringComparer.OrdinalIgnoreCase);
        var keys = locals.Select(FileSchemaMemory.Key).ToList();
        var unseen = locals.Where((l, i) => keys[i].Length == 0 || !memory.Schemas.ContainsKey(keys[i])).Distinct(StringComparer.Ordinal).ToList();
        var schemas = new Dictionary<string, string>(StringComparer.Ordinal);
        if (unseen.Count > 0)
        {
            // One row per file: its Parquet schema elements in order, fields split by chr(31), elements by chr(30).
            try
            {
                using var r = connection.Query(
                    "SELECT file_name, string_agg(concat_ws(chr(31), name, coalesce(duckdb_type, ''), coalesce(repetition_type, ''), coalesce(num_children, 0), " +
                    "coalesce(converted_type, ''), coalesce(logical_type, '')), chr(30) ORDER BY column_id) " +
                    $"FROM parquet_schema({SqlText.LiteralList(unseen)}) GROUP BY file_name");
                while (r.Read()) schemas[r.GetString(0)] = r.GetString(1);
            }
            catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.Engine)
            {
                throw new LakehouseException(LakehouseErrorReason.CorruptLog, $"A data file of '{table}' is not readable Parquet: {e.Message}", e);
            }
        }

        var fields = schema.Fields.Where(f => !partitionColumns.Contains(f.Name)).ToList();
        // The log's own schema text: serializing the parsed schema again (the JSON serializer's first use) took about 5 ms of a short
        // command's first scan, more than the check itself.
        var tableKey = $"{columnMapping}\u001f{string.Join("\u001e", partitionColumns.Order(StringComparer.Ordinal))}\u001f{snapshot.Metadata.SchemaString}";
        var distinct = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (local, signature) in schemas)
            memory.Remember(FileSchemaMemory.Key(local), signature);
        for (var i = 0; i < locals.Count; i++)
        {
            if (!schemas.TryGetValue(locals[i], out var signature) && !memory.Schemas.TryGetValue(keys[i], out signature)) continue;
            if (!distinct.Add(signature) || memory.Accepted.ContainsKey((signature, tableKey))) continue;
            var at = 0;
            var root = Build(Parse(signature), ref at);
            if (MissingColumns(fields, root, columnMapping) is { } missing)
                throw new LakehouseException(LakehouseErrorReason.CorruptLog, $"Data file '{relative[i]}' of '{table}' {missing}. The file was not written with this table's schema; " +
                    "restore the table to a version without it, or remove it with a commit.");
            if (Mismatch(fields, root, columnMapping, "") is { } problem)
                throw new LakehouseException(LakehouseErrorReason.CorruptLog,
                    $"Data file '{relative[i]}' of '{table}' stores column '{problem.Column}' as {problem.FileType}, but the table's schema says {problem.TableType}: " +
                    "reading it would change its values (only the conversions of Delta's type widening are read). The file was not written with this table's " +
                    "schema; rewrite it with the table's types, or restore the table to a version without it.");
            memory.Accepted.TryAdd((signature, tableKey), 0);
        }
        return distinct.Count <= 1;
    }

    private static List<(Node Node, long Children)> Parse(string signature)
    {
        var rows = new List<(Node Node, long Children)>();
        foreach (var element in signature.Split('\u001e'))
        {
            var f = element.Split('\u001f');
            if (f.Length < 6) continue;
            rows.Add((new Node
            {
                Name = f[0],
                DuckType = f[1].Length == 0 ? null : f[1],
                Repeated = f[2] == "REPEATED",
                Converted = f[4].Length == 0 ? null : f[4],
                Logical = f[5].Length == 0 ? null : f[5],
            }, long.TryParse(f[3], System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : 0));
        }
        return rows;
    }

    private static Node Build(List<(Node Node, long Children)> rows, ref int at)
    {
        var (node, children) = rows[at++];
        for (var c = 0; c < children && at < rows.Count; c++) node.Children.Add(Build(rows, ref at));
        return node;
    }

    private sealed record Problem(string Column, string FileType, string TableType);

    /// <summary>
    /// Why a file cannot hold this table's rows although its columns' types fit: it has none of the table's data columns (a file of
    /// another table), or it lacks a column the schema declares not nullable (a column added later is always nullable, so only a
    /// file written for another schema lacks one). Null when neither.
    /// </summary>
    private static string? MissingColumns(IReadOnlyList<StructField> fields, Node root, bool columnMapping)
    {
        if (fields.Count == 0) return null;
        var found = fields.Select(f => Find(root, columnMapping ? f.PhysicalName : f.Name)).ToList();
        if (found.All(c => c is null))
            return $"has none of the table's columns ({string.Join(", ", fields.Take(5).Select(f => f.Name))}{(fields.Count > 5 ? ", ..." : "")}); its columns are " +
                string.Join(", ", root.Children.Take(5).Select(c => c.Name)) + (root.Children.Count > 5 ? ", ..." : "");
        var required = fields.Where((f, i) => !f.Nullable && found[i] is null).Select(f => f.Name).ToList();
        return required.Count > 0 ? $"lacks column '{required[0]}', which the table's schema declares not nullable" : null;
    }

    private static Node? Find(Node group, string name) =>
        group.Children.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.Ordinal))
        ?? group.Children.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase));

    private static Problem? Mismatch(IReadOnlyList<StructField> fields, Node group, bool columnMapping, string prefix)
    {
        foreach (var field in fields)
        {
            var name = columnMapping ? field.PhysicalName : field.Name;
            var child = group.Children.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.Ordinal))
                ?? group.Children.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase));
            if (child is null) continue; // A column the file predates reads as null.
            if (Mismatch(field.Type, child, columnMapping, prefix + field.Name) is { } problem) return problem;
        }
        return null;
    }

    private static Problem? Mismatch(DeltaType table, Node node, bool columnMapping, string column)
    {
        if (node.Repeated)
        {
            // A repeated field outside a LIST group is a list of that field (the legacy two-level layout).
            return table is ArrayType a ? Mismatch(a.ElementType, Single(node), columnMapping, column + "[]") : new Problem(column, "a list", TypeName(table));
        }
        if (node.IsList)
        {
            if (table is not ArrayType array) return new Problem(column, "a list", TypeName(table));
            if (node.Children.Count != 1) return new Problem(column, "a malformed list", TypeName(table));
            var repeated = node.Children[0];
            // Three levels (LIST group, repeated group, element), or two where the repeated field is the element (Parquet's backward-compatibility rules).
            var element = repeated.Children.Count == 1 && repeated.Name != "array" && repeated.Name != node.Name + "_tuple" ? repeated.Children[0] : Single(repeated);
            return Mismatch(array.ElementType, element, columnMapping, column + "[]");
        }
        if (node.IsMap)
        {
            if (table is not MapType map) return new Problem(column, "a map", TypeName(table));
            var entries = node.Children.FirstOrDefault();
            if (entries is null || entries.Children.Count is < 1 or > 2) return new Problem(column, "a malformed map", TypeName(table));
            return Mismatch(map.KeyType, entries.Children[0], columnMapping, column + ".key")
                ?? (entries.Children.Count == 2 ? Mismatch(map.ValueType, entries.Children[1], columnMapping, column + ".value") : null);
        }
        if (node.DuckType is null)
        {
            return table is StructType s ? Mismatch(s.Fields, node, columnMapping, column + ".") : new Problem(column, "a struct", TypeName(table));
        }
        if (table is StructType or ArrayType or MapType) return new Problem(column, node.DuckType, TypeName(table));
        DeltaType stored;
        try
        {
            stored = DeltaType.FromDuckDb(node.DuckType);
        }
        catch (LakehouseException)
        {
            return new Problem(column, node.DuckType, TypeName(table));
        }
        return Reads(stored, table) ? null : new Problem(column, node.DuckType, TypeName(table));
    }

    /// <summary>The same field, not repeated: one element of the list it stands for.</summary>
    private static Node Single(Node repeated)
    {
        var single = new Node { Name = repeated.Name, DuckType = repeated.DuckType, Converted = repeated.Converted, Logical = repeated.Logical };
        single.Children.AddRange(repeated.Children);
        return single;
    }

    /// <summary>True when values stored as <paramref name="stored"/> read as <paramref name="table"/> unchanged.</summary>
    internal static bool Reads(DeltaType stored, DeltaType table)
    {
        if (stored == table) return true;
        return (stored, table) switch
        {
            (PrimitiveType s, PrimitiveType t) when IntegerRank(s) > 0 && IntegerRank(t) > 0 => IntegerRank(s) <= IntegerRank(t),
            (PrimitiveType { Name: "float" or "byte" or "short" or "integer" }, PrimitiveType { Name: "double" }) => true,
            (PrimitiveType { Name: "date" }, PrimitiveType { Name: "timestamp_ntz" }) => true,
            (PrimitiveType { Name: "timestamp" or "timestamp_ntz" }, PrimitiveType { Name: "timestamp" or "timestamp_ntz" }) => true,
            (PrimitiveType s, DecimalType t) when IntegerRank(s) > 0 => t.Precision - t.Scale >= IntegerDigits(s),
            (DecimalType s, DecimalType t) => t.Scale >= s.Scale && t.Precision - t.Scale >= s.Precision - s.Scale,
            _ => false,
        };
    }

    private static int IntegerRank(PrimitiveType type) => type.Name switch
    {
        "byte" => 1,
        "short" => 2,
        "integer" => 3,
        "long" => 4,
        _ => 0,
    };

    /// <summary>The decimal digits every value of an integer type needs (as Spark's DecimalType.forType: 3, 5, 10, 20).</summary>
    private static int IntegerDigits(PrimitiveType type) => type.Name switch
    {
        "byte" => 3,
        "short" => 5,
        "integer" => 10,
        _ => 20,
    };

    private static string TypeName(DeltaType type) => type switch
    {
        PrimitiveType p => p.Name,
        DecimalType d => $"decimal({d.Precision},{d.Scale})",
        ArrayType a => $"array<{TypeName(a.ElementType)}>",
        MapType m => $"map<{TypeName(m.KeyType)},{TypeName(m.ValueType)}>",
        _ => "struct",
    };
}
