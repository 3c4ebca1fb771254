using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Lakehouse.Datasets;
using Lakehouse.Engine;

namespace Lakehouse.Silver.Parsing;

/// <summary>
/// The fast path of the JSON parse, in C# (System.Text.Json's reader, one pass per payload): a payload that is plainly
/// well-formed becomes one record of its columns' values, a STRUCT written straight into DuckDB's vectors by a function registered
/// through its C API (<see cref="DuckEngine.RegisterStructFunction"/>), which SQL reads (<see cref="Value"/>); any other payload
/// gives null and takes the SQL path of <see cref="JsonPayloadSql"/>, which names its problem. The fast path only ever declines,
/// so a payload gives the same row whichever path takes it (a test runs both over hostile payloads and compares the rows).
/// </summary>
/// <remarks>
/// Plainly well-formed: at most <see cref="SilverRules.MaxPayloadBytes"/> of valid UTF-8 holding a strict RFC 8259 object (no NaN,
/// no trailing comma, nothing after it, at most 64 levels deep); every key of the payload and of the objects the columns' paths go
/// through written once and without escapes; and each column's value null, missing, or of its column's type in a form whose reading
/// is not in doubt: a string without <c>\u</c> escapes, an integer of at most 18 digits, a finite number that is not -0 and does not
/// round to zero or a subnormal, a timestamp <c>YYYY-MM-DDThh:mm:ss</c> with at most 6 fraction digits and <c>Z</c> or
/// <c>±hh:mm</c>, an object. Anything else (a string list, 2.0 for an integer, a timestamp without an offset, a wrong type) takes
/// the SQL path. The record has a field per column, in the column's type where the fast path reads the value exactly as the SQL
/// path's cast does: an integer's 18 digits at most, a number's correctly rounded double (as DuckDB's cast and yyjson round), a
/// timestamp's microseconds. An object stays text, minified by json() in SQL as the SQL path's text is: yyjson's printing of its
/// numbers is not repeated here.
/// </remarks>
internal sealed class JsonFastPath
{
    /// <summary>The most keys one checked object may have here (each is compared with those before it); more take the SQL path.</summary>
    private const int MostKeys = 64;

    /// <summary>The most columns whose values a row keeps on the stack; a dataset with more keeps them in an array.</summary>
    private const int MostStackColumns = 64;

    private readonly DatasetColumnType[] _types;
    private readonly DuckField[] _fields;
    private readonly Node _root = new();

    private JsonFastPath(DatasetDefinition definition)
    {
        _types = [.. definition.Columns.Select(c => c.Type)];
        _fields = [.. _types.Select((t, i) => new DuckField(Field(i), FieldType(t)))];
        var spec = new StringBuilder();
        for (var i = 0; i < definition.Columns.Count; i++)
        {
            var c = definition.Columns[i];
            var path = c.Path ?? c.Name;
            spec.Append(path).Append('\0').Append(c.Type).Append('\0');
            var node = _root;
            var segments = path.Split('.');
            for (var s = 0; s < segments.Length; s++)
            {
                var entry = node.Entry(Encoding.UTF8.GetBytes(segments[s]));
                if (s == segments.Length - 1) entry.Column = i;
                else node = entry.Child ??= new Node();
            }
        }
        FunctionName = "lakehouse_json_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(spec.ToString())))[..16];
    }

    /// <summary>The SQL function (payload BLOB → record STRUCT, NULL to take the SQL path) of this definition's columns.</summary>
    internal string FunctionName { get; }

    /// <summary>The fast path of <paramref name="definition"/>'s columns, its function registered on <paramref name="engine"/>.</summary>
    internal static JsonFastPath Register(DuckEngine engine, DatasetDefinition definition)
    {
        var fast = new JsonFastPath(definition);
        engine.RegisterStructFunction(fast.FunctionName, fast._fields, fast.Write);
        return fast;
    }

    /// <summary>The record's field of column <paramref name="index"/> (0-based): c1, c2, … (two column names may differ only in case; a STRUCT's may not).</summary>
    private static string Field(int index) => "c" + (index + 1).ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// A column's type in the record: its own where the fast path reads it exactly (the same BIGINT, DOUBLE, BOOLEAN or TIMESTAMPTZ
    /// the SQL path casts); an object as its text, minified in SQL (<see cref="Value"/>); a string list is never set (declined).
    /// </summary>
    private static DuckFieldType FieldType(DatasetColumnType type) => type switch
    {
        DatasetColumnType.Integer => DuckFieldType.BigInt,
        DatasetColumnType.Number => DuckFieldType.Double,
        DatasetColumnType.Boolean => DuckFieldType.Boolean,
        DatasetColumnType.Timestamp => DuckFieldType.TimestampTz,
        _ => DuckFieldType.Varchar,
    };

