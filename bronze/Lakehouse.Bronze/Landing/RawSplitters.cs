using System.Buffers;
using System.Text.Json;

namespace Lakehouse.Bronze.Landing;

/// <summary>Receives one event cut out of a file: its bytes, the byte offset where they start and its 1-based number.</summary>
/// <param name="payload">The event's bytes (valid only during the call).</param>
/// <param name="offset">Byte offset of the first payload byte in the (decompressed) file.</param>
/// <param name="number">1-based line (text kinds, CSV) or element number (JSON arrays).</param>
internal delegate void RawEventHandler(ReadOnlySpan<byte> payload, long offset, long number);

/// <summary>
/// Reads a stream in large blocks and hands a <see cref="IRawCutter"/> the bytes, keeping what it has not consumed yet (an event
/// that runs over a block's end) for the next block. The buffer grows when one event is longer than the buffer, up to
/// <see cref="RawEvents.MaxEventBytes"/>: a longer event (a line that never ends, a gzip bomb) refuses the file instead of
/// holding all of it in memory.
/// </summary>
internal static class BlockReader
{
    internal const int BlockSize = 1 << 20;

    /// <summary>Feeds the whole stream to <paramref name="cutter"/>; returns the number of bytes read.</summary>
    internal static async Task<long> FeedAsync(Stream stream, IRawCutter cutter, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BlockSize);
        try
        {
            int start = 0, end = 0;
            long bufferOffset = 0;
            while (true)
            {
                if (end == buffer.Length)
                {
                    if (start > 0)
                    {
                        buffer.AsSpan(start, end - start).CopyTo(buffer);
                    }
                    else
                    {
                        var bigger = ArrayPool<byte>.Shared.Rent(checked(buffer.Length * 2));
                        buffer.AsSpan(0, end).CopyTo(bigger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = bigger;
                    }
                    end -= start;
                    bufferOffset += start;
                    start = 0;
                }
                var read = await stream.ReadAsync(buffer.AsMemory(end), cancellationToken).ConfigureAwait(false);
                if (read == 0) break;
                end += read;
                start += cutter.Cut(buffer.AsSpan(start, end - start), bufferOffset + start, final: false);
                // What the cutter left is the start of one event: past the limit, it is refused rather than read on.
                if (end - start > RawEvents.MaxEventBytes) throw RawEvents.TooLong(bufferOffset + start);
            }
            start += cutter.Cut(buffer.AsSpan(start, end - start), bufferOffset + start, final: true);
            return bufferOffset + end;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

/// <summary>The limit on one event cut out of a landed file.</summary>
internal static class RawEvents
{
    /// <summary>
    /// The longest event a landed file may hold: 32 MiB, the largest HTTP ingest body by default (Kafka and Event Hubs take 1 MB
    /// messages). Silver quarantines payloads over 1 MiB as too_large; bronze keeps them up to this limit.
    /// </summary>
    internal const int MaxEventBytes = 32 << 20;

    /// <summary>The refusal of a file with an event longer than <see cref="MaxEventBytes"/> that starts at byte <paramref name="offset"/>.</summary>
    internal static InvalidDataException TooLong(long offset) => new(string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"it has an event longer than {MaxEventBytes} bytes (32 MiB) starting at byte {offset} of its content (a line that does not end, or a file that decompresses to far more than it holds); nothing of it was ingested: split it into smaller events"));
}

/// <summary>Cuts events out of consecutive bytes of a file.</summary>
internal interface IRawCutter
{
    /// <summary>
    /// Cuts the complete events at the start of <paramref name="data"/> (which begins at byte <paramref name="offset"/> of the file)
    /// and returns how many bytes they took; with <paramref name="final"/> the data is the end of the file and all of it is taken.
    /// </summary>
    int Cut(ReadOnlySpan<byte> data, long offset, bool final);
}

/// <summary>
/// One event per line (NDJSON, text logs). The payload is the line without its line break (<c>\n</c>, or <c>\r\n</c>); lines
/// that hold only blanks (spaces, tabs) are not events; a UTF-8 byte order mark at the start of the file is not part of the first
/// line. Every other byte is kept as it is, valid UTF-8 or not.
/// </summary>
internal sealed class LineCutter(RawEventHandler handler) : IRawCutter
{
    private static readonly SearchValues<byte> Blanks = SearchValues.Create(" \t\r"u8);
    private long _line;
    private bool _started;

    /// <summary>Lines seen, blank ones included.</summary>
    internal long Lines => _line;

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
            var newline = rest.IndexOf((byte)'\n');
            if (newline < 0 && !final) break;
            var length = newline < 0 ? rest.Length : newline;
            var line = rest[..length];
            if (line.Length > 0 && line[^1] == '\r') line = line[..^1];
            _line++;
            // A whole line in one block is as much too long as one that runs over blocks (which BlockReader refuses).
            if (line.Length > RawEvents.MaxEventBytes) throw RawEvents.TooLong(offset + consumed);
            if (line.IndexOfAnyExcept(Blanks) >= 0) handler(line, offset + consumed, _line);
            consumed += newline < 0 ? length : length + 1;
        }
        return consumed;
    }
}

