using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Lakehouse.Core;
using Lakehouse.Engine;

namespace Lakehouse.Delta.Schema;

/// <summary>A Delta data type (PROTOCOL.md "Schema Serialization Format").</summary>
public abstract record DeltaType
{
    /// <summary>The DuckDB type that holds this Delta type's values.</summary>
    public abstract string ToDuckDb();

    /// <summary>The type as it appears in a Delta schema string.</summary>
    internal abstract JsonNode ToJsonNode();

    /// <summary>Parses a type node of a Delta schema.</summary>
    internal static DeltaType Parse(JsonElement e)
    {
        if (e.ValueKind == JsonValueKind.String) return PrimitiveType.Parse(e.GetString()!);
        var kind = e.GetProperty("type").GetString();
        return kind switch
        {
            "struct" => StructType.Parse(e),
            "array" => new ArrayType(Parse(e.GetProperty("elementType")), !e.TryGetProperty("containsNull", out var cn) || cn.GetBoolean()),
            "map" => new MapType(Parse(e.GetProperty("keyType")), Parse(e.GetProperty("valueType")),
                !e.TryGetProperty("valueContainsNull", out var vn) || vn.GetBoolean()),
            _ => throw new LakehouseException(LakehouseErrorReason.UnsupportedFeature, $"Unsupported Delta type '{kind}'."),
        };
    }

    /// <summary>Maps a DuckDB type name (as DESCRIBE prints it) to a Delta type.</summary>
    public static DeltaType FromDuckDb(string duckType)
    {
        ArgumentNullException.ThrowIfNull(duckType);
        var t = duckType.Trim();
        if (t.EndsWith("[]", StringComparison.Ordinal)) return new ArrayType(FromDuckDb(t[..^2]), true);
        var upper = t.ToUpperInvariant();
        if (upper.StartsWith("STRUCT(", StringComparison.Ordinal))
        {
            var fields = SplitTopLevel(t[7..^1]).Select(f =>
            {
                var (name, rest) = SplitNameAndType(f);
                return new StructField(name, FromDuckDb(rest), true);
            });
            return new StructType([.. fields]);
        }
        if (upper.StartsWith("MAP(", StringComparison.Ordinal))
        {
            var parts = SplitTopLevel(t[4..^1]);
            return new MapType(FromDuckDb(parts[0]), FromDuckDb(parts[1]), true);
        }
        if (upper.StartsWith("DECIMAL(", StringComparison.Ordinal))
        {
            var ps = t[8..^1].Split(',');
            return new DecimalType(int.Parse(ps[0].Trim()), int.Parse(ps[1].Trim()));
        }
        return upper switch
        {
            "VARCHAR" or "UUID" or "JSON" => PrimitiveType.String,
            "BIGINT" or "UINTEGER" => PrimitiveType.Long,
            "INTEGER" or "USMALLINT" => PrimitiveType.Integer,
            "SMALLINT" or "UTINYINT" => PrimitiveType.Short,
            "TINYINT" => PrimitiveType.Byte,
            "FLOAT" => PrimitiveType.Float,
            "DOUBLE" => PrimitiveType.Double,
            "BOOLEAN" => PrimitiveType.Boolean,
            "BLOB" => PrimitiveType.Binary,
            "DATE" => PrimitiveType.Date,
            "TIMESTAMP WITH TIME ZONE" or "TIMESTAMPTZ" => PrimitiveType.Timestamp,
            "TIMESTAMP" or "TIMESTAMP_MS" or "TIMESTAMP_S" or "TIMESTAMP_NS" => PrimitiveType.TimestampNtz,
            "HUGEINT" => new DecimalType(38, 0),
            "UBIGINT" => new DecimalType(20, 0),
            _ => throw new LakehouseException(LakehouseErrorReason.UnsupportedFeature, $"DuckDB type '{duckType}' has no Delta equivalent; cast it first."),
        };
    }

    private static (string Name, string Type) SplitNameAndType(string field)
    {
        field = field.Trim();
        if (field.StartsWith('"'))
        {
            var i = 1;
            var name = new System.Text.StringBuilder();
            while (i < field.Length)
            {
                if (field[i] == '"' && i + 1 < field.Length && field[i + 1] == '"') { name.Append('"'); i += 2; continue; }
                if (field[i] == '"') break;
                name.Append(field[i++]);
            }
            return (name.ToString(), field[(i + 1)..].Trim());
        }
        var space = field.IndexOf(' ', StringComparison.Ordinal);
        return (field[..space], field[(space + 1)..].Trim());
    }

