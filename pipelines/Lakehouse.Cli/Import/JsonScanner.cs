using System.Buffers.Text;
using System.IO.MemoryMappedFiles;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Text;
using System.Text.Json;
using Lakehouse.Core;

namespace Lakehouse.Cli.Import;

/// <summary>How a JSON input holds its records.</summary>
internal enum JsonLayout
{
    /// <summary>No record at all: an empty file, blank lines, or <c>[]</c>.</summary>
    Empty,

    /// <summary>One object per line (NDJSON).</summary>
    Lines,

    /// <summary>One array of objects.</summary>
    Array,
}

/// <summary>What a scan learned about one JSON input.</summary>
internal sealed record JsonFileScan(JsonLayout Layout, long Records, long Lines, long Bytes, JsonShape Record);

/// <summary>
/// One pass over a JSON input before DuckDB reads it. A vectorized search finds the structural bytes (<c>{ } [ ] : ,</c> outside
/// strings, and line ends) 64 bytes at a time, tracking strings and backslash escapes with bit masks; a small state machine walks
/// only those bytes, and looks at the first byte of each key and value. From that it
/// <list type="bullet">
/// <item>refuses nesting deeper than <see cref="MaxDepth"/> and records larger than the object size limit, naming the line,
/// before DuckDB sees them (DuckDB overflows its stack or crashes on deep input);</item>
/// <item>tells NDJSON from a JSON array and finds inputs without records;</item>
/// <item>collects, over the whole input, every key and every kind of value at each place (<see cref="JsonShape"/>), with the line
/// where each kind was first seen, so types are inferred from all records and a value of another kind is named by its line.</item>
/// </list>
/// It is not a validator: malformed JSON it does not notice is left to DuckDB's parser, which reads the input next. It does refuse
/// what that parser takes but JSON (RFC 8259) has not, NaN, infinities and trailing commas, which DuckDB would store or skip.
/// </summary>
internal sealed unsafe class JsonScanner
{
    /// <summary>
    /// The deepest nesting of objects and arrays a record may have, the record itself being level 1. Measured on DuckDB 1.5.6:
    /// reading back a Parquet column of 16 nested lists costs nothing extra, 20 levels add 1.5 s to every read of the table,
    /// 22 levels 5 s, 24 levels 20 s (about 3.5 times per 2 levels); JSON deeper than some thousands of levels crashes DuckDB.
    /// </summary>
    internal const int MaxDepth = 16;

    private const int Block = 64;
    private const long DefaultWindow = 1L << 30;
    private const int Overlap = 1 << 16;

    private readonly string _display;
    private readonly int _fileIndex;
    private readonly long _maxObjectSize;
    private readonly bool _forceLines;
    private readonly long _windowSize;
    private readonly JsonShape _record = new("");

    // Bit-mask state carried from one 64-byte block to the next.
    private ulong _inString;
    private bool _escapeNext;

    // Position: the byte base of the current view, its length (with the overlap), and the current line.
    private byte* _base;
    private long _baseOffset;
    private long _viewLength;
    private long _line = 1;

    private JsonLayout _layout = JsonLayout.Empty;
    private bool _layoutKnown;
    private long _records;
    private long _recordStart;
    private bool _arrayClosed;
    private long _event;

    private Frame[] _frames = new Frame[MaxDepth + 3];
    private int _top = -1;
    private byte _expectOpen;
    private long _expectAt = -1;
    private JsonShape? _openShape;

    private enum State : byte
    {
        Key,
        CommaOrEnd,
    }

    private struct Frame
    {
        internal JsonShape Shape;
        internal JsonShape? Current;
        internal bool IsObject;
        internal bool IsTopArray;
        internal State State;
        internal int Hint;
    }

    private JsonScanner(string display, int fileIndex, long maxObjectSize, bool forceLines, long windowSize)
    {
        _display = display;
        _fileIndex = fileIndex;
        _maxObjectSize = maxObjectSize;
        _forceLines = forceLines;
        _windowSize = windowSize;
    }