    /// <summary>A NULL of the record's type, for a parse without the fast path.</summary>
    internal static string NoRecord(DatasetDefinition definition) =>
        "CAST(NULL AS STRUCT(" + string.Join(", ", definition.Columns.Select((c, i) => Field(i) + " " + FieldType(c.Type) switch
        {
            DuckFieldType.BigInt => "BIGINT",
            DuckFieldType.Double => "DOUBLE",
            DuckFieldType.Boolean => "BOOLEAN",
            DuckFieldType.TimestampTz => "TIMESTAMPTZ",
            _ => "VARCHAR",
        })) + "))";

    /// <summary>
    /// The typed value of column <paramref name="index"/> (0-based) of <paramref name="definition"/> from <paramref name="record"/>
    /// (the function's STRUCT): the same value the SQL path gives for the payload.
    /// </summary>
    internal static string Value(DatasetDefinition definition, int index, string record)
    {
        var field = $"struct_extract({record}, '{Field(index)}')";
        return definition.Columns[index].Type switch
        {
            DatasetColumnType.String or DatasetColumnType.Integer or DatasetColumnType.Number or DatasetColumnType.Boolean or DatasetColumnType.Timestamp => field,
            DatasetColumnType.Object => $"CAST(json({field}) AS VARCHAR)",
            DatasetColumnType.StringList => "CAST(NULL AS VARCHAR[])",
            var other => throw new ArgumentOutOfRangeException(nameof(definition), other, "Unknown column type."),
        };
    }

    /// <summary>
    /// The function's body: writes <paramref name="payload"/>'s values into <paramref name="row"/>; false (a NULL record) when the
    /// payload is not plainly well-formed (see the remarks).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool Write(ReadOnlySpan<byte> payload, DuckStructRow row)
    {
        Span<Slice> values = _types.Length <= MostStackColumns ? stackalloc Slice[_types.Length] : new Slice[_types.Length];
        byte[] scratch = [];
        try
        {
            if (!Read(payload, values, ref scratch)) return false;
            for (var i = 0; i < values.Length; i++)
            {
                var v = values[i];
                if (!v.IsSet) continue;
                switch (_types[i])
                {
                    case DatasetColumnType.Integer:
                        row.SetBigInt(i, v.Bits);
                        break;
                    case DatasetColumnType.Number:
                        row.SetDouble(i, BitConverter.Int64BitsToDouble(v.Bits));
                        break;
                    case DatasetColumnType.Boolean:
                        row.SetBoolean(i, v.Bits != 0);
                        break;
                    case DatasetColumnType.Timestamp:
                        row.SetTimestampTz(i, v.Bits);
                        break;
                    default:
                        row.SetVarchar(i, v.InScratch ? scratch.AsSpan(v.Start, v.Length) : payload.Slice(v.Start, v.Length));
                        break;
                }
            }
            return true;
        }
        finally
        {
            if (scratch.Length > 0) ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    /// <summary>Reads <paramref name="payload"/>'s values into <paramref name="values"/>; false when it is not plainly well-formed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool Read(ReadOnlySpan<byte> payload, Span<Slice> values, ref byte[] scratch)
    {
        if (payload.Length > SilverRules.MaxPayloadBytes || !Utf8.IsValid(payload)) return false;
        var first = payload.IndexOfAnyExcept(" \t\n\r"u8);
        if (first < 0 || payload[first] != (byte)'{') return false;
        var used = 0;
        var reader = new Utf8JsonReader(payload);
        try
        {
            reader.Read();
            if (!ReadObject(ref reader, payload, _root, values, ref scratch, ref used)) return false;
            // Anything but whitespace after the object throws.
            while (reader.Read())
            {
            }
        }
        catch (JsonException)
        {
            return false;
        }
        return true;
    }

    /// <summary>Reads the object the reader stands on (its start) to its end; false to decline the payload.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool ReadObject(ref Utf8JsonReader reader, ReadOnlySpan<byte> payload, Node node, Span<Slice> values, ref byte[] scratch, ref int used)
    {
        Span<int> starts = stackalloc int[MostKeys];
        Span<int> lengths = stackalloc int[MostKeys];
        var keys = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueIsEscaped || keys == MostKeys) return false;
            var key = reader.ValueSpan;
            for (var k = 0; k < keys; k++)
            {
                if (payload.Slice(starts[k], lengths[k]).SequenceEqual(key)) return false;
            }
            starts[keys] = (int)reader.TokenStartIndex + 1;
            lengths[keys++] = key.Length;
            var entry = node.Find(key);
            reader.Read();
            if (entry is null) reader.Skip();
            else if (!ReadValue(ref reader, payload, entry, values, ref scratch, ref used)) return false;
        }
        return reader.TokenType == JsonTokenType.EndObject;
    }

