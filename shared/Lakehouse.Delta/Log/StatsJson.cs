using System.Text.Json;

namespace Lakehouse.Delta.Log;

/// <summary>Reads values out of an add action's stats JSON (PROTOCOL.md "Per-file Statistics").</summary>
public static class StatsJson
{
    /// <summary>The file's <c>numRecords</c>, or null when the file has no (readable) statistics.</summary>
    public static long? NumRecords(AddAction file) => NumRecords(file.Stats);

    /// <summary>The <c>numRecords</c> of a stats JSON text, or null when there is none or it is not a whole count (statistics are hints).</summary>
    public static long? NumRecords(string? stats)
    {
        if (stats is null) return null;
        try
        {
            using var doc = JsonDocument.Parse(stats);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("numRecords", out var n) && n.ValueKind == JsonValueKind.Number
                && n.TryGetInt64(out var v) && v >= 0 ? v : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