    /// <summary>
    /// Scans the regular file <paramref name="path"/> (shown as <paramref name="display"/> in messages). With
    /// <paramref name="forceLines"/> it must be NDJSON; otherwise a first byte <c>[</c> makes it a JSON array.
    /// Throws InvalidInput naming the line for what DuckDB must not see.
    /// </summary>
    internal static JsonFileScan Scan(string path, string display, int fileIndex, long maxObjectSize, bool forceLines, long windowSize = DefaultWindow)
    {
        var scanner = new JsonScanner(display, fileIndex, maxObjectSize, forceLines, windowSize);
        var length = new FileInfo(path).Length;
        if (length > 0)
        {
            using var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            scanner.ScanMapped(map, length);
        }
        return scanner.Finish(length);
    }

    private void ScanMapped(MemoryMappedFile map, long length)
    {
        long start = 0;
        while (start < length)
        {
            var viewLength = Math.Min(length - start, _windowSize + Overlap);
            using var view = map.CreateViewAccessor(start, viewLength, MemoryMappedFileAccess.Read);
            byte* pointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            try
            {
                _base = pointer + view.PointerOffset;
                _baseOffset = start;
                _viewLength = viewLength;
                long end;
                if (start + viewLength >= length) end = viewLength;
                else
                {
                    // A window ends just after a line end, so no token is cut; the overlap lets look-aheads read past it.
                    end = Math.Min(viewLength, _windowSize);
                    var nl = new ReadOnlySpan<byte>(_base, (int)end).LastIndexOf((byte)'\n');
                    if (nl < 0)
                        throw Refuse(_line, $"has a line longer than {_windowSize / (1 << 20)} MiB, which the import cannot read.");
                    end = nl + 1;
                }
                ProcessRange(end);
                start += end;
            }
            finally
            {
                view.SafeMemoryMappedViewHandle.ReleasePointer();
            }
        }
    }

    private JsonFileScan Finish(long length)
    {
        if (_layout == JsonLayout.Array && !_arrayClosed && _top <= 0 && _expectOpen == 0)
            throw Refuse(_line, "ends before the closing ']' of its JSON array.");
        if (_top >= 0 || _expectOpen != 0)
            throw Refuse(_line, "ends in the middle of a JSON value (an object, array or string is not closed).");
        var layout = _records == 0 ? JsonLayout.Empty : _layout;
        return new JsonFileScan(layout, _records, _line, length, _record);
    }

    // ---- the vectorized part ----------------------------------------------------------------------------------------------

    private void ProcessRange(long end)
    {
        long i = 0;
        if (!_layoutKnown && !DetectLayout(ref i, end)) return;
        for (; i + Block <= end; i += Block) ProcessBlock(i, Masks(_base + i));
        if (i < end)
        {
            var tail = stackalloc byte[Block];
            new Span<byte>(tail, Block).Fill((byte)' ');
            new ReadOnlySpan<byte>(_base + i, (int)(end - i)).CopyTo(new Span<byte>(tail, Block));
            ProcessBlock(i, Masks(tail));
        }
    }