    /// <summary>Reads the value of a key the columns' paths name; false to decline the payload.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool ReadValue(ref Utf8JsonReader reader, ReadOnlySpan<byte> payload, Entry entry, Span<Slice> values, ref byte[] scratch, ref int used)
    {
        var token = reader.TokenType;
        if (token == JsonTokenType.StartObject)
        {
            var start = (int)reader.TokenStartIndex;
            if (entry.Child is { } child)
            {
                if (!ReadObject(ref reader, payload, child, values, ref scratch, ref used)) return false;
            }
            else
            {
                reader.Skip();
            }
            if (entry.Column < 0) return true;
            if (_types[entry.Column] != DatasetColumnType.Object) return false;
            values[entry.Column] = Slice.OfPayload(start, (int)reader.BytesConsumed - start);
            return true;
        }
        // Not an object: the paths through it find nothing, and their columns stay null.
        if (entry.Column < 0)
        {
            reader.Skip();
            return true;
        }
        var type = _types[entry.Column];
        ref var value = ref values[entry.Column];
        switch (token)
        {
            case JsonTokenType.Null:
                value = default;
                return true;
            case JsonTokenType.True or JsonTokenType.False when type == DatasetColumnType.Boolean:
                value = Slice.OfNumber(token == JsonTokenType.True ? 1 : 0);
                return true;
            case JsonTokenType.Number when type == DatasetColumnType.Integer && TryPlainInteger(reader.ValueSpan, out var integer):
                value = Slice.OfPayload((int)reader.TokenStartIndex, reader.ValueSpan.Length, integer);
                return true;
            case JsonTokenType.Number when type == DatasetColumnType.Number && TryPlainNumber(reader.ValueSpan, out var number):
                value = Slice.OfPayload((int)reader.TokenStartIndex, reader.ValueSpan.Length, BitConverter.DoubleToInt64Bits(number));
                return true;
            case JsonTokenType.String when type == DatasetColumnType.String:
                if (!reader.ValueIsEscaped)
                {
                    value = Slice.OfPayload((int)reader.TokenStartIndex + 1, reader.ValueSpan.Length);
                    return true;
                }
                if (HasUnicodeEscape(reader.ValueSpan)) return false;
                var at = Reserve(ref scratch, used, reader.ValueSpan.Length);
                var written = reader.CopyString(scratch.AsSpan(at));
                used = at + written;
                value = Slice.OfScratch(at, written);
                return true;
            case JsonTokenType.String when type == DatasetColumnType.Timestamp && !reader.ValueIsEscaped && TryMicros(reader.ValueSpan, out var micros):
                value = Slice.OfNumber(micros);
                return true;
            default:
                return false;
        }
    }

    /// <summary>An integer of at most 18 digits (so it fits 64 bits), not -0: read the same by either path; its value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool TryPlainInteger(ReadOnlySpan<byte> number, out long value)
    {
        value = 0;
        var digits = number.Length > 0 && number[0] == (byte)'-' ? number[1..] : number;
        if (digits.Length is 0 or > 18 || digits.ContainsAnyExceptInRange((byte)'0', (byte)'9') || (digits.Length < number.Length && digits.SequenceEqual("0"u8))) return false;
        foreach (var d in digits) value = value * 10 + (d - '0');
        if (digits.Length < number.Length) value = -value;
        return true;
    }

