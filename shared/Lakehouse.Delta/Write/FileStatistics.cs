using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json.Nodes;
using Lakehouse.Delta.Schema;
using Lakehouse.Engine;

namespace Lakehouse.Delta.Write;

/// <summary>The statistics of one written data file.</summary>
/// <param name="NumRecords">Rows in the file.</param>
/// <param name="Json">The add action's stats JSON (numRecords, minValues, maxValues, nullCount).</param>
/// <param name="TopLevelNulls">Null counts of top-level primitive columns (to enforce non-nullable columns).</param>
internal sealed record FileStats(long NumRecords, string Json, IReadOnlyDictionary<string, long> TopLevelNulls);

/// <summary>
/// Per-file statistics (PROTOCOL.md "Per-file Statistics") read from the Parquet footers through DuckDB's
/// <c>parquet_metadata()</c>: no data is scanned. Min/max are kept for numbers, decimals, strings (cut to 32 characters;
/// a cut maximum gets U+10FFFF appended so it stays an upper bound), dates and timestamps (millisecond precision, the
/// maximum rounded up); booleans, binary, arrays and maps get no min/max. Leaves of structs are nested as in the schema.
/// </summary>
internal static class FileStatistics
{
    /// <summary>Strings in min/max statistics are cut to this many characters, as Spark does.</summary>
    internal const int StringPrefixLength = 32;

    private sealed record Leaf(string[] Path, DeltaType Type);

    private sealed class Accumulator
    {
        internal object? Min;
        internal object? Max;
        internal bool MinUnknown;
        internal bool MaxUnknown;
        internal long Nulls;
    }

