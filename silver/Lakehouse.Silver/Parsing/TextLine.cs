using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace Lakehouse.Silver.Parsing;

/// <summary>What every text parser checks first, and how messages show pieces of a line.</summary>
internal static class TextLine
{
    /// <summary>How many characters of a value a message quotes before cutting it with '…' (a 10 MB field stays out of messages).</summary>
    internal const int QuoteLimit = 64;

    /// <summary>The line without its trailing CR and LF bytes.</summary>
    internal static ReadOnlySpan<byte> TrimEnd(ReadOnlySpan<byte> line)
    {
        var end = line.Length;
        while (end > 0 && line[end - 1] is (byte)'\r' or (byte)'\n') end--;
        return line[..end];
    }

    /// <summary>
    /// Null when <paramref name="line"/> is valid UTF-8 without NUL bytes; else the problem with its byte offset:
    /// <c>not valid UTF-8 at byte 17</c> or <c>a NUL byte at byte 3</c>. NUL is refused because no log line holds one (a run
    /// of NULs is what a crashed writer leaves in a preallocated file) and text columns downstream cannot store it.
    /// </summary>
    internal static string? Check(ReadOnlySpan<byte> line)
    {
        if (!Utf8.IsValid(line)) return $"not valid UTF-8 at byte {InvalidUtf8Offset(line)}";
        var nul = line.IndexOf((byte)0);
        return nul >= 0 ? $"a NUL byte at byte {nul}" : null;
    }

    /// <summary>The offset of the first byte that does not start a valid UTF-8 sequence; the length when all are valid.</summary>
    internal static int InvalidUtf8Offset(ReadOnlySpan<byte> text)
    {
        var i = 0;
        while (i < text.Length)
        {
            var nonAscii = text[i..].IndexOfAnyExceptInRange((byte)0, (byte)0x7F);
            if (nonAscii < 0) return text.Length;
            i += nonAscii;
            if (Rune.DecodeFromUtf8(text[i..], out _, out var consumed) != OperationStatus.Done) return i;
            i += consumed;
        }
        return i;
    }

    /// <summary><paramref name="text"/> (valid UTF-8) for a message: at most <see cref="QuoteLimit"/> characters, then '…'.</summary>
    internal static string Quote(ReadOnlySpan<byte> text)
    {
        // Cut at a character boundary: never in the middle of a multi-byte sequence.
        var cut = text.Length <= QuoteLimit * 4 ? text : text[..(QuoteLimit * 4)];
        var s = Encoding.UTF8.GetString(cut);
        return s.Length > QuoteLimit || cut.Length < text.Length ? Cut(s) : s;
    }

    /// <summary><paramref name="text"/> for a message: at most <see cref="QuoteLimit"/> characters, then '…'.</summary>
    internal static string Quote(ReadOnlySpan<char> text) => text.Length > QuoteLimit ? Cut(text) : text.ToString();

    private static string Cut(ReadOnlySpan<char> text)
    {
        var n = Math.Min(text.Length, QuoteLimit);
        if (n < text.Length && char.IsHighSurrogate(text[n - 1])) n--; // keep a surrogate pair whole
        return string.Concat(text[..n], "…");
    }
}