    private static List<string> SplitTopLevel(string s)
    {
        var parts = new List<string>();
        int depth = 0, start = 0;
        var quoted = false;
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (c == '"') quoted = !quoted;
            else if (quoted) continue;
            else if (c == '(') depth++;
            else if (c == ')') depth--;
            else if (c == ',' && depth == 0)
            {
                parts.Add(s[start..i].Trim());
                start = i + 1;
            }
        }
        parts.Add(s[start..].Trim());
        return parts;
    }
}

/// <summary>A primitive Delta type: string, long, integer, short, byte, float, double, boolean, binary, date, timestamp, timestamp_ntz.</summary>
public sealed record PrimitiveType(string Name) : DeltaType
{
    /// <summary>string</summary>
    public static readonly PrimitiveType String = new("string");
    /// <summary>long</summary>
    public static readonly PrimitiveType Long = new("long");
    /// <summary>integer</summary>
    public static readonly PrimitiveType Integer = new("integer");
    /// <summary>short</summary>
    public static readonly PrimitiveType Short = new("short");
    /// <summary>byte</summary>
    public static readonly PrimitiveType Byte = new("byte");
    /// <summary>float</summary>
    public static readonly PrimitiveType Float = new("float");
    /// <summary>double</summary>
    public static readonly PrimitiveType Double = new("double");
    /// <summary>boolean</summary>
    public static readonly PrimitiveType Boolean = new("boolean");
    /// <summary>binary</summary>
    public static readonly PrimitiveType Binary = new("binary");
    /// <summary>date</summary>
    public static readonly PrimitiveType Date = new("date");
    /// <summary>timestamp (an instant, microseconds, UTC)</summary>
    public static readonly PrimitiveType Timestamp = new("timestamp");
    /// <summary>timestamp_ntz (wall-clock time without zone)</summary>
    public static readonly PrimitiveType TimestampNtz = new("timestamp_ntz");

    internal static DeltaType Parse(string name)
    {
        if (name.StartsWith("decimal", StringComparison.Ordinal)) return DecimalType.Parse(name);
        return name switch
        {
            "string" or "long" or "integer" or "short" or "byte" or "float" or "double" or "boolean" or "binary" or "date" or "timestamp" or "timestamp_ntz" => new PrimitiveType(name),
            "variant" => throw new LakehouseException(LakehouseErrorReason.UnsupportedFeature, "The table uses the 'variant' type (table feature variantType), which this reader does not support."),
            _ => throw new LakehouseException(LakehouseErrorReason.UnsupportedFeature, $"Unsupported Delta type '{name}'."),
        };
    }

    /// <inheritdoc />
    public override string ToDuckDb() => Name switch
    {
        "string" => "VARCHAR",
        "long" => "BIGINT",
        "integer" => "INTEGER",
        "short" => "SMALLINT",
        "byte" => "TINYINT",
        "float" => "FLOAT",
        "double" => "DOUBLE",
        "boolean" => "BOOLEAN",
        "binary" => "BLOB",
        "date" => "DATE",
        "timestamp" => "TIMESTAMPTZ",
        "timestamp_ntz" => "TIMESTAMP",
        _ => throw new InvalidOperationException(Name),
    };

    internal override JsonNode ToJsonNode() => JsonValue.Create(Name);
}

/// <summary>decimal(precision, scale).</summary>
public sealed partial record DecimalType(int Precision, int Scale) : DeltaType
{
    /// <summary>The largest precision Delta (and Spark, DuckDB, Synapse) gives a decimal.</summary>
    internal const int MaxPrecision = 38;

