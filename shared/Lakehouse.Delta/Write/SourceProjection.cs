using Lakehouse.Core;
using Lakehouse.Delta.Schema;
using Lakehouse.Engine;

namespace Lakehouse.Delta.Write;

/// <summary>A column of a source query, as DuckDB describes it.</summary>
internal sealed record SourceColumn(string Name, string DuckType);

/// <summary>Fits a source query to a table schema: infers a schema from it, or casts its columns to an existing one.</summary>
internal static class SourceProjection
{
    /// <summary>The columns of <paramref name="sourceSql"/> (DuckDB's DESCRIBE).</summary>
    internal static List<SourceColumn> Describe(DuckConnection connection, string sourceSql)
    {
        var columns = new List<SourceColumn>();
        try
        {
            using var r = connection.Query($"DESCRIBE SELECT * FROM ({sourceSql}) AS __src");
            while (r.Read()) columns.Add(new SourceColumn(r.GetString(0), r.GetString(1)));
        }
        catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.Engine)
        {
            throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"The source query cannot be run: {e.Message}", e);
        }
        return columns;
    }

    /// <summary>
    /// The Delta schema of a source. DuckDB's TIMESTAMP (no time zone) becomes Delta <c>timestamp</c> read as UTC, so the table
    /// stays in the Synapse profile (timestamp_ntz needs table features); every column is nullable.
    /// </summary>
    internal static StructType InferSchema(IReadOnlyList<SourceColumn> columns)
    {
        var schema = new StructType([.. columns.Select(c => new StructField(c.Name, AsUtc(DeltaType.FromDuckDb(c.DuckType)), true))]);
        CheckNames(schema);
        return schema;
    }

    private static DeltaType AsUtc(DeltaType type) => type switch
    {
        PrimitiveType { Name: "timestamp_ntz" } => PrimitiveType.Timestamp,
        StructType s => new StructType([.. s.Fields.Select(f => f with { Type = AsUtc(f.Type) })]),
        ArrayType a => a with { ElementType = AsUtc(a.ElementType) },
        MapType m => m with { KeyType = AsUtc(m.KeyType), ValueType = AsUtc(m.ValueType) },
        _ => type,
    };

    /// <summary>Refuses column names that Delta without column mapping cannot store, and duplicates that differ only in case.</summary>
    internal static void CheckNames(StructType schema)
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var f in schema.Fields)
        {
            if (!StructField.IsStorableName(f.Name))
                throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                    $"Column name '{f.Name}' contains one of {StructField.UnstorableCharacters} (or is empty); Delta tables without column mapping cannot store it. Rename the column.");
            if (!seen.Add(f.Name))
                throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"Column '{f.Name}' appears twice (Delta column names are case-insensitive).");
            if (Nested(f.Type) is { } nested) CheckNames(nested);
        }
    }

    private static StructType? Nested(DeltaType type) => type switch
    {
        StructType s => s,
        ArrayType a => Nested(a.ElementType),
        MapType m => Nested(m.ValueType),
        _ => null,
    };

    /// <summary>
    /// A SELECT over <paramref name="sourceSql"/> with exactly the schema's columns, converted to their types without loss
    /// (<see cref="StrictCast"/>: a value that a column cannot hold exactly, such as 1.75 in a long column, fails the query
    /// with an error that <see cref="CastFailure"/> turns into a message naming the column and the value). Columns are matched
    /// by name (case-insensitively); a missing nullable column is NULL, a missing non-nullable one or an extra one is refused.
    /// </summary>
    internal static string Project(StructType schema, IReadOnlyList<SourceColumn> columns, string sourceSql, string table)
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        var list = new List<string>();
        foreach (var f in schema.Fields)
        {
            var source = columns.FirstOrDefault(c => string.Equals(c.Name, f.Name, StringComparison.Ordinal))
                ?? columns.FirstOrDefault(c => string.Equals(c.Name, f.Name, StringComparison.OrdinalIgnoreCase));
            if (source is null)
            {
                if (!f.Nullable)
                    throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"The source has no column '{f.Name}', which '{table}' requires (it is not nullable).");
                list.Add($"CAST(NULL AS {f.Type.ToDuckDb()}) AS {SqlText.Identifier(f.Name)}");
                continue;
            }
            used.Add(source.Name);
            if (!StrictCast.CanConvert(source.DuckType, f.Type))
                throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                    $"Column '{f.Name}' of '{table}' is {Describe(f.Type)}, but the source's '{source.Name}' is {source.DuckType}, which cannot be converted to it.");
            list.Add($"{StrictCast.ConvertSql("__src." + SqlText.Identifier(source.Name), source.DuckType, f.Type, f.Name)} AS {SqlText.Identifier(f.Name)}");
        }
        var extra = columns.Where(c => !used.Contains(c.Name)).Select(c => c.Name).ToList();
        if (extra.Count > 0)
            throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                $"The source has column{(extra.Count > 1 ? "s" : "")} {string.Join(", ", extra.Select(e => "'" + e + "'"))} that '{table}' does not have " +
                $"(its columns: {string.Join(", ", schema.Fields.Select(f => f.Name))}). Drop or rename them in the query.");
        return $"SELECT {string.Join(", ", list)} FROM ({sourceSql}) AS __src";
    }

    /// <summary>
    /// The error to throw for <paramref name="e"/> when it is the failure of a conversion of <see cref="Project"/>: InvalidInput
    /// naming the column, the value and the column's type, with the engine's error inside; null for any other error.
    /// </summary>
    internal static LakehouseException? CastFailure(LakehouseException e, string table)
    {
        if (e.Reason != LakehouseErrorReason.Engine || !StrictCast.TryParseError(e.Message, out var error)) return null;
        return new LakehouseException(LakehouseErrorReason.InvalidInput,
            $"Column '{error.Label}' of '{table}' is {error.Target}, and the source has the value {error.Value} ({error.SourceType}), which it cannot hold " +
            "without loss; nothing was written. Convert or round the value in the source query.", e);
    }

    /// <summary>A type for a message: the Delta name with the DuckDB type it is stored as, e.g. <c>long (BIGINT)</c>.</summary>
    internal static string Describe(DeltaType type) => $"{StrictCast.TypeName(type)} ({type.ToDuckDb()})";
}