    /// <summary>
    /// A number whose double is finite, normal or an exact zero, and not negative zero: DuckDB's cast of the text as written gives the
    /// same double as the SQL path (both round correctly); -0, underflow and subnormals are left to the SQL path.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool TryPlainNumber(ReadOnlySpan<byte> number, out double d)
    {
        d = 0;
        if (number.Length > 40) return false;
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out d) || !double.IsFinite(d)) return false;
        if (d == 0) return number[0] != (byte)'-' && !Mantissa(number).ContainsAnyInRange((byte)'1', (byte)'9');
        return double.IsNormal(d);
    }

    private static ReadOnlySpan<byte> Mantissa(ReadOnlySpan<byte> number)
    {
        var e = number.IndexOfAny("eE"u8);
        return e < 0 ? number : number[..e];
    }

    /// <summary>Whether an escaped JSON string holds a <c>\u</c> escape (not a <c>\\</c> followed by u).</summary>
    private static bool HasUnicodeEscape(ReadOnlySpan<byte> escaped)
    {
        for (var i = escaped.IndexOf((byte)'\\'); i >= 0 && i + 1 < escaped.Length;)
        {
            if (escaped[i + 1] == (byte)'u') return true;
            var next = escaped[(i + 2)..].IndexOf((byte)'\\');
            if (next < 0) return false;
            i += 2 + next;
        }
        return false;
    }

    /// <summary>
    /// The microseconds since 1970 of <c>YYYY-MM-DD[Tt ]hh:mm:ss[.f{1,6}](Z|z|±hh:mm)</c>, a valid date and time of years 1 to 9999;
    /// false for any other text (the SQL path reads and names those).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool TryMicros(ReadOnlySpan<byte> s, out long micros)
    {
        micros = 0;
        if (s.Length < 20 || s[4] != '-' || s[7] != '-' || s[10] is not ((byte)'T' or (byte)'t' or (byte)' ') || s[13] != ':' || s[16] != ':') return false;
        if (!Digits(s[..4], out var year) || !Digits(s[5..7], out var month) || !Digits(s[8..10], out var day) ||
            !Digits(s[11..13], out var hour) || !Digits(s[14..16], out var minute) || !Digits(s[17..19], out var second)) return false;
        if (year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) return false;
        var rest = s[19..];
        long fraction = 0;
        if (rest[0] == (byte)'.')
        {
            var n = rest[1..].IndexOfAnyExceptInRange((byte)'0', (byte)'9');
            if (n is < 1 or > 6 || !Digits(rest.Slice(1, n), out var f)) return false;
            fraction = f;
            for (var i = n; i < 6; i++) fraction *= 10;
            rest = rest[(1 + n)..];
        }
        long offsetMinutes;
        if (rest.Length == 1 && rest[0] is (byte)'Z' or (byte)'z')
        {
            offsetMinutes = 0;
        }
        else if (rest.Length == 6 && rest[0] is (byte)'+' or (byte)'-' && rest[3] == (byte)':' && Digits(rest[1..3], out var oh) && Digits(rest[4..6], out var om) && oh <= 23 && om <= 59)
        {
            offsetMinutes = (oh * 60 + om) * (rest[0] == (byte)'-' ? -1 : 1);
        }
        else
        {
            return false;
        }
        var local = new DateTime(year, month, day, hour, minute, second, DateTimeKind.Utc);
        micros = (local.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMicrosecond + fraction - offsetMinutes * 60_000_000;
        return true;
    }

    private static bool Digits(ReadOnlySpan<byte> s, out int value)
    {
        value = 0;
        foreach (var b in s)
        {
            if (b is < (byte)'0' or > (byte)'9') return false;
            value = value * 10 + (b - '0');
        }
        return s.Length > 0;
    }

    /// <summary>Makes room for <paramref name="length"/> more bytes after <paramref name="used"/>; returns where they go.</summary>
    private static int Reserve(ref byte[] scratch, int used, int length)
    {
        if (used + length > scratch.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(Math.Max(scratch.Length * 2, used + length), 256));
            scratch.AsSpan(0, used).CopyTo(larger);
            if (scratch.Length > 0) ArrayPool<byte>.Shared.Return(scratch);
            scratch = larger;
        }
        return used;
    }

    /// <summary>
    /// A column's value: where its text is (bytes of the payload or of the scratch buffer) and, for an integer, number, boolean or
    /// timestamp, its value (a double's bits; 1 or 0; microseconds). The default is null.
    /// </summary>
    private readonly record struct Slice(int Start, int Length, bool InScratch, bool IsSet, long Bits)
    {
        internal static Slice OfPayload(int start, int length, long bits = 0) => new(start, length, false, true, bits);

        internal static Slice OfScratch(int start, int length) => new(start, length, true, true, 0);

        internal static Slice OfNumber(long bits) => new(0, 0, false, true, bits);
    }

    /// <summary>The keys of one object level that the columns' paths name.</summary>
    private sealed class Node
    {
        private readonly List<Entry> _entries = [];

        internal Entry Entry(byte[] key)
        {
            foreach (var e in _entries)
            {
                if (e.Key.AsSpan().SequenceEqual(key)) return e;
            }
            var entry = new Entry(key);
            _entries.Add(entry);
            return entry;
        }

        internal Entry? Find(ReadOnlySpan<byte> key)
        {
            foreach (var e in _entries)
            {
                if (key.SequenceEqual(e.Key)) return e;
            }
            return null;
        }
    }

    /// <summary>A key: the column it holds (-1: none), and the keys below it that paths go on to.</summary>
    private sealed class Entry(byte[] key)
    {
        internal byte[] Key { get; } = key;

        internal int Column { get; set; } = -1;

        internal Node? Child { get; set; }
    }
}
