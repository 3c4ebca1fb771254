using System.Globalization;
using System.Text;
using Lakehouse.Core;
using Lakehouse.Delta.Schema;
using Lakehouse.Engine;

namespace Lakehouse.Delta.Write;

/// <summary>
/// Partition values as the writer produces them: serialized per PROTOCOL.md "Partition Value Serialization" (in SQL,
/// so DuckDB does it while writing), carried through DuckDB's PARTITION_BY as an injective hex key, and laid out as
/// Spark-compatible Hive folders (<c>col=value/</c>, <c>__HIVE_DEFAULT_PARTITION__</c> for null, %XX for the characters Hive escapes).
/// </summary>
internal static class PartitionEncoding
{
    /// <summary>The folder name Hive and Spark use for a null partition value.</summary>
    internal const string NullFolder = "__HIVE_DEFAULT_PARTITION__";

    /// <summary>The synthetic column DuckDB partitions by: one token per partition column, 'n' for null or 'v' + hex of the UTF-8 value.</summary>
    internal const string KeyColumn = "__lakehouse_pk";

    /// <summary>Throws InvalidInput when a column of this type cannot be a partition column.</summary>
    internal static void CheckPartitionType(StructField field)
    {
        if (field.Type is PrimitiveType { Name: not "binary" } or DecimalType) return;
        throw new LakehouseException(LakehouseErrorReason.InvalidInput,
            $"Column '{field.Name}' of type {Describe(field.Type)} cannot be a partition column; partition by a string, number, boolean, date or timestamp column.");
    }

    private static string Describe(DeltaType type) => type switch
    {
        PrimitiveType p => p.Name,
        StructType => "struct",
        ArrayType => "array",
        MapType => "map",
        _ => type.ToDuckDb(),
    };

    /// <summary>
    /// SQL that serializes a value of <paramref name="type"/> (already cast to its DuckDB type) to its partition string,
    /// NULL for null and for the empty string (PROTOCOL.md: an empty string is a null partition value). A binary value is the text
    /// its bytes encode as UTF-8, as Spark writes it (DuckDB's cast to VARCHAR would give its escaped form, <c>\xF0\x9F...</c>);
    /// bytes that are not UTF-8 fail the query, so callers refuse them first with <see cref="RefuseUnkeptValueSql"/>.
    /// </summary>
    internal static string SerializeSql(string expr, DeltaType type)
    {
        var text = type switch
        {
            PrimitiveType { Name: "string" } => expr,
            PrimitiveType { Name: "binary" } => $"decode({expr})",
            PrimitiveType { Name: "boolean" } => $"CASE WHEN {expr} THEN 'true' WHEN NOT {expr} THEN 'false' END",
            PrimitiveType { Name: "date" } => $"strftime({expr}, '%Y-%m-%d')",
            PrimitiveType { Name: "timestamp" } => $"strftime(({expr}) AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S.%f')",
            PrimitiveType { Name: "timestamp_ntz" } => $"strftime({expr}, '%Y-%m-%d %H:%M:%S.%f')",
            _ => $"CAST({expr} AS VARCHAR)",
        };
        return $"NULLIF({text}, '')";
    }

    /// <summary>
    /// Why a row whose partition column <paramref name="column"/> holds the empty string is refused: Delta stores partition values
    /// as text and reads an empty one back as null (PROTOCOL.md, "Partition Value Serialization"), so writing it would change it.
    /// </summary>
    internal static string EmptyStringMessage(string column) => EmptyValueMessage(column, "the empty string");

    /// <summary>Why a row whose binary partition column <paramref name="column"/> holds no bytes is refused: as <see cref="EmptyStringMessage"/>.</summary>
    internal static string EmptyBinaryMessage(string column) => EmptyValueMessage(column, "an empty binary value (no bytes)");

    private static string EmptyValueMessage(string column, string value) =>
        $"Column '{column}' is a partition column, and a row holds {value} in it: Delta stores partition values as text and reads " +
        "an empty one back as null, so the row would change. Nothing was written; give such rows null (or another value) there, or partition by another column.";

    /// <summary>
    /// Why a row whose binary partition column <paramref name="column"/> holds bytes that are not UTF-8 is refused: Delta stores a
    /// binary partition value as the text its bytes encode (as Spark writes it), and such bytes encode no text to store.
    /// </summary>
    internal static string NotUtf8Message(string column) =>
        $"Column '{column}' is a binary partition column, and a row holds bytes in it that are not valid UTF-8: Delta stores a binary partition value " +
        "as the text its bytes encode, and these encode none. Nothing was written; partition by another column, or keep such bytes out of this one.";

    /// <summary>The messages with which <see cref="RefuseUnkeptValueSql"/> may fail a query for partition column <paramref name="field"/>.</summary>
    private static string[] RefusalMessages(StructField field) => field.Type switch
    {
        PrimitiveType { Name: "string" } => [EmptyStringMessage(field.Name)],
        PrimitiveType { Name: "binary" } => [EmptyBinaryMessage(field.Name), NotUtf8Message(field.Name)],
        _ => [],
    };

    /// <summary>
    /// <paramref name="expr"/> of partition column <paramref name="field"/>, failing the query on a value the partition would not keep:
    /// the empty string (<see cref="EmptyStringMessage"/>), an empty binary value (<see cref="EmptyBinaryMessage"/>) and bytes that are
    /// not UTF-8 (<see cref="NotUtf8Message"/>). <see cref="Refusal"/> turns the failure into the refusal.
    /// </summary>
    internal static string RefuseUnkeptValueSql(string expr, StructField field) => field.Type switch
    {
        PrimitiveType { Name: "string" } =>
            $"CASE WHEN {expr} = '' THEN CAST(error({SqlText.Literal(EmptyStringMessage(field.Name))}) AS VARCHAR) ELSE {expr} END",
        PrimitiveType { Name: "binary" } =>
            $"CASE WHEN octet_length({expr}) = 0 THEN CAST(error({SqlText.Literal(EmptyBinaryMessage(field.Name))}) AS BLOB) " +
            $"WHEN {expr} IS NOT NULL AND try(decode({expr})) IS NULL THEN CAST(error({SqlText.Literal(NotUtf8Message(field.Name))}) AS BLOB) ELSE {expr} END",
        _ => expr,
    };

