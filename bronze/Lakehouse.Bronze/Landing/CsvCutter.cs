using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;

namespace Lakehouse.Bronze.Landing;

/// <summary>
/// One event per data record of a CSV (or TSV) file with a header record. The payload is a JSON object built from the header
/// and the record, every value a JSON string holding the field's text exactly (quotes undone, nothing trimmed, no type guessed),
/// e.g. <c>{"id":"7","name":"Ann, Jr."}</c>, so silver reads CSV events like JSON ones. A record that cannot be such an object
/// (another number of fields than the header, a quote left open, bytes that are not UTF-8) keeps its raw bytes as the payload,
/// for silver to quarantine: nothing is dropped. Records end at a line break outside quotes; <c>source_line</c> is the line a
/// record starts on and <c>source_offset</c> its first byte, so the original bytes can always be found again in the file.
/// Blank lines are skipped. Duplicate header names get a suffix (<c>_2</c>, <c>_3</c>), empty ones are named <c>column_N</c>.
/// </summary>
internal sealed class CsvCutter : IRawCutter
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };
    private readonly RawEventHandler _handler;
    private readonly byte _delimiter;
    private readonly ArrayBufferWriter<byte> _json = new(1024);
    private readonly ArrayBufferWriter<byte> _unquoted = new(256);
    private readonly List<(int Start, int Length, bool Quoted)> _fields = [];
    private JsonEncodedText[]? _names;
    private List<string> _columns = [];
    private long _line;
    private bool _started;

    internal CsvCutter(byte delimiter, RawEventHandler handler)
    {
        _delimiter = delimiter;
        _handler = handler;
    }

    /// <summary>The header's column names, once read.</summary>
    internal IReadOnlyList<string> Columns => _columns;

    public int Cut(ReadOnlySpan<byte> data, long offset, bool final)
    {
        var consumed = 0;
        if (!_started)
        {
            if (data.Length < 3 && !final) return 0;
            _started = true;
            if (data.StartsWith(Utf8Bom.Bytes)) consumed = 3;
        }
        while (consumed < data.Length)
        {
            var rest = data[consumed..];
            var end = RecordEnd(rest, out var lines);
            if (end < 0 && !final) break;
            var length = end < 0 ? rest.Length : end;
            var record = rest[..length];
            if (record.Length > 0 && record[^1] == '\r') record = record[..^1];
            var first = _line + 1;
            _line += lines + 1;
            if (record.IndexOfAnyExcept(" \t\r"u8) >= 0) Record(record, offset + consumed, first);
            consumed += end < 0 ? length : length + 1;
        }
        return consumed;
    }

    /// <summary>The index of the line break that ends the first record (outside quotes), or -1; <paramref name="lines"/> inside it.</summary>
    private static int RecordEnd(ReadOnlySpan<byte> data, out long lines)
    {
        lines = 0;
        var inQuotes = false;
        var i = 0;
        while (true)
        {
            var next = data[i..].IndexOfAny((byte)'\n', (byte)'"');
            if (next < 0) return -1;
            i += next;
            if (data[i] == '"')
            {
                inQuotes = !inQuotes;
            }
            else if (!inQuotes)
            {
                return i;
            }
            else
            {
                lines++;
            }
            i++;
        }
    }

    private void Record(ReadOnlySpan<byte> record, long offset, long line)
    {
        var parsed = Split(record);
        if (_names is null)
        {
            _names = Header(record, parsed, offset);
            return;
        }
        if (!parsed || _fields.Count != _names.Length || !TryJson(record))
        {
            _handler(record, offset, line);
            return;
        }
        _handler(_json.WrittenSpan, offset, line);
    }

    /// <summary>Splits a record into <see cref="_fields"/>; false when a quoted field is left open or followed by other bytes.</summary>
    private bool Split(ReadOnlySpan<byte> record)
    {
        _fields.Clear();
        var i = 0;
        while (true)
        {
            if (i < record.Length && record[i] == '"')
            {
                var j = i + 1;
                while (true)
                {
                    var quote = record[j..].IndexOf((byte)'"');
                    if (quote < 0) return false;
                    j += quote;
                    if (j + 1 < record.Length && record[j + 1] == '"')
                    {
                        j += 2;
                        continue;
                    }
                    break;
                }
                _fields.Add((i + 1, j - i - 1, true));
                if (j + 1 == record.Length) return true;
                if (record[j + 1] != _delimiter) return false;
                i = j + 2;
            }
            else
            {
                var next = record[i..].IndexOf(_delimiter);
                var length = next < 0 ? record.Length - i : next;
                _fields.Add((i, length, false));
                if (next < 0) return true;
                i += length + 1;
            }
        }
    }

    private bool TryJson(ReadOnlySpan<byte> record)
    {
        _json.ResetWrittenCount();
        using var writer = new Utf8JsonWriter(_json, WriterOptions);
        try
        {
            writer.WriteStartObject();
            for (var f = 0; f < _fields.Count; f++)
            {
                var field = Field(record, f);
                if (!Utf8.IsValid(field)) return false; // The writer would put U+FFFD in: the record keeps its raw bytes instead.
                writer.WriteString(_names![f], field);
            }
            writer.WriteEndObject();
            writer.Flush();
            return true;
        }
        catch (ArgumentException)
        {
            return false; // A field the writer refuses: the record keeps its raw bytes.
        }
    }

    /// <summary>A field's text, with a quoted field's doubled quotes undone.</summary>
    private ReadOnlySpan<byte> Field(ReadOnlySpan<byte> record, int index)
    {
        var (start, length, quoted) = _fields[index];
        var text = record.Slice(start, length);
        if (!quoted || text.IndexOf((byte)'"') < 0) return text;
        _unquoted.ResetWrittenCount();
        while (text.Length > 0)
        {
            var quote = text.IndexOf((byte)'"');
            if (quote < 0)
            {
                _unquoted.Write(text);
                break;
            }
            _unquoted.Write(text[..(quote + 1)]);
            text = text[Math.Min(text.Length, quote + 2)..];
        }
        return _unquoted.WrittenSpan;
    }

    private JsonEncodedText[] Header(ReadOnlySpan<byte> record, bool parsed, long offset)
    {
        if (!parsed) throw new InvalidDataException($"its header (byte {offset}) has a quote left open or followed by other characters");
        var names = new List<string>(_fields.Count);
        var taken = new HashSet<string>(StringComparer.Ordinal);
        var strict = new UTF8Encoding(false, throwOnInvalidBytes: true);
        for (var f = 0; f < _fields.Count; f++)
        {
            string name;
            try
            {
                name = strict.GetString(Field(record, f));
            }
            catch (DecoderFallbackException)
            {
                throw new InvalidDataException($"its header (byte {offset}) is not UTF-8 text (column {f + 1})");
            }
            if (name.Length == 0) name = "column_" + (f + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
            var unique = name;
            for (var n = 2; !taken.Add(unique); n++) unique = name + "_" + n.ToString(System.Globalization.CultureInfo.InvariantCulture);
            names.Add(unique);
        }
        _columns = names;
        return [.. names.Select(n => JsonEncodedText.Encode(n, JavaScriptEncoder.UnsafeRelaxedJsonEscaping))];
    }
}
