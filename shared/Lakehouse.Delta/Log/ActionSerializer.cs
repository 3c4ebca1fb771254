using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Lakehouse.Core;

namespace Lakehouse.Delta.Log;

/// <summary>Reads and writes Delta actions as the JSON objects of commit files and checkpoint rows.</summary>
internal static class ActionSerializer
{
    private static readonly IReadOnlyDictionary<string, string?> NoPartitions = new Dictionary<string, string?>();

    /// <summary>Parses every action in newline-delimited JSON (a commit file or a JSON checkpoint).</summary>
    internal static List<DeltaAction> ParseLines(ReadOnlySpan<byte> content, string fileForErrors)
    {
        var actions = new List<DeltaAction>();
        var lineNumber = 0;
        while (!content.IsEmpty)
        {
            lineNumber++;
            var end = content.IndexOf((byte)'\n');
            var line = end < 0 ? content : content[..end];
            content = end < 0 ? [] : content[(end + 1)..];
            if (line.Trim(" \t\r"u8).IsEmpty) continue;
            ParseObject(line, actions, fileForErrors, lineNumber);
        }
        return actions;
    }

    /// <summary>Parses one JSON object holding one or more actions keyed by their kind (null kinds are skipped).</summary>
    internal static void ParseObject(ReadOnlySpan<byte> json, List<DeltaAction> into, string fileForErrors, int line)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            using var doc = JsonDocument.ParseValue(ref reader);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new JsonException("a log line must be a JSON object");
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (p.Value.ValueKind == JsonValueKind.Null) continue;
                var action = p.Name switch
                {
                    "add" => ParseAdd(p.Value),
                    "remove" => ParseRemove(p.Value),
                    "metaData" => ParseMetadata(p.Value),
                    "protocol" => ParseProtocol(p.Value),
                    // A txn's version is what an application resumes after: read as 0 when missing, a stream would start again from its first position.
                    "txn" => new TxnAction(Required(p.Value, "appId", "txn"),
                        Long(p.Value, "version") ?? throw new JsonException("txn action's 'version' is missing or not a whole number (it is required)"), Long(p.Value, "lastUpdated")),
                    "commitInfo" => ParseCommitInfo(p.Value),
                    "domainMetadata" => new DomainMetadataAction(Str(p.Value, "domain")!, Str(p.Value, "configuration") ?? "", Bool(p.Value, "removed") ?? false),
                    "cdc" => new CdcAction(Str(p.Value, "path")!),
                    "checkpointMetadata" => new CheckpointMetadataAction(Long(p.Value, "version") ?? 0),
                    "sidecar" => new SidecarAction(Str(p.Value, "path")!, Long(p.Value, "sizeInBytes")),
                    _ => (DeltaAction?)null, // Unknown actions are ignored, as the protocol asks of readers.
                };
                if (action is not null) into.Add(action);
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            throw new LakehouseException(LakehouseErrorReason.CorruptLog, $"Delta log file '{fileForErrors}' line {line} is not a valid action: {e.Message}", e);
        }
    }

    private static string? Str(JsonElement e, string name) => e.TryGetProperty(name, out var v) ? Text(v) : null;

    /// <summary>A value as text: a string's value, null for null, anything else as written (a writer's field of another kind).</summary>
    internal static string? Text(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.String => v.GetString(),
        JsonValueKind.Null => null,
        _ => v.GetRawText(),
    };

    private static string Required(JsonElement e, string name, string kind) =>
        Str(e, name) ?? throw new JsonException($"{kind} action has no '{name}'");

    /// <summary>
    /// A whole number: a JSON number (12009, or 12009.0 and 1.2009e4, which some writers print and Spark's reader takes), or a
    /// string holding one; null when missing or of another kind. A number with a fraction, or beyond a long, is refused naming the
    /// field: .NET's own refusal said only "One of the identified items was in an invalid format".
    /// </summary>
    private static long? Long(JsonElement e, string name)
    {
        if (!e.TryGetProperty(name, out var v)) return null;
        if (v.ValueKind == JsonValueKind.String)
            return long.TryParse(v.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) ? parsed : null;
        if (v.ValueKind != JsonValueKind.Number) return null;
        if (v.TryGetInt64(out var whole)) return whole;
        if (v.TryGetDecimal(out var d) && d == decimal.Truncate(d) && d >= long.MinValue && d <= long.MaxValue) return (long)d;
        throw new JsonException($"'{name}' is {v.GetRawText()}, not a whole number of the range a long holds");
    }

    /// <summary>A whole number (<see cref="Long"/>) that must fit an int: a larger one is refused, not wrapped around.</summary>
    private static int? Int(JsonElement e, string name) =>
        Long(e, name) is not { } n ? null
        : n is >= int.MinValue and <= int.MaxValue ? (int)n
        : throw new JsonException($"'{name}' is {n}, beyond the range an int holds");

    private static bool? Bool(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;

    private static Dictionary<string, string?> NullableMap(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) ? NullableMapOf(v) : new Dictionary<string, string?>(StringComparer.Ordinal);

    private static Dictionary<string, string?> NullableMapOf(JsonElement v)
    {
        var map = new Dictionary<string, string?>(StringComparer.Ordinal);
        if (v.ValueKind != JsonValueKind.Object) return map;
        foreach (var p in v.EnumerateObject())
            map[p.Name] = p.Value.ValueKind switch
            {
                JsonValueKind.Null => null,
                JsonValueKind.String => p.Value.GetString(),
                _ => p.Value.GetRawText(),
            };
        return map;
    }

    private static Dictionary<string, string>? Map(JsonElement e, string name) => e.TryGetProperty(name, out var v) ? MapOf(v) : null;

    private static Dictionary<string, string>? MapOf(JsonElement v)
    {
        if (v.ValueKind != JsonValueKind.Object) return null;
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in v.EnumerateObject())
            if (p.Value.ValueKind != JsonValueKind.Null) map[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
        return map;
    }

    /// <summary>The list of strings <paramref name="v"/> holds, or null when it is not an array of strings only.</summary>
    private static List<string>? StringList(JsonElement v) =>
        v.ValueKind == JsonValueKind.Array && v.EnumerateArray().All(x => x.ValueKind == JsonValueKind.String)
            ? [.. v.EnumerateArray().Select(x => x.GetString()!)]
            : null;

    /// <summary>
    /// A file's deletion vector: null when absent; one of another kind than an object, or without its size or cardinality, is a
    /// corrupt log (read as none, the rows it deletes came back).
    /// </summary>
    private static DeletionVectorDescriptor? ParseDv(JsonElement e) =>
        !e.TryGetProperty("deletionVector", out var v) || v.ValueKind == JsonValueKind.Null ? null
        : v.ValueKind == JsonValueKind.Object ? DvOf(v)
        : throw new JsonException("the action's 'deletionVector' is not an object");

    private static DeletionVectorDescriptor? DvOf(JsonElement v)
    {
        if (v.ValueKind != JsonValueKind.Object) return null;
        return new DeletionVectorDescriptor(
            Required(v, "storageType", "deletionVector"),
            Required(v, "pathOrInlineDv", "deletionVector"),
            Int(v, "offset"),
            Int(v, "sizeInBytes") ?? throw new JsonException("deletionVector has no 'sizeInBytes'"),
            Long(v, "cardinality") ?? throw new JsonException("deletionVector has no 'cardinality'"));
    }

    /// <summary>
    /// An add action. Its partitionValues (a map, <c>{}</c> for none) and size are required (PROTOCOL.md): an add without them, or
    /// with another kind of value, is a corrupt log. Read as an empty map and 0 bytes, a partitioned table's rows of that file read
    /// their partition columns as null, and <c>table check</c> called the table whole.
    /// </summary>
    private static AddAction ParseAdd(JsonElement e) => new(
        Required(e, "path", "add"),
        e.TryGetProperty("partitionValues", out var partitionValues) && partitionValues.ValueKind == JsonValueKind.Object
            ? NullableMapOf(partitionValues)
            : throw new JsonException("add action's 'partitionValues' is missing or not a map (it is required: the file's partition values, {} for none)"),
        Long(e, "size") is { } size and >= 0 ? size
            : throw new JsonException("add action's 'size' is missing or not a whole number of bytes (it is required)"),
        Long(e, "modificationTime") ?? 0,
        Bool(e, "dataChange") ?? true,
        Str(e, "stats"),
        Map(e, "tags"),
        ParseDv(e),
        Long(e, "baseRowId"),
        Long(e, "defaultRowCommitVersion"),
        Str(e, "clusteringProvider"));

    /// <summary>
    /// An add action from a checkpoint read column by column: scalars as they are, the maps and the deletion vector as JSON
    /// text (null when absent). Fails like <see cref="ParseObject"/> does, naming the file and row.
    /// </summary>
    internal static AddAction AddFromColumns(string? path, string? partitionValuesJson, long? size, long? modificationTime, bool? dataChange, string? stats,
        string? tagsJson, string? deletionVectorJson, long? baseRowId, long? defaultRowCommitVersion, string? clusteringProvider, string fileForErrors, int row)
    {
        try
        {
            if (path is null) throw new JsonException("add action has no 'path'");
            return new AddAction(
                path,
                partitionValuesJson is null or "{}" ? NoPartitions : ParseFragment(partitionValuesJson, NullableMapOf),
                size ?? 0,
                modificationTime ?? 0,
                dataChange ?? true,
                stats,
                tagsJson is null ? null : ParseFragment(tagsJson, MapOf),
                deletionVectorJson is null ? null : ParseFragment(deletionVectorJson, DvOf),
                baseRowId,
                defaultRowCommitVersion,
                clusteringProvider);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            throw new LakehouseException(LakehouseErrorReason.CorruptLog, $"Delta log file '{fileForErrors}' line {row} is not a valid action: {e.Message}", e);
        }
    }

    /// <summary>A txn action from a checkpoint read column by column. Fails like <see cref="ParseObject"/> does, naming the file and row.</summary>
    internal static TxnAction TxnFromColumns(string? appId, long? version, long? lastUpdated, string fileForErrors, int row) =>
        appId is null
            ? throw new LakehouseException(LakehouseErrorReason.CorruptLog, $"Delta log file '{fileForErrors}' line {row} is not a valid action: txn action has no 'appId'")
            : new TxnAction(appId, version ?? 0, lastUpdated);

    private static T ParseFragment<T>(string json, Func<JsonElement, T> read)
    {
        using var doc = JsonDocument.Parse(json);
        return read(doc.RootElement);
    }

    private static RemoveAction ParseRemove(JsonElement e) => new(
        Required(e, "path", "remove"),
        Long(e, "deletionTimestamp"),
        Bool(e, "dataChange") ?? true,
        Bool(e, "extendedFileMetadata"),
        e.TryGetProperty("partitionValues", out _) ? NullableMap(e, "partitionValues") : null,
        Long(e, "size"),
        ParseDv(e),
        Map(e, "tags"),
        Str(e, "stats"));

    private static MetadataAction ParseMetadata(JsonElement e)
    {
        var provider = e.TryGetProperty("format", out var f) && f.ValueKind == JsonValueKind.Object ? Str(f, "provider") ?? "parquet" : "parquet";
        return new MetadataAction(
            Required(e, "id", "metaData"),
            Str(e, "name"),
            Str(e, "description"),
            provider,
            Required(e, "schemaString", "metaData"),
            (e.TryGetProperty("partitionColumns", out var partitionColumns) ? StringList(partitionColumns) : null)
                ?? throw new JsonException("metaData action's 'partitionColumns' is missing or not a list of column names (it is required, [] for none)"),
            !e.TryGetProperty("configuration", out var configuration) || configuration.ValueKind is JsonValueKind.Null or JsonValueKind.Object
                ? Map(e, "configuration") ?? []
                : throw new JsonException("metaData action's 'configuration' is not a map of table properties"),
            Long(e, "createdTime"));
    }

    /// <summary>
    /// A protocol action. Both versions are required, and so are the feature lists at reader version 3 and writer version 7 (and
    /// lists wherever present): read as no features, a table's deletion vectors or column mapping would be ignored, and deleted
    /// rows or renamed columns read wrongly.
    /// </summary>
    private static ProtocolAction ParseProtocol(JsonElement e)
    {
        var reader = Int(e, "minReaderVersion") ?? throw new JsonException("protocol action has no 'minReaderVersion'");
        var writer = Int(e, "minWriterVersion") ?? throw new JsonException("protocol action has no 'minWriterVersion'");
        return new ProtocolAction(reader, writer, Features(e, "readerFeatures", reader == 3), Features(e, "writerFeatures", writer == 7));
    }

    private static List<string>? Features(JsonElement e, string name, bool required)
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
            return required ? throw new JsonException($"protocol action has no '{name}', which its version requires") : null;
        return StringList(v) ?? throw new JsonException($"protocol action's '{name}' is not a list of feature names");
    }

    private static CommitInfoAction ParseCommitInfo(JsonElement e) =>
        new(e.GetRawText(), Long(e, "timestamp"), Long(e, "inCommitTimestamp"), Str(e, "operation"));

    // ---- Writing ------------------------------------------------------------------------------------

    /// <summary>JSON as Spark writes it: quotes, apostrophes and non-ASCII text stay readable (only what JSON requires is escaped).</summary>
    internal static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The serializer settings for JSON nested in string fields (operationParameters values).</summary>
    internal static readonly JsonSerializerOptions SerializerOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Serializes actions as newline-delimited JSON, one action per line, in the given order.</summary>
    internal static byte[] ToCommitBytes(IEnumerable<DeltaAction> actions)
    {
        var buffer = new ArrayBufferWriter<byte>();
        foreach (var action in actions)
        {
            using (var w = new Utf8JsonWriter(buffer, WriterOptions))
            {
                Write(w, action);
            }
            buffer.Write("\n"u8);
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Serializes one action as the JSON object of a commit line.</summary>
    internal static string ToJson(DeltaAction action)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            Write(w, action);
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void Write(Utf8JsonWriter w, DeltaAction action)
    {
        w.WriteStartObject();
        switch (action)
        {
            case AddAction a:
                w.WriteStartObject("add");
                w.WriteString("path", a.Path);
                WriteNullableMap(w, "partitionValues", a.PartitionValues);
                w.WriteNumber("size", a.Size);
                w.WriteNumber("modificationTime", a.ModificationTime);
                w.WriteBoolean("dataChange", a.DataChange);
                if (a.Stats is not null) w.WriteString("stats", a.Stats);
                if (a.Tags is not null) WriteMap(w, "tags", a.Tags);
                if (a.DeletionVector is not null) WriteDv(w, a.DeletionVector);
                if (a.BaseRowId is { } b) w.WriteNumber("baseRowId", b);
                if (a.DefaultRowCommitVersion is { } rowVersion) w.WriteNumber("defaultRowCommitVersion", rowVersion);
                if (a.ClusteringProvider is not null) w.WriteString("clusteringProvider", a.ClusteringProvider);
                w.WriteEndObject();
                break;
            case RemoveAction r:
                w.WriteStartObject("remove");
                w.WriteString("path", r.Path);
                if (r.DeletionTimestamp is { } ts) w.WriteNumber("deletionTimestamp", ts);
                w.WriteBoolean("dataChange", r.DataChange);
                if (r.ExtendedFileMetadata is { } ext) w.WriteBoolean("extendedFileMetadata", ext);
                if (r.PartitionValues is not null) WriteNullableMap(w, "partitionValues", r.PartitionValues);
                if (r.Size is { } size) w.WriteNumber("size", size);
                if (r.Stats is not null) w.WriteString("stats", r.Stats);
                if (r.Tags is not null) WriteMap(w, "tags", r.Tags);
                if (r.DeletionVector is not null) WriteDv(w, r.DeletionVector);
                w.WriteEndObject();
                break;
            case MetadataAction m:
                w.WriteStartObject("metaData");
                w.WriteString("id", m.Id);
                if (m.Name is not null) w.WriteString("name", m.Name);
                if (m.Description is not null) w.WriteString("description", m.Description);
                w.WriteStartObject("format");
                w.WriteString("provider", m.FormatProvider);
                w.WriteStartObject("options");
                w.WriteEndObject();
                w.WriteEndObject();
                w.WriteString("schemaString", m.SchemaString);
                w.WriteStartArray("partitionColumns");
                foreach (var c in m.PartitionColumns) w.WriteStringValue(c);
                w.WriteEndArray();
                WriteMap(w, "configuration", m.Configuration);
                if (m.CreatedTime is { } created) w.WriteNumber("createdTime", created);
                w.WriteEndObject();
                break;
            case ProtocolAction p:
                w.WriteStartObject("protocol");
                w.WriteNumber("minReaderVersion", p.MinReaderVersion);
                w.WriteNumber("minWriterVersion", p.MinWriterVersion);
                if (p.ReaderFeatures is not null) WriteList(w, "readerFeatures", p.ReaderFeatures);
                if (p.WriterFeatures is not null) WriteList(w, "writerFeatures", p.WriterFeatures);
                w.WriteEndObject();
                break;
            case TxnAction t:
                w.WriteStartObject("txn");
                w.WriteString("appId", t.AppId);
                w.WriteNumber("version", t.Version);
                if (t.LastUpdated is { } lu) w.WriteNumber("lastUpdated", lu);
                w.WriteEndObject();
                break;
            case CommitInfoAction c:
                w.WritePropertyName("commitInfo");
                w.WriteRawValue(c.Json);
                break;
            case DomainMetadataAction d:
                w.WriteStartObject("domainMetadata");
                w.WriteString("domain", d.Domain);
                w.WriteString("configuration", d.Configuration);
                w.WriteBoolean("removed", d.Removed);
                w.WriteEndObject();
                break;
            default:
                throw new ArgumentException($"Cannot write a {action.GetType().Name} into a commit.", nameof(action));
        }
        w.WriteEndObject();
    }

    private static void WriteDv(Utf8JsonWriter w, DeletionVectorDescriptor dv)
    {
        w.WriteStartObject("deletionVector");
        w.WriteString("storageType", dv.StorageType);
        w.WriteString("pathOrInlineDv", dv.PathOrInlineDv);
        if (dv.Offset is { } o) w.WriteNumber("offset", o);
        w.WriteNumber("sizeInBytes", dv.SizeInBytes);
        w.WriteNumber("cardinality", dv.Cardinality);
        w.WriteEndObject();
    }

    private static void WriteNullableMap(Utf8JsonWriter w, string name, IReadOnlyDictionary<string, string?> map)
    {
        w.WriteStartObject(name);
        foreach (var (k, v) in map)
        {
            if (v is null) w.WriteNull(k);
            else w.WriteString(k, v);
        }
        w.WriteEndObject();
    }

    private static void WriteMap(Utf8JsonWriter w, string name, IReadOnlyDictionary<string, string> map)
    {
        w.WriteStartObject(name);
        foreach (var (k, v) in map) w.WriteString(k, v);
        w.WriteEndObject();
    }

    private static void WriteList(Utf8JsonWriter w, string name, IReadOnlyList<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteStringValue(v);
        w.WriteEndArray();
    }

    internal static IReadOnlyDictionary<string, string?> EmptyPartitions => NoPartitions;
}