    private readonly struct BlockMasks(ulong quote, ulong backslash, ulong structural, ulong newline)
    {
        internal readonly ulong Quote = quote;
        internal readonly ulong Backslash = backslash;
        internal readonly ulong Structural = structural;
        internal readonly ulong Newline = newline;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static BlockMasks Masks(byte* p)
    {
        var lo = Vector256.Load(p);
        var hi = Vector256.Load(p + 32);
        return new BlockMasks(Bits(Eq(lo, '"'), Eq(hi, '"')), Bits(Eq(lo, '\\'), Eq(hi, '\\')), Bits(Structural(lo), Structural(hi)), Bits(Eq(lo, '\n'), Eq(hi, '\n')));
    }

    /// <summary>
    /// The bytes that drive the state machine: { } [ ] and the comma (a colon always follows a key, which the state machine
    /// reads whole). ORing 0x20 maps [ to { and ] to } and nothing else onto them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Structural(Vector256<byte> v)
    {
        var folded = v | Vector256.Create((byte)0x20);
        return Vector256.Equals(folded, Vector256.Create((byte)'{')) | Vector256.Equals(folded, Vector256.Create((byte)'}')) | Eq(v, ',');
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Eq(Vector256<byte> v, char c) => Vector256.Equals(v, Vector256.Create((byte)c));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Bits(Vector256<byte> lo, Vector256<byte> hi) => lo.ExtractMostSignificantBits() | ((ulong)hi.ExtractMostSignificantBits() << 32);

    private void ProcessBlock(long at, BlockMasks m)
    {
        var quotes = m.Quote;
        if (m.Backslash != 0 || _escapeNext) quotes &= ~Escaped(m.Backslash);
        // Prefix XOR: bit i is set when an odd number of unescaped quotes come at or before i, i.e. inside a string.
        var inString = quotes;
        inString ^= inString << 1;
        inString ^= inString << 2;
        inString ^= inString << 4;
        inString ^= inString << 8;
        inString ^= inString << 16;
        inString ^= inString << 32;
        inString ^= _inString;
        _inString = (ulong)((long)inString >> 63);

        var events = (m.Structural & ~inString) | m.Newline;
        while (events != 0)
        {
            var bit = BitOperations.TrailingZeroCount(events);
            events &= events - 1;
            var pos = at + bit;
            _event = pos;
            var c = _base[pos];
            if (c == (byte)'\n')
            {
                if ((inString >> bit & 1) != 0) throw Refuse(_line, "has a string that is not closed before the end of the line.");
                NewLine(pos);
            }
            else
            {
                Structural(c, pos);
            }
        }
    }

    /// <summary>The bytes escaped by a backslash (the byte after an odd run of backslashes), carrying into the next block.</summary>
    private ulong Escaped(ulong backslash)
    {
        ulong escaped = 0;
        if (_escapeNext)
        {
            escaped = 1;
            backslash &= ~1UL;
            _escapeNext = false;
        }
        while (backslash != 0)
        {
            var b = BitOperations.TrailingZeroCount(backslash);
            if (b == 63)
            {
                _escapeNext = true;
                break;
            }
            escaped |= 1UL << (b + 1);
            backslash &= ~(3UL << b);
        }
        return escaped;
    }

    // ---- the state machine --------------------------------------------------------------------------------------------------

    private bool DetectLayout(ref long i, long end)
    {
        if (_baseOffset == 0 && end >= 3 && _base[0] == 0xEF && _base[1] == 0xBB && _base[2] == 0xBF) i = 3;
        var first = SkipSpace(i, end, newlines: true);
        if (first >= end)
        {
            // Only blank lines so far: count them and look again in the next window.
            _line += new ReadOnlySpan<byte>(_base, (int)end).Count((byte)'\n');
            i = end;
            return false;
        }
        _layoutKnown = true;
        // Lines before the first record are blank; count them now, and start the block loop at the record's line.
        var lineStart = new ReadOnlySpan<byte>(_base, (int)first).LastIndexOf((byte)'\n') + 1;
        _line += new ReadOnlySpan<byte>(_base, lineStart).Count((byte)'\n');
        i = lineStart;
        if (_base[first] == (byte)'[' && !_forceLines)
        {
            _layout = JsonLayout.Array;
            Expect((byte)'[', first, null);
        }
        else
        {
            _layout = JsonLayout.Lines;
            RecordStart(first);
        }
        return true;
    }

    private void NewLine(long pos)
    {
        if (_layout == JsonLayout.Lines)
        {
            if (_top >= 0 || _expectOpen != 0)
                throw Refuse(_line, "is not a complete JSON object: NDJSON needs one object per line (an object, array or string is not closed on it).");
            _line++;
            var next = SkipSpace(pos + 1, _viewLength, newlines: false);
            if (next < _viewLength && _base[next] != (byte)'\n') RecordStart(next);
            return;
        }
        _line++;
    }

    /// <summary>In NDJSON, the first byte of a line's record; it must open an object.</summary>
    private void RecordStart(long pos)
    {
        var c = _base[pos];
        if (c != (byte)'{')
            throw Refuse(_line, $"is not a JSON object ({Describe(pos)}); each line of NDJSON must be one object, a row of the table.");
        Expect((byte)'{', pos, _record);
    }

    private void Expect(byte open, long pos, JsonShape? shape)
    {
        _expectOpen = open;
        _expectAt = _baseOffset + pos;
        _openShape = shape;
    }

    private void Structural(byte c, long pos)
    {
        switch (c)
        {
            case (byte)'{':
            case (byte)'[':
                Open(c, pos);
                break;
            case (byte)'}':
            case (byte)']':
                Close(c, pos);
                break;
            case (byte)',':
                {
                    if (_top < 0 || _frames[_top].State != State.CommaOrEnd || _expectOpen != 0) throw Unexpected(pos);
                    ref var f = ref _frames[_top];
                    var next = SkipSpace(pos + 1, _viewLength, newlines: _layout == JsonLayout.Array);
                    // DuckDB's reader takes a comma before the closing bracket; JSON (RFC 8259) has none, and silver calls it malformed.
                    if (next < _viewLength && _base[next] is (byte)'}' or (byte)']')
                        throw Refuse(LineAt(next), $"is not valid JSON: a trailing comma before '{(char)_base[next]}' is not JSON; nothing was imported.");
                    if (f.IsObject) Key(next, ref f);
                    else if (f.IsTopArray) Element(next);
                    else if (next < _viewLength && _base[next] != (byte)']') Value(next, f.Shape.ElementShape());
                    break;
                }
        }
    }

    private void Open(byte c, long pos)
    {
        if (_expectOpen != c || _expectAt != _baseOffset + pos) throw Unexpected(pos);
        _expectOpen = 0;
        var shape = _openShape;
        var depth = _top + 1 - (_layout == JsonLayout.Array ? 1 : 0);
        if (shape is null)
        {
            // The array that holds the records of a JSON array file.
            Push(new Frame { IsTopArray = true, State = State.CommaOrEnd });
            Element(SkipSpace(pos + 1, _viewLength, newlines: true));
            return;
        }
        if (depth + 1 > MaxDepth)
            throw Refuse(_line, $"nests objects and arrays deeper than {MaxDepth} levels (the record itself is level 1); the import refuses deeper " +
                                "nesting, which DuckDB cannot read reliably. Flatten the record, or send the deep part as a JSON string.");
        if (depth == 0)
        {
            _recordStart = _baseOffset + pos;
            _records++;
        }
        if (c == (byte)'{')
        {
            Push(new Frame { Shape = shape, IsObject = true, State = State.Key });
            ref var f = ref _frames[_top];
            Key(SkipSpace(pos + 1, _viewLength, newlines: _layout == JsonLayout.Array), ref f);
        }
        else
        {
            Push(new Frame { Shape = shape, State = State.CommaOrEnd });
            var next = SkipSpace(pos + 1, _viewLength, newlines: _layout == JsonLayout.Array);
            if (next < _viewLength && _base[next] != (byte)']') Value(next, shape.ElementShape());
        }
    }

    private void Close(byte c, long pos)
    {
        if (_top < 0) throw Unexpected(pos);
        ref var f = ref _frames[_top];
        var isObject = c == (byte)'}';
        if (f.IsObject != isObject || f.State != State.CommaOrEnd || _expectOpen != 0) throw Unexpected(pos);
        if (f.IsTopArray)
        {
            _top--;
            _arrayClosed = true;
            var rest = SkipSpace(pos + 1, _viewLength, newlines: true);
            if (rest < _viewLength) throw Refuse(LineAt(rest), "has content after the closing ']' of its JSON array.");
            return;
        }
        _top--;
        var depth = _top + 1 - (_layout == JsonLayout.Array ? 1 : 0);
        if (depth == 0)
        {
            var size = _baseOffset + pos + 1 - _recordStart;
            if (size > _maxObjectSize)
                throw Refuse(_line, $"holds a record of {size:N0} bytes, larger than the {ImportOptions.FormatSize(_maxObjectSize)} the import reads at most; " +
                                    $"raise the limit with --max-object-size (for example --max-object-size {ImportOptions.FormatSize(NextPowerOfTwo(size))}).");
        }
    }

    private static long NextPowerOfTwo(long size) => (long)BitOperations.RoundUpToPowerOf2((ulong)size);

    private void Push(Frame frame)
    {
        if (++_top == _frames.Length) Array.Resize(ref _frames, _frames.Length * 2);
        _frames[_top] = frame;
    }

    /// <summary>A key, its colon and its value (or the end of the object) at <paramref name="pos"/>.</summary>
    private void Key(long pos, ref Frame f)
    {
        if (pos >= _viewLength) throw Refuse(_line, "ends in the middle of an object.");
        var c = _base[pos];
        f.State = State.CommaOrEnd;
        if (c == (byte)'}') return;
        if (c != (byte)'"') throw Refuse(_line, $"is not valid JSON: a key was expected, but it has {Describe(pos)}.");
        var shape = f.Shape;
        long close;
        // Keys usually come in the same order in every record: try the expected one without searching for the closing quote.
        var children = shape.Children;
        if ((uint)f.Hint < (uint)children.Count && children[f.Hint].Plain is { } expected
            && pos + 1 + expected.Length < _viewLength
            && _base[pos + 1 + expected.Length] == (byte)'"'
            && new ReadOnlySpan<byte>(_base + pos + 1, expected.Length).SequenceEqual(expected))
        {
            f.Current = children[f.Hint++];
            close = pos + 1 + expected.Length;
        }
        else
        {
            close = StringEnd(pos);
            var raw = new ReadOnlySpan<byte>(_base + pos + 1, (int)(close - pos - 1));
            if (raw.IndexOf((byte)'\\') < 0)
                f.Current = shape.FindUtf8(raw, ref f.Hint) ?? shape.Child(Encoding.UTF8.GetString(raw), raw.ToArray(), Here);
            else
                f.Current = shape.Child(Unescape(new ReadOnlySpan<byte>(_base + pos, (int)(close - pos + 1))), null, Here);
        }
        var colon = SkipSpace(close + 1, _viewLength, newlines: _layout == JsonLayout.Array);
        if (colon >= _viewLength || _base[colon] != (byte)':')
            throw Refuse(_line, $"is not valid JSON: a ':' was expected after the key \"{f.Current.Name}\".");
        Value(SkipSpace(colon + 1, _viewLength, newlines: _layout == JsonLayout.Array), f.Current);
    }

    /// <summary>A record of a JSON array file (or the end of the array) at <paramref name="pos"/>.</summary>
    private void Element(long pos)
    {
        if (pos >= _viewLength) return; // The closing ']' comes in the next window.
        var c = _base[pos];
        if (c == (byte)']') return;
        if (c != (byte)'{')
            throw Refuse(LineAt(pos), $"holds {Describe(pos)} in its JSON array; each element must be an object, a row of the table.");
        Expect((byte)'{', pos, _record);
    }

    private SourceLocation Here => new(_fileIndex, _line);

    /// <summary>Records the kind of the value that starts at <paramref name="pos"/> at <paramref name="shape"/>.</summary>
    private void Value(long pos, JsonShape shape)
    {
        if (pos >= _viewLength || _base[pos] == (byte)'\n') throw Refuse(_line, "ends where a value was expected.");
        var c = _base[pos];
        var at = _layout == JsonLayout.Array ? new SourceLocation(_fileIndex, LineAt(pos)) : new SourceLocation(_fileIndex, _line);
        switch (c)
        {
            case (byte)'"':
                shape.Saw(JsonKinds.String, at);
                if (shape.AllDates || shape.AllTimestamps) StringShape(pos, shape);
                break;
            case (byte)'{':
            case (byte)'[':
                shape.Saw(c == (byte)'{' ? JsonKinds.Object : JsonKinds.Array, at);
                Expect(c, pos, shape);
                break;
            case (byte)'t':
                Literal(pos, "true"u8, at);
                shape.Saw(JsonKinds.Boolean, at);
                break;
            case (byte)'f':
                Literal(pos, "false"u8, at);
                shape.Saw(JsonKinds.Boolean, at);
                break;
            case (byte)'n' when pos + 1 < _viewLength && _base[pos + 1] == (byte)'u':
                Literal(pos, "null"u8, at);
                shape.Saw(JsonKinds.Null, at);
                break;
            case (byte)'n':
            case (byte)'N':
            case (byte)'I':
            case (byte)'i':
                throw NotJsonWord(pos, at);
            default:
                if (c == (byte)'-' || (uint)(c - '0') <= 9) Number(pos, shape, at);
                else if (c is (byte)']' or (byte)'}' or (byte)',') throw Refuse(at.Line, $"is not valid JSON: a value was expected, but it has {Describe(pos)}.");
                else throw Refuse(at.Line, $"is not valid JSON: {Describe(pos)} cannot start a value.");
                break;
        }
    }

    /// <summary>Refuses a misspelled true, false or null (which would otherwise count as a value of its kind).</summary>
    private void Literal(long pos, ReadOnlySpan<byte> word, SourceLocation at)
    {
        var end = pos + word.Length;
        if (end <= _viewLength && new ReadOnlySpan<byte>(_base + pos, word.Length).SequenceEqual(word)
            && (end == _viewLength || _base[end] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n' or (byte)',' or (byte)'}' or (byte)']'))
            return;
        throw Refuse(at.Line, $"is not valid JSON: a value starts with '{(char)_base[pos]}' but is not {Encoding.ASCII.GetString(word)}.");
    }

    /// <summary>
    /// Refuses a bare word where a value belongs: <c>NaN</c>, <c>Infinity</c>, <c>-Infinity</c> and the like, which DuckDB's reader
    /// takes (and would store as NaN or an infinity) but JSON (RFC 8259) has not, so silver calls them malformed; any other word
    /// is not a value either. Inside quotes they are strings, which never reach here.
    /// </summary>
    private LakehouseException NotJsonWord(long pos, SourceLocation at)
    {
        var end = pos + 1;
        while (end < _viewLength && end - pos < 24 && (_base[end] | 0x20) is >= (byte)'a' and <= (byte)'z') end++;
        var word = Encoding.ASCII.GetString(new ReadOnlySpan<byte>(_base + pos, (int)(end - pos)));
        return word.TrimStart('-').ToLowerInvariant() is "nan" or "inf" or "infinity"
            ? Refuse(at.Line, $"is not valid JSON: {word} is not JSON, which has no NaN or infinity; nothing was imported. Send such a value as a string, or null.")
            : Refuse(at.Line, $"is not valid JSON: {word} is not a JSON value; nothing was imported.");
    }

    private void Number(long pos, JsonShape shape, SourceLocation at)
    {
        var end = pos;
        var digits = 0;
        var fraction = false;
        long exponentAt = -1;
        // Of the mantissa's digits: how many stand before its '.', and the first and last that are not 0 (a fraction's places and whole digits).
        int mantissa = 0, before = -1, first = -1, last = -1;
        if (_base[end] == (byte)'-') end++;
        if (end < _viewLength && (_base[end] | 0x20) is (byte)'i' or (byte)'n') throw NotJsonWord(pos, at); // -Infinity, -nan
        for (; end < _viewLength; end++)
        {
            var b = _base[end];
            if ((uint)(b - '0') <= 9)
            {
                digits++;
                if (exponentAt >= 0) continue;
                if (b != (byte)'0')
                {
                    if (first < 0) first = mantissa;
                    last = mantissa;
                }
                mantissa++;
            }
            else if (b is (byte)'.' or (byte)'e' or (byte)'E' or (byte)'+' or (byte)'-')
            {
                fraction = true;
                if (b == (byte)'.' && exponentAt < 0 && before < 0) before = mantissa;
                else if (b is (byte)'e' or (byte)'E' && exponentAt < 0) exponentAt = end;
            }
            else break;
        }
        if (fraction)
        {
            shape.Saw(JsonKinds.Fraction, at);
            var exponent = 0L;
            if (exponentAt >= 0 && !Utf8Parser.TryParse(new ReadOnlySpan<byte>(_base + exponentAt + 1, (int)(end - exponentAt - 1)).TrimStart((byte)'+'), out exponent, out _))
                exponent = 0;
            NoteDecimalDigits(shape, at, before < 0 ? mantissa : before, first, last, Math.Clamp(exponent, -100_000, 100_000));
            // Beyond a double's range (1e400) the value would be stored as infinity, a change of the data; only an exponent or more
            // than 308 digits can get there, so other numbers are not parsed here.
            if ((exponentAt >= 0 || digits > 308) && BeyondDouble(new ReadOnlySpan<byte>(_base + pos, (int)(end - pos))) is { } text)
                throw Refuse(at.Line, $"holds the number {text}, beyond the range of a double (about ±1.8e308), which the import would store as infinity; " +
                                      "nothing was imported. Send such a value as a string.");
            return;
        }
        shape.Saw(JsonKinds.Integer, at);
        if (digits > shape.MaxIntegerDigits) shape.MaxIntegerDigits = digits;
        if (digits < 16) return;
        var token = new ReadOnlySpan<byte>(_base + pos, (int)(end - pos));
        if (digits >= 19 && !Utf8Parser.TryParse(token, out long _, out var used) | used != token.Length)
            shape.BeyondLong = SourceLocation.Min(shape.BeyondLong, at);
        Span<char> chars = stackalloc char[token.Length];
        for (var k = 0; k < token.Length; k++) chars[k] = (char)token[k];
        var value = BigInteger.Parse(chars, provider: System.Globalization.CultureInfo.InvariantCulture);
        var asDouble = (double)value;
        if (double.IsInfinity(asDouble) || new BigInteger(asDouble) != value) shape.InexactDouble = SourceLocation.Min(shape.InexactDouble, at);
    }

    /// <summary>
    /// Notes in <paramref name="shape"/> the decimal places a number with a fraction or an exponent has (<c>0.0120</c> 3, <c>1.5E2</c> 0,
    /// <c>25e-3</c> 3) and its digits before the decimal point (negative for zeros after it: <c>0.0120</c> has -1, <c>1.5E2</c> 3; none
    /// for zero), from its mantissa's digits: <paramref name="before"/> of them stand before its point, <paramref name="first"/> and
    /// <paramref name="last"/> are the first and last that are not 0 (-1: none). Inside a struct, list or map DuckDB converts such a
    /// number to a decimal as the double of it times 10^places, which is exact only within a double's 15 digits (<see cref="JsonTypes"/>).
    /// </summary>
    private static void NoteDecimalDigits(JsonShape shape, SourceLocation at, int before, int first, int last, long exponent)
    {
        if (first < 0) return;
        var places = (int)Math.Max(last + 1 - before - exponent, 0);
        var whole = (int)(before - first + exponent);
        if (places > shape.MostPlaces.Places) shape.MostPlaces = (places, at);
        if (whole > shape.MostWholeDigits.Digits) shape.MostWholeDigits = (whole, at);
    }

    /// <summary>The number's text (at most 40 characters) when it is well formed and rounds to an infinite double, else null.</summary>
    private static string? BeyondDouble(ReadOnlySpan<byte> token)
    {
        if (!double.TryParse(token, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value) || !double.IsInfinity(value))
            return null;
        return token.Length <= 40 ? Encoding.ASCII.GetString(token) : Encoding.ASCII.GetString(token[..40]) + "…";
    }

    /// <summary>Keeps <see cref="JsonShape.AllDates"/> and <see cref="JsonShape.AllTimestamps"/> true only while every string is one.</summary>
    private void StringShape(long pos, JsonShape shape)
    {
        // Dates and timestamps are short and have no escapes; anything else is not one.
        var window = new ReadOnlySpan<byte>(_base + pos + 1, (int)Math.Min(_viewLength - pos - 1, IsoText.MaxLength + 1));
        var close = window.IndexOfAny((byte)'"', (byte)'\\');
        var s = close >= 0 && window[close] == (byte)'"' ? window[..close] : default;
        if (shape.AllDates && (close < 0 || !IsoText.IsDate(s))) shape.AllDates = false;
        if (shape.AllTimestamps && (close < 0 || !IsoText.IsTimestamp(s))) shape.AllTimestamps = false;
    }

    /// <summary>The position of the quote that closes the string opening at <paramref name="open"/>.</summary>
    private long StringEnd(long open)
    {
        var p = open + 1;
        while (true)
        {
            var rest = new ReadOnlySpan<byte>(_base + p, (int)Math.Min(_viewLength - p, int.MaxValue));
            var k = rest.IndexOfAny((byte)'"', (byte)'\\', (byte)'\n');
            if (k < 0 || rest[k] == (byte)'\n') throw Refuse(_line, "has a string that is not closed before the end of the line.");
            if (rest[k] == (byte)'"') return p + k;
            p += k + 2; // skip the escaped byte
        }
    }

    private static string Unescape(ReadOnlySpan<byte> quoted)
    {
        var reader = new Utf8JsonReader(quoted);
        try
        {
            reader.Read();
            return reader.GetString()!;
        }
        catch (JsonException)
        {
            return Encoding.UTF8.GetString(quoted[1..^1]);
        }
        catch (InvalidOperationException)
        {
            return Encoding.UTF8.GetString(quoted[1..^1]);
        }
    }

    private long SkipSpace(long pos, long end, bool newlines)
    {
        while (pos < end)
        {
            var b = _base[pos];
            if (b is (byte)' ' or (byte)'\t' or (byte)'\r' || (newlines && b == (byte)'\n')) pos++;
            else break;
        }
        return pos;
    }

    /// <summary>
    /// The line of <paramref name="pos"/>, which a look-ahead reached from the current event; in a JSON array it may have crossed
    /// line ends that the block loop counts only later.
    /// </summary>
    private long LineAt(long pos) =>
        pos <= _event + 1 ? _line : _line + new ReadOnlySpan<byte>(_base + _event + 1, (int)(pos - _event - 1)).Count((byte)'\n');

    private LakehouseException Unexpected(long pos) => Refuse(_line, $"is not valid JSON: {Describe(pos)} was not expected there.");

    private string Describe(long pos)
    {
        var c = _base[pos];
        return c switch
        {
            (byte)'[' => "an array",
            (byte)'{' => "an object",
            (byte)'"' => "a string",
            (byte)'t' or (byte)'f' => "a boolean",
            (byte)'n' => "null",
            _ when c == (byte)'-' || (uint)(c - '0') <= 9 => "a number",
            _ when c is >= 0x20 and < 0x7F => $"'{(char)c}'",
            _ => $"the byte 0x{c:X2}",
        };
    }

    private LakehouseException Refuse(long line, string what) =>
        new(LakehouseErrorReason.InvalidInput, $"{_display} line {line} {what}");
}
