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
            // DuckDB takes NaN, infinities and trailing commas, which RFC 8259 does not: when that is what the reader stopped at, say so.
            if (NotJson(payload) is { } found && OnlyStructure(payload, (int)reader.BytesConsumed, found.Offset))
                return "malformed JSON: " + found.What + string.Create(CultureInfo.InvariantCulture, $" (byte {found.Offset})");
            return "malformed JSON: " + Clean(e.Message) + string.Create(CultureInfo.InvariantCulture, $" (byte {reader.BytesConsumed})");
        }
        catch (InvalidOperationException e)
        {
            return "malformed JSON: " + Clean(e.Message) + string.Create(CultureInfo.InvariantCulture, $" (the {(reader.TokenType == JsonTokenType.PropertyName ? "key" : "string")} at byte {reader.TokenStartIndex})");
        }
    }

    /// <summary>
    /// The first NaN or infinity literal (any case, with or without '-') or trailing comma outside strings, and its byte offset:
    /// what DuckDB's JSON reader takes and RFC 8259 does not.
    /// </summary>
    private static (int Offset, string What)? NotJson(ReadOnlySpan<byte> payload)
    {
        var comma = -1;
        for (var i = 0; i < payload.Length; i++)
        {
            var b = payload[i];
            switch (b)
            {
                case (byte)'"':
                    for (i++; i < payload.Length && payload[i] != (byte)'"'; i++)
                    {
                        if (payload[i] == (byte)'\\') i++;
                    }
                    comma = -1;
                    break;
                case (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r':
                    break;
                case (byte)',':
                    comma = i;
                    break;
                case (byte)'}' or (byte)']' when comma >= 0:
                    return (comma, $"a trailing comma before '{(char)b}' is not JSON");
                default:
                    comma = -1;
                    var start = i;
                    var end = b == (byte)'-' ? i + 1 : i;
                    while (end < payload.Length && char.IsAsciiLetter((char)payload[end])) end++;
                    var word = payload[(b == (byte)'-' ? start + 1 : start)..end];
                    if (word.Length >= 3 && (Ascii.EqualsIgnoreCase(word[..3], "nan"u8) || Ascii.EqualsIgnoreCase(word[..3], "inf"u8)))
                        return (start, Shorten(Encoding.ASCII.GetString(payload[start..end])) + " is not JSON, which has no NaN or infinity");
                    if (end > start + 1) i = end - 1;
                    break;
            }
        }
        return null;
    }

    /// <summary>True when the bytes between offsets <paramref name="a"/> and <paramref name="b"/> are only whitespace and JSON punctuation.</summary>
    private static bool OnlyStructure(ReadOnlySpan<byte> payload, int a, int b) =>
        payload[Math.Min(a, b)..Math.Max(a, b)].IndexOfAnyExcept(Structure) < 0;

    private static readonly SearchValues<byte> Structure = SearchValues.Create(" \t\n\r,:[]{}"u8);

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