/// <summary>
/// One event per element of a JSON array, the element's bytes exactly as written (from its first to its last byte, without
/// the blanks and commas around it). The array is not parsed, only scanned (strings, escapes and nesting), so elements that
/// are not valid JSON, or not UTF-8, are kept as they are for silver to judge. Bytes after the closing bracket, or an
/// element cut short by the end of the file, become one more event, so no byte of the data is lost.
/// </summary>
internal sealed class JsonArrayCutter(RawEventHandler handler) : IRawCutter
{
    private enum State
    {
        BeforeArray,
        BeforeElement,
        InElement,
        AfterArray,
    }

    private readonly ArrayBufferWriter<byte> _element = new(4096);
    private State _state = State.BeforeArray;
    private long _elementOffset;
    private long _index;
    private int _depth;
    private bool _inString;
    private bool _escaped;
    private bool _trailing;
    private bool _bomChecked;

    /// <summary>False when the file did not start with '[' (after blanks): it is not a JSON array.</summary>
    internal bool SawArray { get; private set; }

    /// <summary>Elements cut so far.</summary>
    internal long Elements => _index;

    public int Cut(ReadOnlySpan<byte> data, long offset, bool final)
    {
        var i = 0;
        if (!_bomChecked)
        {
            if (data.Length < 3 && !final) return 0;
            _bomChecked = true;
            if (data.StartsWith(Utf8Bom.Bytes)) i = 3;
        }
        var runStart = -1; // Start in data of the element bytes not yet copied into _element.
        for (; i < data.Length; i++)
        {
            var b = data[i];
            switch (_state)
            {
                case State.BeforeArray:
                    if (IsBlank(b)) continue;
                    if (b != '[') throw new InvalidDataException($"it is not a JSON array: byte {offset + i} is '{(char)b}', not '['");
                    SawArray = true;
                    _state = State.BeforeElement;
                    break;
                case State.BeforeElement:
                    if (IsBlank(b) || b == ',') continue;
                    if (b == ']')
                    {
                        _state = State.AfterArray;
                        continue;
                    }
                    StartElement(offset + i);
                    runStart = i;
                    Scan(b);
                    break;
                case State.InElement:
                    if (runStart < 0) runStart = i;
                    if (_trailing) continue;
                    if (!_inString && _depth == 0 && (b == ',' || b == ']'))
                    {
                        _element.Write(data[runStart..i]);
                        runStart = -1;
                        EndElement();
                        _state = b == ']' ? State.AfterArray : State.BeforeElement;
                        continue;
                    }
                    Scan(b);
                    break;
                case State.AfterArray:
                    if (IsBlank(b)) continue;
                    // Bytes after the array: kept as one event (not JSON: silver quarantines it), up to the end of the file.
                    StartElement(offset + i);
                    _trailing = true; // Nothing ends it but the end of the file.
                    runStart = i;
                    _state = State.InElement;
                    break;
            }
        }
        if (runStart >= 0) _element.Write(data[runStart..]);
        if (_element.WrittenCount > RawEvents.MaxEventBytes) throw RawEvents.TooLong(_elementOffset);
        if (final && _state == State.InElement) EndElement();
        return data.Length;
    }

    private void StartElement(long offset)
    {
        _element.ResetWrittenCount();
        _elementOffset = offset;
        _depth = 0;
        _inString = false;
        _escaped = false;
        _trailing = false;
        _state = State.InElement;
    }