    /// <summary>
    /// The InvalidInput refusal when <paramref name="e"/> is a query failed by <see cref="RefuseUnkeptValueSql"/> for one of
    /// <paramref name="fields"/> (DuckDB wraps the message in its own text); null for any other failure.
    /// </summary>
    internal static LakehouseException? Refusal(LakehouseException e, IEnumerable<StructField> fields) =>
        e.Reason == LakehouseErrorReason.Engine && fields.SelectMany(RefusalMessages).FirstOrDefault(m => e.Message.Contains(m, StringComparison.Ordinal)) is { } message
            ? new LakehouseException(LakehouseErrorReason.InvalidInput, message, e)
            : null;

    /// <summary>The SQL of the synthetic partition key over already-serialized partition strings.</summary>
    internal static string KeySql(IReadOnlyList<string> serializedExprs)
    {
        if (serializedExprs.Count == 0) return "'x'";
        var parts = serializedExprs.Select(e => $"CASE WHEN ({e}) IS NULL THEN 'n' ELSE 'v' || hex({e}) END");
        return string.Join(" || '_' || ", parts);
    }

    /// <summary>Decodes the synthetic key from a folder name written by DuckDB (<c>__lakehouse_pk=...</c>) back to the values.</summary>
    internal static string?[] DecodeKey(string folderName, int count)
    {
        var prefix = KeyColumn + "=";
        if (!folderName.StartsWith(prefix, StringComparison.Ordinal))
            throw new LakehouseException(LakehouseErrorReason.Engine, $"DuckDB wrote a partition folder '{folderName}' the writer did not ask for.");
        var tokens = folderName[prefix.Length..].Split('_');
        if (tokens.Length != count)
            throw new LakehouseException(LakehouseErrorReason.Engine, $"Partition folder '{folderName}' does not hold {count} values.");
        var values = new string?[count];
        for (var i = 0; i < count; i++)
        {
            var t = tokens[i];
            values[i] = t == "n" ? null : Encoding.UTF8.GetString(Convert.FromHexString(t.AsSpan(1)));
        }
        return values;
    }

    /// <summary>The Hive folder path for a file's partition values, e.g. <c>date=2024-01-01/country=US%2FCA</c>.</summary>
    internal static string FolderPath(IReadOnlyList<string> columns, IReadOnlyList<string?> values)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < columns.Count; i++)
        {
            if (i > 0) sb.Append('/');
            sb.Append(EscapePathName(columns[i])).Append('=').Append(values[i] is { } v ? EscapePathName(v) : NullFolder);
        }
        return sb.ToString();
    }

    /// <summary>
    /// Spark's <c>ExternalCatalogUtils.escapePathName</c>: control characters and <c>"#%'*/:=?\{[]^</c> and DEL become %XX
    /// (upper-case hex of the UTF-16 unit); everything else, spaces and non-ASCII letters included, stays as it is.
    /// </summary>
    internal static string EscapePathName(string value)
    {
        var sb = new StringBuilder(value.Length + 8);
        foreach (var c in value)
        {
            if (NeedsEscape(c)) sb.Append('%').Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
            else sb.Append(c);
        }
        return sb.ToString();
    }

    private static bool NeedsEscape(char c) =>
        c is (>= '\u0001' and <= '\u001F') or '"' or '#' or '%' or '\'' or '*' or '/' or ':' or '=' or '?' or '\\' or '\u007F' or '{' or '[' or ']' or '^';

    /// <summary>A canonical key for a tuple of partition values (conflict checks compare partitions by it).</summary>
    internal static string TupleKey(IReadOnlyList<string> columns, IReadOnlyDictionary<string, string?> values)
    {
        var sb = new StringBuilder();
        foreach (var c in columns)
        {
            var v = Lookup(values, c);
            sb.Append(v is null ? "\u0000n" : "\u0000v" + v);
        }
        return sb.ToString();
    }

    /// <summary>A file's partition value for a column (exact name first, then case-insensitively, as Delta names are).</summary>
    internal static string? Lookup(IReadOnlyDictionary<string, string?> values, string column)
    {
        if (values.TryGetValue(column, out var v)) return string.IsNullOrEmpty(v) ? null : v;
        foreach (var (k, value) in values)
            if (string.Equals(k, column, StringComparison.OrdinalIgnoreCase)) return string.IsNullOrEmpty(value) ? null : value;
        return null;
    }

    /// <summary>A readable form of a partition tuple for messages: <c>date=2024-01-01, country=null</c>.</summary>
    internal static string Describe(IReadOnlyList<string> columns, IReadOnlyDictionary<string, string?> values) =>
        string.Join(", ", columns.Select(c => c + "=" + (Lookup(values, c) ?? "null")));

    /// <summary>SQL turning a serialized partition string column back into its typed value (a binary one into the UTF-8 bytes of its text, as the scan reads it).</summary>
    internal static string ParseSql(string column, DeltaType type) => type switch
    {
        PrimitiveType { Name: "string" } => column,
        PrimitiveType { Name: "binary" } => $"encode(NULLIF({column}, ''))",
        _ => $"CAST(NULLIF({column}, '') AS {type.ToDuckDb()})",
    };
}
