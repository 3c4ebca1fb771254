using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Lakehouse.Datasets.Simulation;

/// <summary>Writes one JSON event at a time into a reused buffer; non-ASCII text and '+' stay as they are (no \u escapes).</summary>
internal sealed class JsonEvents
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = false };

    private readonly ArrayBufferWriter<byte> _buffer = new(1024);

    /// <summary>Writes one event object with <paramref name="fill"/> writing its properties, and returns its bytes.</summary>
    internal byte[] Write(Action<Utf8JsonWriter> fill)
    {
        _buffer.ResetWrittenCount();
        using (var writer = new Utf8JsonWriter(_buffer, Options))
        {
            writer.WriteStartObject();
            fill(writer);
            writer.WriteEndObject();
        }
        return _buffer.WrittenSpan.ToArray();
    }

    /// <summary>ISO-8601, as UTC (<c>Z</c>) when <paramref name="offset"/> is null, else in that offset (<c>+02:00</c>, <c>+00:00</c>).</summary>
    internal static string Timestamp(DateTimeOffset time, TimeSpan? offset, bool milliseconds = true)
    {
        var format = milliseconds ? "yyyy-MM-dd'T'HH:mm:ss.fff" : "yyyy-MM-dd'T'HH:mm:ss";
        return offset is { } o
            ? time.ToOffset(o).ToString(format + "zzz", CultureInfo.InvariantCulture)
            : time.UtcDateTime.ToString(format, CultureInfo.InvariantCulture) + "Z";
    }
}
