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
    /// <summary>The message for a payload that broke <paramref name="rule"/>.</summary>
    internal static string Describe(string rule, ReadOnlySpan<byte> payload) => rule switch
    {
        SilverRules.InvalidUtf8 => InvalidUtf8(payload),
        SilverRules.MalformedJson => MalformedJson(payload),
        SilverRules.DuplicateKey => DuplicateKey(payload),
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
            }
            return "malformed JSON";
        }
        catch (JsonException e)
        {
            return "malformed JSON: " + Clean(e.Message) + string.Create(CultureInfo.InvariantCulture, $" (byte {reader.BytesConsumed})");
        }
    }

    private static string DuplicateKey(ReadOnlySpan<byte> payload)
    {
        var reader = new Utf8JsonReader(payload, new JsonReaderOptions { MaxDepth = 4096 });
        var seen = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1)
                {
                    var key = reader.GetString()!;
                    if (!seen.Add(key)) return $"the key \"{Shorten(key)}\" appears more than once in the object";
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
