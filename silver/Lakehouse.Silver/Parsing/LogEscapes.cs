using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace Lakehouse.Silver.Parsing;

/// <summary>
/// The backslash escapes web servers write inside quoted log fields: Apache writes <c>\"</c>, <c>\\</c>, <c>\n</c>, <c>\r</c>,
/// <c>\t</c>, <c>\b</c>, <c>\v</c> and <c>\xhh</c> for other bytes that are not printable ASCII; nginx writes <c>\xhh</c> for
/// <c>"</c>, <c>\</c>, controls and bytes above 0x7E. Decoding gives the bytes the client sent (a UTF-8 user agent logged as
/// <c>\xc3\xa9</c> becomes 'é'). When the decoded bytes are not valid UTF-8 or hold a NUL (a TLS handshake sent to the
/// HTTP port), the field is kept as written, escapes and all, so nothing is lost and the column stays valid text.
/// </summary>
internal static class LogEscapes
{
    private const int StackLimit = 512;

    /// <summary>
    /// Decodes <paramref name="escaped"/> into <paramref name="destination"/> (at least as long); the decoded length, or -1 when
    /// the result is not valid UTF-8 or holds a NUL (then use the text as written). A backslash before anything else is kept.
    /// </summary>
    internal static int Decode(ReadOnlySpan<byte> escaped, Span<byte> destination)
    {
        var n = 0;
        for (var i = 0; i < escaped.Length; i++)
        {
            var b = escaped[i];
            if (b != (byte)'\\' || i + 1 == escaped.Length)
            {
                destination[n++] = b;
                continue;
            }
            var c = escaped[i + 1];
            byte? decoded = c switch
            {
                (byte)'"' or (byte)'\\' => c,
                (byte)'n' => (byte)'\n',
                (byte)'r' => (byte)'\r',
                (byte)'t' => (byte)'\t',
                (byte)'b' => (byte)'\b',
                (byte)'v' => (byte)'\v',
                _ => null,
            };
            if (decoded is { } d)
            {
                destination[n++] = d;
                i++;
            }
            else if (c == (byte)'x' && i + 3 < escaped.Length && Hex(escaped[i + 2]) is var hi and >= 0 && Hex(escaped[i + 3]) is var lo and >= 0)
            {
                destination[n++] = (byte)((hi << 4) | lo);
                i += 3;
            }
            else
            {
                destination[n++] = b; // an unknown escape: the backslash stays, the next byte follows as itself
            }
        }
        var result = destination[..n];
        return Utf8.IsValid(result) && !result.Contains((byte)0) ? n : -1;
    }

    /// <summary>The text of a quoted field: decoded when <paramref name="hasEscapes"/> (and the result is valid text), else as written.</summary>
    internal static string ToText(ReadOnlySpan<byte> field, bool hasEscapes)
    {
        if (!hasEscapes) return Encoding.UTF8.GetString(field);
        byte[]? rented = null;
        var buffer = field.Length <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(field.Length));
        try
        {
            var n = Decode(field, buffer);
            return Encoding.UTF8.GetString(n >= 0 ? buffer[..n] : field);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static int Hex(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };
}
