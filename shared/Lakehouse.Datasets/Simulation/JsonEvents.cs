using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Lakehouse.Datasets.Simulation;

/// <summary>Writes one JSON event at a time into a reused buffer; non-ASCII text and '+' stay as they are (no \u escapes).</summary>
internal sealed class JsonEvents : IDisposable
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = false };

    private readonly ArrayBufferWriter<byte> _buffer = new(1024);
    private readonly Utf8JsonWriter _writer;

    internal JsonEvents() => _writer = new Utf8JsonWriter(_buffer, Options);

    /// <summary>Starts a new event object and returns the writer to fill it with properties.</summary>
    internal Utf8JsonWriter Begin()
    {
        _buffer.ResetWrittenCount();
        _writer.Reset(_buffer);
        _writer.WriteStartObject();
        return _writer;
    }

    /// <summary>Ends the object and returns its bytes.</summary>
    internal byte[] End()
    {
        _writer.WriteEndObject();
        _writer.Flush();
        return _buffer.WrittenSpan.ToArray();
    }

    public void Dispose() => _writer.Dispose();

    /// <summary>ISO-8601, as UTC (<c>Z</c>) when <paramref name="offset"/> is null, else in that offset (<c>+02:00</c>, <c>+00:00</c>).</summary>
    internal static string Timestamp(DateTimeOffset time, TimeSpan? offset, bool milliseconds = true)
    {
        var local = offset is { } o ? time.ToOffset(o) : time.ToUniversalTime();
        Span<char> text = stackalloc char[29];
        var dt = local.DateTime;
        Digits(text, 0, dt.Year, 4);
        text[4] = '-';
        Digits(text, 5, dt.Month, 2);
        text[7] = '-';
        Digits(text, 8, dt.Day, 2);
        text[10] = 'T';
        Digits(text, 11, dt.Hour, 2);
        text[13] = ':';
        Digits(text, 14, dt.Minute, 2);
        text[16] = ':';
        Digits(text, 17, dt.Second, 2);
        var at = 19;
        if (milliseconds)
        {
            text[19] = '.';
            Digits(text, 20, dt.Millisecond, 3);
            at = 23;
        }
        if (offset is not { } zone)
        {
            text[at++] = 'Z';
        }
        else
        {
            text[at++] = zone < TimeSpan.Zero ? '-' : '+';
            var abs = zone.Duration();
            Digits(text, at, abs.Hours, 2);
            text[at + 2] = ':';
            Digits(text, at + 3, abs.Minutes, 2);
            at += 5;
        }
        return new string(text[..at]);
    }

    private static void Digits(Span<char> text, int at, int value, int width)
    {
        for (var i = width - 1; i >= 0; i--)
        {
            text[at + i] = (char)('0' + (value % 10));
            value /= 10;
        }
    }
}