    /// <summary>Reads the footers of <paramref name="localFiles"/> and returns their statistics, keyed by the same path.</summary>
    internal static Dictionary<string, FileStats> Compute(DuckConnection connection, IReadOnlyList<string> localFiles, IReadOnlyList<StructField> dataFields)
    {
        var result = new Dictionary<string, FileStats>(StringComparer.Ordinal);
        if (localFiles.Count == 0) return result;
        var leaves = new Dictionary<string, Leaf>(StringComparer.Ordinal);
        foreach (var f in dataFields) CollectLeaves(f, [], leaves);

        var rows = new Dictionary<string, Dictionary<long, long>>(StringComparer.Ordinal);
        var stats = new Dictionary<string, Dictionary<string, Accumulator>>(StringComparer.Ordinal);
        var sql = "SELECT file_name, row_group_id, row_group_num_rows, path_in_schema, stats_min_value, stats_max_value, stats_null_count " +
                  $"FROM parquet_metadata({SqlText.LiteralList(localFiles)})";
        using (var r = connection.Query(sql))
        {
            while (r.Read())
            {
                var file = r.GetString(0);
                var group = r.GetInt64(1);
                var groupRows = r.GetInt64(2);
                if (!rows.TryGetValue(file, out var groups)) rows[file] = groups = [];
                groups[group] = groupRows;
                var path = r.GetString(3);
                if (!leaves.TryGetValue(path, out var leaf)) continue;
                if (!stats.TryGetValue(file, out var perLeaf)) stats[file] = perLeaf = new Dictionary<string, Accumulator>(StringComparer.Ordinal);
                if (!perLeaf.TryGetValue(path, out var acc)) perLeaf[path] = acc = new Accumulator();
                var nulls = r.IsNull(6) ? (long?)null : r.GetInt64(6);
                if (nulls is null) acc.Nulls = -1;
                else if (acc.Nulls >= 0) acc.Nulls += nulls.Value;
                if (nulls == groupRows) continue; // An all-null row group says nothing about min/max.
                Merge(acc, leaf.Type, r.IsNull(4) ? null : r.GetString(4), isMin: true);
                Merge(acc, leaf.Type, r.IsNull(5) ? null : r.GetString(5), isMin: false);
            }
        }

        foreach (var file in localFiles)
        {
            var numRecords = rows.TryGetValue(file, out var groups) ? groups.Values.Sum() : 0;
            var perLeaf = stats.TryGetValue(file, out var s) ? s : [];
            var min = new JsonObject();
            var max = new JsonObject();
            var nullCount = new JsonObject();
            var topNulls = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var (key, leaf) in leaves)
            {
                if (!perLeaf.TryGetValue(key, out var acc)) continue;
                if (acc.Nulls >= 0)
                {
                    Put(nullCount, leaf.Path, JsonValue.Create(acc.Nulls));
                    if (leaf.Path.Length == 1) topNulls[leaf.Path[0]] = acc.Nulls;
                }
                if (!acc.MinUnknown && acc.Min is not null && ToJson(acc.Min, leaf.Type, isMin: true) is { } lo) Put(min, leaf.Path, lo);
                if (!acc.MaxUnknown && acc.Max is not null && ToJson(acc.Max, leaf.Type, isMin: false) is { } hi) Put(max, leaf.Path, hi);
            }
            var json = new JsonObject
            {
                ["numRecords"] = numRecords,
                ["minValues"] = min,
                ["maxValues"] = max,
                ["nullCount"] = nullCount,
            };
            result[file] = new FileStats(numRecords, json.ToJsonString(), topNulls);
        }
        return result;
    }

    private static void CollectLeaves(StructField field, string[] prefix, Dictionary<string, Leaf> into)
    {
        string[] path = [.. prefix, field.Name];
        switch (field.Type)
        {
            case StructType s:
                foreach (var f in s.Fields) CollectLeaves(f, path, into);
                break;
            case ArrayType or MapType:
                break;
            default:
                into[string.Join(", ", path)] = new Leaf(path, field.Type);
                break;
        }
    }

    private static void Put(JsonObject root, string[] path, JsonNode value)
    {
        var node = root;
        for (var i = 0; i < path.Length - 1; i++)
        {
            if (node[path[i]] is not JsonObject child)
            {
                child = new JsonObject();
                node[path[i]] = child;
            }
            node = child;
        }
        node[path[^1]] = value;
    }

    private static void Merge(Accumulator acc, DeltaType type, string? text, bool isMin)
    {
        if (isMin ? acc.MinUnknown : acc.MaxUnknown) return;
        var value = text is null ? null : Parse(text, type);
        if (value is null)
        {
            if (isMin) acc.MinUnknown = true;
            else acc.MaxUnknown = true;
            return;
        }
        if (isMin)
        {
            if (acc.Min is null || Compare(value, acc.Min) < 0) acc.Min = value;
        }
        else if (acc.Max is null || Compare(value, acc.Max) > 0)
        {
            acc.Max = value;
        }
    }

    private sealed record DecimalValue(BigInteger Unscaled, string Text);

    /// <summary>Parses a footer statistic (as DuckDB prints it) into a comparable value; null when the type keeps no min/max or the value is unusable.</summary>
    private static object? Parse(string text, DeltaType type)
    {
        var inv = CultureInfo.InvariantCulture;
        switch (type)
        {
            case PrimitiveType { Name: "long" or "integer" or "short" or "byte" }:
                return long.TryParse(text, NumberStyles.Integer, inv, out var l) ? l : null;
            case PrimitiveType { Name: "float" or "double" }:
                return double.TryParse(text, NumberStyles.Float, inv, out var d) && double.IsFinite(d) ? d : null;
            case DecimalType:
                var digits = text.Replace(".", "", StringComparison.Ordinal);
                return BigInteger.TryParse(digits, NumberStyles.AllowLeadingSign, inv, out var unscaled) ? new DecimalValue(unscaled, text) : null;
            case PrimitiveType { Name: "string" }:
                return text;
            case PrimitiveType { Name: "date" }:
                return DateOnly.TryParseExact(text, "yyyy-MM-dd", inv, DateTimeStyles.None, out var date) ? date : null;
            case PrimitiveType { Name: "timestamp" }:
                return ParseTimestamp(text, utc: true);
            case PrimitiveType { Name: "timestamp_ntz" }:
                return ParseTimestamp(text, utc: false);
            default:
                return null;
        }
    }

    private static DateTime? ParseTimestamp(string text, bool utc)
    {
        var t = text.Trim();
        var offset = TimeSpan.Zero;
        // DuckDB prints TIMESTAMPTZ as "2024-01-01 10:00:00.5+00" (or "+05:30"); TIMESTAMP without an offset.
        var sign = Math.Max(t.LastIndexOf('+'), t.Length > 10 ? t.LastIndexOf('-') : -1);
        if (utc && sign > 10)
        {
            var tz = t[(sign + 1)..].Replace(":", "", StringComparison.Ordinal);
            if (tz.Length is 2 or 4 && int.TryParse(tz, NumberStyles.None, CultureInfo.InvariantCulture, out var hhmm))
            {
                var hours = tz.Length == 2 ? hhmm : hhmm / 100;
                var minutes = tz.Length == 2 ? 0 : hhmm % 100;
                offset = new TimeSpan(hours, minutes, 0);
                if (t[sign] == '-') offset = -offset;
                t = t[..sign];
            }
        }
        string[] formats = ["yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm:ss.FFFFFFF"];
        if (!DateTime.TryParseExact(t, formats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var value)) return null;
        return DateTime.SpecifyKind(value - offset, DateTimeKind.Utc);
    }

    private static int Compare(object a, object b) => (a, b) switch
    {
        (long x, long y) => x.CompareTo(y),
        (double x, double y) => x.CompareTo(y),
        (DecimalValue x, DecimalValue y) => x.Unscaled.CompareTo(y.Unscaled),
        (string x, string y) => CompareUtf8(x, y),
        (DateOnly x, DateOnly y) => x.CompareTo(y),
        (DateTime x, DateTime y) => x.CompareTo(y),
        _ => 0,
    };

    /// <summary>Compares strings in UTF-8 byte order, the order of Parquet statistics and of DuckDB.</summary>
    internal static int CompareUtf8(string a, string b)
    {
        var x = Encoding.UTF8.GetBytes(a);
        var y = Encoding.UTF8.GetBytes(b);
        return x.AsSpan().SequenceCompareTo(y);
    }

    private static JsonNode? ToJson(object value, DeltaType type, bool isMin)
    {
        switch (value)
        {
            case long l:
                return JsonValue.Create(l);
            case double d:
                return type is PrimitiveType { Name: "float" } ? JsonValue.Create((float)d) : JsonValue.Create(d);
            case DecimalValue dec:
                return JsonNode.Parse(dec.Text);
            case string s:
                return JsonValue.Create(Truncate(s, isMin));
            case DateOnly date:
                return JsonValue.Create(date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            case DateTime t:
                var ms = TimeSpan.TicksPerMillisecond;
                var ticks = isMin ? t.Ticks - (t.Ticks % ms) : t.Ticks + ((ms - (t.Ticks % ms)) % ms);
                if (ticks > DateTime.MaxValue.Ticks) return null;
                var rounded = new DateTime(ticks, DateTimeKind.Utc);
                var format = type is PrimitiveType { Name: "timestamp" } ? "yyyy-MM-dd'T'HH:mm:ss.fff'Z'" : "yyyy-MM-dd'T'HH:mm:ss.fff";
                return JsonValue.Create(rounded.ToString(format, CultureInfo.InvariantCulture));
            default:
                return null;
        }
    }

    /// <summary>Cuts a string statistic to <see cref="StringPrefixLength"/> code points; a cut maximum is bumped with U+10FFFF.</summary>
    internal static string Truncate(string s, bool isMin)
    {
        var runes = 0;
        var end = 0;
        foreach (var rune in s.EnumerateRunes())
        {
            if (runes == StringPrefixLength) break;
            end += rune.Utf16SequenceLength;
            runes++;
        }
        if (end >= s.Length) return s;
        var prefix = s[..end];
        return isMin ? prefix : prefix + char.ConvertFromUtf32(0x10FFFF);
    }
}
