using System.Runtime.CompilerServices;
using System.Text.Unicode;
using Lakehouse.Engine.Native;

namespace Lakehouse.Engine;

/// <summary>The DuckDB type of one field of a struct function's result (<see cref="DuckEngine.RegisterStructFunction"/>).</summary>
public enum DuckFieldType
{
    /// <summary>VARCHAR, written from UTF-8 bytes.</summary>
    Varchar,

    /// <summary>BIGINT.</summary>
    BigInt,

    /// <summary>DOUBLE.</summary>
    Double,

    /// <summary>BOOLEAN.</summary>
    Boolean,

    /// <summary>TIMESTAMPTZ, written as microseconds since 1970-01-01 UTC.</summary>
    TimestampTz,
}

/// <summary>One field of a struct function's result: its name in the STRUCT and its type.</summary>
/// <param name="Name">The field's name (struct_extract(result, 'name')).</param>
/// <param name="Type">The field's type.</param>
public readonly record struct DuckField(string Name, DuckFieldType Type);

/// <summary>
/// Computes one row of a struct function: reads <paramref name="input"/> (the BLOB, valid only during the call) and sets the fields of
/// <paramref name="row"/> it has values for (the others stay NULL); returns false for a NULL result, whatever it set.
/// </summary>
public delegate bool DuckStructRowFunction(ReadOnlySpan<byte> input, DuckStructRow row);

/// <summary>
/// The result row of a struct function being computed: writes each field's value straight into DuckDB's vectors. A field not set
/// stays NULL. Valid only during the call it is given to.
/// </summary>
public readonly unsafe ref struct DuckStructRow
{
    private readonly Span<StructFunction.FieldVector> _fields;
    private readonly int _row;

    internal DuckStructRow(Span<StructFunction.FieldVector> fields, int row)
    {
        _fields = fields;
        _row = row;
    }

    /// <summary>Sets VARCHAR field <paramref name="field"/> (0-based) to <paramref name="utf8"/>, copied.</summary>
    /// <exception cref="ArgumentException">The bytes are not valid UTF-8, or the field is not a VARCHAR.</exception>
    public void SetVarchar(int field, ReadOnlySpan<byte> utf8)
    {
        ref var f = ref Field(field, DuckFieldType.Varchar);
        // DuckDB trusts a VARCHAR to be UTF-8 (its checking assign would throw a C++ exception through this frame instead).
        if (!Utf8.IsValid(utf8)) throw new ArgumentException($"The value of field {field} is not valid UTF-8.", nameof(utf8));
        var slot = (DuckString*)f.Data + _row;
        if (utf8.Length <= DuckString.InlineLength)
        {
            // Inline: length, then the bytes, zero-padded (DuckDB compares inline strings by their 16 bytes).
            *slot = default;
            slot->Length = (uint)utf8.Length;
            utf8.CopyTo(new Span<byte>(slot->Inline, DuckString.InlineLength));
        }
        else
        {
            // Longer strings live in the vector's own string heap: only DuckDB can put them there.
            fixed (byte* bytes = utf8)
                DuckDB.NET.Native.NativeMethods.Vectors.DuckDBUnsafeVectorAssignStringElementLength(f.Vector, (ulong)_row, bytes, utf8.Length);
        }
        StructFunction.SetValid(f.Validity, _row);
    }

    /// <summary>Sets BIGINT field <paramref name="field"/> (0-based).</summary>
    /// <exception cref="ArgumentException">The field is not a BIGINT.</exception>
    public void SetBigInt(int field, long value) => Set(DuckFieldType.BigInt, field, value);

    /// <summary>Sets DOUBLE field <paramref name="field"/> (0-based).</summary>
    /// <exception cref="ArgumentException">The field is not a DOUBLE.</exception>
    public void SetDouble(int field, double value) => Set(DuckFieldType.Double, field, value);

    /// <summary>Sets BOOLEAN field <paramref name="field"/> (0-based).</summary>
    /// <exception cref="ArgumentException">The field is not a BOOLEAN.</exception>
    public void SetBoolean(int field, bool value) => Set(DuckFieldType.Boolean, field, value);

    /// <summary>Sets TIMESTAMPTZ field <paramref name="field"/> (0-based) to <paramref name="microseconds"/> since 1970-01-01 UTC.</summary>
    /// <exception cref="ArgumentException">The field is not a TIMESTAMPTZ.</exception>
    public void SetTimestampTz(int field, long microseconds) => Set(DuckFieldType.TimestampTz, field, microseconds);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Set<T>(DuckFieldType type, int field, T value) where T : unmanaged
    {
        ref var f = ref Field(field, type);
        ((T*)f.Data)[_row] = value;
        StructFunction.SetValid(f.Validity, _row);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref StructFunction.FieldVector Field(int field, DuckFieldType type)
    {
        ref var f = ref _fields[field];
        if (f.Type != type) throw new ArgumentException($"Field {field} is {f.Type}, not {type}.", nameof(field));
        return ref f;
    }

    /// <summary>Makes every field of the row NULL again (a row the function turned down after setting some).</summary>
    internal void Clear()
    {
        foreach (ref var f in _fields) StructFunction.SetInvalid(f.Validity, _row);
    }
}
