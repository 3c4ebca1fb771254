using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Lakehouse.Silver.Parsing;

/// <summary>
/// Precise messages for the payloads DuckDB found unreadable (invalid UTF-8, malformed JSON, a duplicate key): where and what.
/// Only quarantined rows come here, so the cost of a second, careful read does not matter.
/// </summary>
internal static class PayloadDiagnostics
{
    /// <summary>
    /// The message for a payload that broke <paramref name="rule"/>; <paramref name="objects"/> are the nested objects whose keys
    /// are checked too (<see cref="JsonPayloadSql.ObjectsAlongPaths"/>).
    /// </summary>
    internal static string Describe(string rule, ReadOnlySpan<byte> payload, IReadOnlyList<string> objects) => rule switch
    {
        SilverRules.InvalidUtf8 => InvalidUtf8(payload),
        SilverRules.MalformedJson => MalformedJson(payload),
        SilverRules.DuplicateKey => DuplicateKey(payload, objects),
        _ => rule,
    };

    private static string InvalidUtf8(ReadOnlySpan<byte> payload)
    {
        var offset = 0;
        while (offset < payload.Length)
        {
            if (Rune.DecodeFromUtf8(payload[offset..], out _, out var consumed) != OperationStatus.Done) break;
            offset += consumed;
        }
        return offset >= payload.Length
            ? "the payload is not valid UTF-8"
            : string.Create(CultureInfo.InvariantCulture, $"the payload is not valid UTF-8: byte 0x{payload[offset]:X2} at offset {offset} does not start or continue a character");
    }

    private static string MalformedJson(ReadOnlySpan<byte> payload)
    {
        var reader = new Utf8JsonReader(payload, new JsonReaderOptions { MaxDepth = 4096 });
        try
        {
            while (reader.Read())
            {
                // The reader leaves escapes alone; a lone surrogate (\ud800 without its pair), which DuckDB refuses, shows when the text is unescaped.
                if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && reader.ValueIsEscaped) _ = reader.GetString();
            }
            return "malformed JSON";
        }
        catch (JsonException e)
        {
            return "malformed JSON: " + Clean(e.Message) + string.Create(CultureInfo.InvariantCulture, $" (byte {reader.BytesConsumed})");
        }
        catch (InvalidOperationException e)
        {
            return "malformed JSON: " + Clean(e.Message) + string.Create(CultureInfo.InvariantCulture, $" (the {(reader.TokenType == JsonTokenType.PropertyName ? "key" : "string")} at byte {reader.TokenStartIndex})");
        }
    }

    /// <summary>The first key written twice in the payload or in one of <paramref name="objects"/> (dotted paths below it).</summary>
    private static string DuplicateKey(ReadOnlySpan<byte> payload, IReadOnlyList<string> objects)
    {
        var reader = new Utf8JsonReader(payload, new JsonReaderOptions { MaxDepth = 4096 });
        // Per open object or array: its dotted path ("" the payload, null inside an array or an object no path goes through) and, for
        // a checked object, the keys seen so far.
        var open = new Stack<(string? Path, HashSet<string>? Seen)>();
        string? property = null;
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                        var path = open.Count == 0 ? "" : open.Peek().Path is { } parent && property is not null ? (parent.Length == 0 ? property : parent + "." + property) : null;
                        var checkedHere = path is not null && (path.Length == 0 || objects.Contains(path, StringComparer.Ordinal));
                        open.Push((checkedHere ? path : null, checkedHere ? new HashSet<string>(StringComparer.Ordinal) : null));
                        property = null;
                        break;
                    case JsonTokenType.StartArray:
                        open.Push((null, null));
                        property = null;
                        break;
                    case JsonTokenType.EndObject or JsonTokenType.EndArray:
                        open.Pop();
                        property = null;
                        break;
                    case JsonTokenType.PropertyName:
                        property = reader.GetString()!;
                        var (at, seen) = open.Peek();
                        if (seen is not null && !seen.Add(property))
                            return $"the key \"{Shorten(property)}\" appears more than once in the object" + (at!.Length == 0 ? "" : $" at {Shorten(at)}");
                        break;
                    default:
                        property = null;
                        break;
                }
            }
        }
        catch (JsonException)
        {
        }
        return "a key appears more than once in the object";
    }

    /// <summary>System.Text.Json's message without its line/position suffix (the byte offset is given instead).</summary>
    private static string Clean(string message)
    {
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).TrimEnd();
    }

    private static string Shorten(string s) => s.Length <= 60 ? s : s[..60] + "…";
}