    [GeneratedRegex(@"^decimal(?:\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*\))?$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    /// <summary>
    /// <c>decimal</c> (Spark's default, decimal(10,0)) or <c>decimal(p,s)</c> with a precision from 1 to 38 and a scale from 0 to the
    /// precision, as Delta allows; anything else is a broken schema (<see cref="LakehouseErrorReason.CorruptLog"/>, naming the type):
    /// decimal(39,0) was read and handed on to DuckDB and Synapse, which refuse it, and decimal(10 without its parenthesis crashed.
    /// </summary>
    internal static DecimalType Parse(string name)
    {
        var m = Pattern().Match(name);
        if (!m.Success)
            throw Invalid(name);
        if (!m.Groups[1].Success) return new DecimalType(10, 0);
        var (precision, scale) = (int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
        return precision is >= 1 and <= MaxPrecision && scale <= precision ? new DecimalType(precision, scale) : throw Invalid(name);
    }

    private static LakehouseException Invalid(string name) =>
        new(LakehouseErrorReason.CorruptLog,
            $"The table's schema has the type '{string.Concat(name.Select(c => char.IsControl(c) ? $"\\u{(int)c:X4}" : c.ToString()))}', which is not a Delta decimal: decimal(p,s) takes a precision p from 1 to {MaxPrecision} and a scale s from 0 to p.");

    /// <inheritdoc />
    public override string ToDuckDb() => $"DECIMAL({Precision},{Scale})";

    internal override JsonNode ToJsonNode() => JsonValue.Create($"decimal({Precision},{Scale})");
}

/// <summary>An array of elements.</summary>
public sealed record ArrayType(DeltaType ElementType, bool ContainsNull) : DeltaType
{
    /// <inheritdoc />
    public override string ToDuckDb() => ElementType.ToDuckDb() + "[]";

    internal override JsonNode ToJsonNode() => new JsonObject { ["type"] = "array", ["elementType"] = ElementType.ToJsonNode(), ["containsNull"] = ContainsNull };
}

/// <summary>A map from keys to values.</summary>
public sealed record MapType(DeltaType KeyType, DeltaType ValueType, bool ValueContainsNull) : DeltaType
{
    /// <inheritdoc />
    public override string ToDuckDb() => $"MAP({KeyType.ToDuckDb()}, {ValueType.ToDuckDb()})";

    internal override JsonNode ToJsonNode() => new JsonObject
    {
        ["type"] = "map",
        ["keyType"] = KeyType.ToJsonNode(),
        ["valueType"] = ValueType.ToJsonNode(),
        ["valueContainsNull"] = ValueContainsNull,
    };
}

/// <summary>A field of a struct, with its column-mapping metadata when the table uses column mapping.</summary>
public sealed record StructField(string Name, DeltaType Type, bool Nullable, IReadOnlyDictionary<string, JsonNode?>? Metadata = null)
{
    private static readonly System.Buffers.SearchValues<char> Unstorable = System.Buffers.SearchValues.Create(" ,;{}()\n\t=");

    /// <summary>The characters a column name of a table without column mapping may not hold (Spark's rule), written as a message shows them.</summary>
    public const string UnstorableCharacters = "\" ,;{}()\\n\\t=\"";

    /// <summary>True when a table without column mapping can name a column <paramref name="name"/>: not empty, none of <see cref="UnstorableCharacters"/>.</summary>
    public static bool IsStorableName(string name) => name.Length > 0 && name.AsSpan().IndexOfAny(Unstorable) < 0;

    /// <summary>The name in the data files: the column-mapping physical name, or the logical name.</summary>
    public string PhysicalName => Metadata is not null && Metadata.TryGetValue("delta.columnMapping.physicalName", out var n) && n is not null
        ? n.GetValue<string>()
        : Name;
}

/// <summary>A struct; the table schema is the root struct.</summary>
public sealed record StructType(IReadOnlyList<StructField> Fields) : DeltaType
{
    /// <summary>Parses a Delta schema string.</summary>
    public static StructType ParseSchema(string schemaString)
    {
        try
        {
            using var doc = JsonDocument.Parse(schemaString);
            return Parse(doc.RootElement);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new LakehouseException(LakehouseErrorReason.CorruptLog, $"The table's schemaString is not a valid Delta schema: {e.Message}", e);
        }
    }

    internal static new StructType Parse(JsonElement e)
    {
        var fields = new List<StructField>();
        foreach (var f in e.GetProperty("fields").EnumerateArray())
        {
            Dictionary<string, JsonNode?>? metadata = null;
            if (f.TryGetProperty("metadata", out var m) && m.ValueKind == JsonValueKind.Object)
            {
                metadata = [];
                foreach (var p in m.EnumerateObject()) metadata[p.Name] = JsonNode.Parse(p.Value.GetRawText());
            }
            fields.Add(new StructField(f.GetProperty("name").GetString()!, DeltaType.Parse(f.GetProperty("type")),
                !f.TryGetProperty("nullable", out var n) || n.GetBoolean(), metadata));
        }
        return new StructType(fields);
    }

    /// <summary>The field with the given name (case-insensitive, as Delta column names are), or null.</summary>
    public StructField? Find(string name) =>
        Fields.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.Ordinal))
        ?? Fields.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <inheritdoc />
    public override string ToDuckDb() => "STRUCT(" + string.Join(", ", Fields.Select(f => SqlText.Identifier(f.Name) + " " + f.Type.ToDuckDb())) + ")";

    internal override JsonNode ToJsonNode()
    {
        var fields = new JsonArray();
        foreach (var f in Fields)
        {
            var metadata = new JsonObject();
            if (f.Metadata is not null)
                foreach (var (k, v) in f.Metadata) metadata[k] = v?.DeepClone();
            fields.Add(new JsonObject { ["name"] = f.Name, ["type"] = f.Type.ToJsonNode(), ["nullable"] = f.Nullable, ["metadata"] = metadata });
        }
        return new JsonObject { ["type"] = "struct", ["fields"] = fields };
    }

    /// <summary>The schema string for a metaData action.</summary>
    public string ToSchemaString() => ToJsonNode().ToJsonString();
}
