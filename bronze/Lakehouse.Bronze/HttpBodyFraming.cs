using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Lakehouse.Core;

namespace Lakehouse.Bronze;

/// <summary>How the body of an HTTP ingest request is cut into events.</summary>
public enum HttpBodyFormat
{
    /// <summary>One event per line (NDJSON, JSON Lines, text log lines): every line is landed as it is, valid JSON or not.</summary>
    Lines,

    /// <summary>A JSON array whose elements are the events (or one JSON object, which is one event); the body must parse.</summary>
    Json,
}

/// <summary>One event in a request body: where its bytes are, and its position for <c>source_line</c>.</summary>
/// <param name="Offset">Byte offset of the event in the body (bronze's <c>source_offset</c>).</param>
/// <param name="Length">Its length in bytes (a line without its line break).</param>
/// <param name="Line">The 1-based line of a line body (blank lines count, as in a file), or the 1-based index of an array element.</param>
public readonly record struct HttpBodyElement(int Offset, int Length, long Line);

/// <summary>
/// Cuts a request body into events without changing a byte of them. A line body is never malformed (bronze rejects no event:
/// a line that is not JSON, or not UTF-8, is landed as it is). A JSON body must be an array of values (each a raw event, its
/// bytes exactly as sent, inner whitespace included) or a single object; anything that does not parse is refused as a whole
/// (<see cref="LakehouseErrorReason.InvalidInput"/>), because its events cannot be told apart.
/// </summary>
public static class HttpBodyFraming
{
    /// <summary>The deepest nesting a JSON body may have: the reader keeps one bit per level, so this bounds nothing large.</summary>
    private const int MaxJsonDepth = 100_000;

    private static readonly byte[] Utf8Bom = [0xEF, 0xBB, 0xBF];

    /// <summary>The longest event bronze lands (32 MiB), as for a landing file: HTTP ingest refuses a body holding a longer one.</summary>
    public const int MaxEventBytes = Landing.RawEvents.MaxEventBytes;

    /// <summary>The events of <paramref name="body"/> read as <paramref name="format"/>. A leading UTF-8 byte order mark is not part of the first event.</summary>
    public static IReadOnlyList<HttpBodyElement> Frame(ReadOnlySpan<byte> body, HttpBodyFormat format) =>
        format == HttpBodyFormat.Lines ? Lines(body) : Json(body);

    /// <summary>
    /// The lines of <paramref name="body"/>, split at '\n' with a trailing '\r' dropped. Blank lines (only spaces, tabs or '\r')
    /// are no events but still count for the line numbers of those after them.
    /// </summary>
    public static IReadOnlyList<HttpBodyElement> Lines(ReadOnlySpan<byte> body)
    {
        var elements = new List<HttpBodyElement>();
        var start = body.StartsWith(Utf8Bom) ? Utf8Bom.Length : 0;
        long line = 0;
        while (start < body.Length)
        {
            line++;
            var rest = body[start..];
            var newline = rest.IndexOf((byte)'\n');
            var length = newline < 0 ? rest.Length : newline;
            var content = length > 0 && rest[length - 1] == (byte)'\r' ? length - 1 : length;
            if (rest[..content].IndexOfAnyExcept((byte)' ', (byte)'\t', (byte)'\r') >= 0) elements.Add(new HttpBodyElement(start, content, line));
            if (newline < 0) break;
            start += newline + 1;
        }
        return elements;
    }

    /// <summary>
    /// The elements of a JSON array body, or the one object of a body that is an object. Refused (InvalidInput, naming the
    /// line and byte of the first error) when the body is not valid JSON, holds more than one value, or is a single scalar.
    /// Only the structure is checked: a string whose bytes are not UTF-8 is landed as it is, like any other byte of an event.
    /// </summary>
    public static IReadOnlyList<HttpBodyElement> Json(ReadOnlySpan<byte> body)
    {
        var skip = body.StartsWith(Utf8Bom) ? Utf8Bom.Length : 0;
        var json = body[skip..];
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = MaxJsonDepth, CommentHandling = JsonCommentHandling.Disallow, AllowMultipleValues = true });
        var elements = new List<HttpBodyElement>();
        try
        {
            if (!reader.Read()) throw Malformed("the body is empty; a JSON body is an array of events (or one object)");
            switch (reader.TokenType)
            {
                case JsonTokenType.StartArray:
                    long index = 0;
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        var begin = (int)reader.TokenStartIndex;
                        reader.Skip();
                        var end = (int)reader.BytesConsumed;
                        elements.Add(new HttpBodyElement(skip + begin, end - begin, ++index));
                    }
                    break;
                case JsonTokenType.StartObject:
                    var first = (int)reader.TokenStartIndex;
                    reader.Skip();
                    elements.Add(new HttpBodyElement(skip + first, (int)reader.BytesConsumed - first, 1));
                    break;
                default:
                    throw Malformed($"the body is a single JSON {Describe(reader.TokenType)}; a JSON body is an array of events (or one object)");
            }
            if (reader.Read())
                throw Malformed(string.Create(CultureInfo.InvariantCulture,
                    $"more JSON follows the first value at byte {skip + reader.TokenStartIndex} (one event per line is Content-Type application/x-ndjson)"));
        }
        catch (JsonException e)
        {
            throw Malformed(string.Create(CultureInfo.InvariantCulture,
                $"the body is not valid JSON at line {(e.LineNumber ?? 0) + 1}, byte {(e.BytePositionInLine ?? 0) + 1} of that line: {FirstSentence(e.Message)}"), e);
        }
        return elements;
    }

    /// <summary>
    /// A fingerprint of a request's body (and format), as a non-negative 63-bit number: an idempotency key's txn version, so a
    /// retry with the same key and the same body is recognized and one with a different body is told apart.
    /// </summary>
    public static long Fingerprint(ReadOnlySpan<byte> body, HttpBodyFormat format)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData([(byte)format]);
        hash.AppendData(body);
        Span<byte> digest = stackalloc byte[32];
        hash.GetHashAndReset(digest);
        return (long)(BitConverter.ToUInt64(digest) & long.MaxValue);
    }

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.String => "string",
        JsonTokenType.Number => "number",
        JsonTokenType.True or JsonTokenType.False => "boolean",
        JsonTokenType.Null => "null",
        _ => token.ToString(),
    };

    /// <summary>System.Text.Json's message without its "Path: … | LineNumber: … | BytePositionInLine: …" tail.</summary>
    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut < 0) cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).Trim();
    }

    private static LakehouseException Malformed(string message, Exception? inner = null) =>
        new(LakehouseErrorReason.InvalidInput, char.ToUpperInvariant(message[0]) + message[1..].TrimEnd('.') + ".", inner);
}