    private void Scan(byte b)
    {
        if (_inString)
        {
            if (_escaped) _escaped = false;
            else if (b == '\\') _escaped = true;
            else if (b == '"') _inString = false;
            return;
        }
        switch (b)
        {
            case (byte)'"':
                _inString = true;
                break;
            case (byte)'[' or (byte)'{':
                _depth++;
                break;
            case (byte)']' or (byte)'}':
                if (_depth > 0) _depth--;
                break;
        }
    }

    private void EndElement()
    {
        var bytes = _element.WrittenSpan;
        var end = bytes.Length;
        while (end > 0 && IsBlank(bytes[end - 1])) end--;
        _index++;
        handler(bytes[..end], _elementOffset, _index);
        _element.ResetWrittenCount();
    }

    private static bool IsBlank(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n';
}

/// <summary>
/// A whole file as one event (a <c>.json</c> file holding a single JSON document over several lines): every byte from the first
/// to the last one that is not blank.
/// </summary>
internal sealed class WholeCutter(RawEventHandler handler) : IRawCutter
{
    private readonly ArrayBufferWriter<byte> _content = new(4096);
    private long _start = -1;

    public int Cut(ReadOnlySpan<byte> data, long offset, bool final)
    {
        var from = 0;
        if (_start < 0)
        {
            from = data.IndexOfAnyExcept(" \t\r\n"u8);
            if (from < 0) from = data.Length;
            else _start = offset + from;
        }
        _content.Write(data[from..]);
        if (_content.WrittenCount > RawEvents.MaxEventBytes) throw RawEvents.TooLong(_start);
        if (final && _start >= 0)
        {
            var bytes = _content.WrittenSpan;
            var end = bytes.Length;
            while (end > 0 && bytes[end - 1] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') end--;
            handler(bytes[..end], _start, 1);
        }
        return data.Length;
    }
}

/// <summary>
/// A <c>.json</c> file, whose layout is decided by its first bytes: a JSON array (first byte that is not blank '[') gives one
/// event per element; otherwise, when the first line that is not blank is a complete JSON value, one event per line (NDJSON
/// named .json); otherwise the file is one JSON document written over several lines, and one event.
/// </summary>
internal sealed class JsonAutoCutter(RawEventHandler handler) : IRawCutter
{
    private IRawCutter? _inner;

    /// <summary>The layout chosen (null before the first bytes were seen).</summary>
    internal LandingFormat? Chosen { get; private set; }

    public int Cut(ReadOnlySpan<byte> data, long offset, bool final)
    {
        if (_inner is null)
        {
            var body = data.StartsWith(Utf8Bom.Bytes) ? data[3..] : data;
            var first = body.IndexOfAnyExcept(" \t\r\n"u8);
            if (first < 0 && !final) return 0;
            if (first >= 0 && body[first] == '[')
            {
                (_inner, Chosen) = ((IRawCutter)new JsonArrayCutter(handler), LandingFormat.JsonArray);
            }
            else if (first >= 0)
            {
                var newline = body[first..].IndexOf((byte)'\n');
                if (newline < 0 && !final) return 0;
                var line = newline < 0 ? body[first..] : body.Slice(first, newline);
                (_inner, Chosen) = IsOpenDocument(line)
                    ? ((IRawCutter)new WholeCutter(handler), LandingFormat.Json)
                    : (new LineCutter(handler), LandingFormat.Ndjson);
            }
            else
            {
                (_inner, Chosen) = ((IRawCutter)new LineCutter(handler), LandingFormat.Ndjson);
            }
        }
        return _inner.Cut(data, offset, final);
    }

    /// <summary>True when <paramref name="line"/> starts a JSON value that it does not finish (a document over several lines).</summary>
    private static bool IsOpenDocument(ReadOnlySpan<byte> line)
    {
        try
        {
            var complete = new Utf8JsonReader(line, isFinalBlock: true, state: default);
            return !(complete.Read() && complete.TrySkip());
        }
        catch (JsonException)
        {
            // Either cut short (an open document) or not JSON: a reader that may expect more bytes tells them apart.
            try
            {
                var partial = new Utf8JsonReader(line, isFinalBlock: false, state: default);
                while (partial.Read())
                {
                }
                return true;
            }
            catch (JsonException)
            {
                return false; // Not JSON at all: kept line by line, as written.
            }
        }
    }
}

/// <summary>The UTF-8 byte order mark, which is not part of a file's first event.</summary>
internal static class Utf8Bom
{
    internal static ReadOnlySpan<byte> Bytes => [0xEF, 0xBB, 0xBF];
}
