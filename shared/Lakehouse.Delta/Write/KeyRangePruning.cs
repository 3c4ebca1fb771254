using System.Globalization;
using System.Text.Json;
using Lakehouse.Delta.Log;
using Lakehouse.Delta.Schema;
using Lakehouse.Engine;

namespace Lakehouse.Delta.Write;

/// <summary>
/// Data skipping for MERGE: a file whose min/max statistics for a key column do not overlap the source's key range
/// cannot hold a matching row, so it is neither scanned nor rewritten. Used for integer, decimal, floating-point,
/// string and date keys; other types (timestamps, whose maxima some writers round down) are never pruned on.
/// </summary>
internal static class KeyRangePruning
{
    private sealed record Range(string Column, DeltaType Type, object Min, object Max);

    /// <summary>The files that may hold a key of the source table <paramref name="sourceTable"/>.</summary>
    internal static List<AddAction> Prune(DuckConnection connection, string sourceTable, StructType schema, IReadOnlyList<string> keys, IReadOnlyList<AddAction> files)
    {
        var ranges = new List<Range>();
        foreach (var key in keys)
        {
            var field = schema.Find(key)!;
            if (!Prunable(field.Type)) continue;
            using var r = connection.Query($"SELECT min({SqlText.Identifier(field.Name)}), max({SqlText.Identifier(field.Name)}) FROM {SqlText.Identifier(sourceTable)}");
            if (!r.Read() || r.IsNull(0) || r.IsNull(1)) continue;
            ranges.Add(new Range(field.Name, field.Type, r.GetValue(0)!, r.GetValue(1)!));
        }
        if (ranges.Count == 0) return [.. files];
        return [.. files.Where(f => MayMatch(f, ranges))];
    }

    private static bool Prunable(DeltaType type) =>
        type is DecimalType or PrimitiveType { Name: "long" or "integer" or "short" or "byte" or "double" or "float" or "string" or "date" };

    private static bool MayMatch(AddAction file, List<Range> ranges)
    {
        if (file.Stats is null) return true;
        try
        {
            using var doc = JsonDocument.Parse(file.Stats);
            var root = doc.RootElement;
            if (!root.TryGetProperty("minValues", out var mins) || !root.TryGetProperty("maxValues", out var maxs)) return true;
            foreach (var range in ranges)
            {
                if (!mins.TryGetProperty(range.Column, out var lo) || !maxs.TryGetProperty(range.Column, out var hi)) continue;
                // The file's max below the source's min, or its min above the source's max: no key can match.
                if (Compare(hi, range.Min, range.Type) is < 0 || Compare(lo, range.Max, range.Type) is > 0) return false;
            }
            return true;
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or OverflowException)
        {
            return true;
        }
    }

    /// <summary>Compares a statistics value with a source value; null when they cannot be compared.</summary>
    private static int? Compare(JsonElement stat, object value, DeltaType type)
    {
        switch (type)
        {
            case PrimitiveType { Name: "string" } when stat.ValueKind == JsonValueKind.String && value is string s:
                return FileStatistics.CompareUtf8(stat.GetString()!, s);
            case PrimitiveType { Name: "date" } when stat.ValueKind == JsonValueKind.String && value is DateTime d
                && DateOnly.TryParseExact(stat.GetString(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date):
                return date.CompareTo(DateOnly.FromDateTime(d));
            case PrimitiveType { Name: "long" or "integer" or "short" or "byte" } when stat.ValueKind == JsonValueKind.Number && value is long l:
                return stat.GetInt64().CompareTo(l);
            case DecimalType or PrimitiveType { Name: "double" or "float" } when stat.ValueKind == JsonValueKind.Number:
                var x = stat.GetDouble();
                var y = Convert.ToDouble(value, CultureInfo.InvariantCulture);
                // Floating-point stats may be rounded: only a clear gap prunes.
                return x < y - (Math.Abs(y) * 1e-12) ? -1 : x > y + (Math.Abs(y) * 1e-12) ? 1 : 0;
            default:
                return null;
        }
    }
}
