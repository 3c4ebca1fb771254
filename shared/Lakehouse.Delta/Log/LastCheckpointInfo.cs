using System.Text.Json;

namespace Lakehouse.Delta.Log;

/// <summary>A listing of _delta_log for one snapshot, with the <c>_last_checkpoint</c> pointer read before it (null when absent or unreadable).</summary>
internal sealed record LogListing(List<LogFile> Files, LastCheckpointInfo? LastCheckpoint);

/// <summary>
/// The content of <c>_last_checkpoint</c> (PROTOCOL.md "Last Checkpoint File"): the checkpoint's version, and when the writer recorded
/// them, its number of actions (size), of parts and of add actions. The numbers let a reader tell a complete checkpoint from a cut-off one.
/// </summary>
internal sealed record LastCheckpointInfo(long Version, long? Size, long? Parts, long? NumOfAddFiles)
{
    /// <summary>The pointer, or null when it is not a JSON object with a version: it is only a hint, and a damaged one is ignored.</summary>
    internal static LastCheckpointInfo? Parse(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            using var doc = JsonDocument.ParseValue(ref reader);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("version", out var v) || v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out var version) || version < 0) return null;
            return new LastCheckpointInfo(version, Number(root, "size"), Number(root, "parts"), Number(root, "numOfAddFiles"));
        }
        catch (JsonException)
        {
            return null;
        }

        static long? Number(JsonElement root, string name) =>
            root.TryGetProperty(name, out var e) && e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out var n) && n >= 0 ? n : null;
    }
}
