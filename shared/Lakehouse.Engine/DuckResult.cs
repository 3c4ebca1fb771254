using System.Runtime.InteropServices;
using System.Text;
using Lakehouse.Engine.Native;

namespace Lakehouse.Engine;

/// <summary>
/// A forward-only reader over a DuckDB result, fetched one data chunk (up to 2048 rows) at a time
/// through <c>duckdb_fetch_chunk</c>. Nested types (LIST, STRUCT, MAP) are read by casting them in SQL
/// (for instance <c>to_json(x)</c>); <see cref="GetValue"/> reports them as unsupported.
/// </summary>
public sealed unsafe class DuckResult : IDisposable
{
    private static readonly DateTime UnixEpoch = new(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private readonly IntPtr _result;
    private readonly DuckDbType[] _types;
    private readonly byte[] _decimalScales;
    private readonly DuckDbType[] _decimalStorage;
    private readonly IntPtr[] _data;
    private readonly ulong*[] _validity;
    private IntPtr _chunk;
    private long _chunkSize;
    private long _row = -1;
    private bool _done;
    private bool _disposed;

    internal DuckResult(IntPtr result)
    {
        _result = result;
        var n = (int)NativeMethods.ColumnCount(result);
        _types = new DuckDbType[n];
        _decimalScales = new byte[n];
        _decimalStorage = new DuckDbType[n];
        var names = new string[n];
        Names = names;
        for (var i = 0; i < n; i++)
        {
            _types[i] = NativeMethods.ColumnType(result, (ulong)i);
            names[i] = NativeMethods.Utf8(NativeMethods.ColumnName(result, (ulong)i)) ?? $"column{i}";
            if (_types[i] == DuckDbType.Decimal)
            {
                var logical = NativeMethods.ColumnLogicalType(result, (ulong)i);
                _decimalScales[i] = NativeMethods.DecimalScale(logical);
                _decimalStorage[i] = NativeMethods.DecimalInternalType(logical);
                NativeMethods.DestroyLogicalType(ref logical);
            }
        }
        _data = new IntPtr[n];
        _validity = new ulong*[n];
        RowsChanged = (long)NativeMethods.RowsChanged(result);
    }

    /// <summary>Column names in result order.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Number of columns.</summary>
    public int ColumnCount => _types.Length;

    /// <summary>Rows changed by an INSERT/UPDATE/DELETE/COPY; 0 for queries.</summary>
    public long RowsChanged { get; }

    /// <summary>DuckDB's name of a column's type, e.g. "VARCHAR".</summary>
    public string TypeName(int column) => _types[column].ToString().ToUpperInvariant();

    /// <summary>Advances to the next row; false at the end.</summary>
    public bool Read()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_done) return false;
        _row++;
        while (_row >= _chunkSize)
        {
            if (!NextChunk())
            {
                _done = true;
                return false;
            }
        }
        return true;
    }

    private bool NextChunk()
    {
        if (_chunk != IntPtr.Zero) NativeMethods.DestroyDataChunk(ref _chunk);
        _chunk = NativeMethods.FetchChunk(Marshal.PtrToStructure<DuckDbResult>(_result));
        if (_chunk == IntPtr.Zero)
        {
            var error = NativeMethods.Utf8(NativeMethods.ResultError(_result));
            if (error is not null) throw DuckError.Create("DuckDB failed while streaming a result", error);
            return false;
        }
        _chunkSize = (long)NativeMethods.DataChunkGetSize(_chunk);
        _row = 0;
        for (var i = 0; i < _types.Length; i++)
        {
            var vector = NativeMethods.DataChunkGetVector(_chunk, (ulong)i);
            _data[i] = NativeMethods.VectorGetData(vector);
            _validity[i] = (ulong*)NativeMethods.VectorGetValidity(vector);
        }
        return true;
    }

    /// <summary>True when the current row's value in the column is NULL.</summary>
    public bool IsNull(int column)
    {
        var mask = _validity[column];
        return mask != null && (mask[_row >> 6] & (1UL << (int)(_row & 63))) == 0;
    }

    /// <summary>Reads an integer column of any width (or a timestamp as microseconds, a date as days).</summary>
    public long GetInt64(int column)
    {
        var p = (byte*)_data[column];
        return _types[column] switch
        {
            DuckDbType.BigInt or DuckDbType.Timestamp or DuckDbType.TimestampTz or DuckDbType.UBigInt or DuckDbType.Time => ((long*)p)[_row],
            DuckDbType.Integer or DuckDbType.Date => ((int*)p)[_row],
            DuckDbType.UInteger => ((uint*)p)[_row],
            DuckDbType.SmallInt => ((short*)p)[_row],
            DuckDbType.USmallInt => ((ushort*)p)[_row],
            DuckDbType.TinyInt => ((sbyte*)p)[_row],
            DuckDbType.UTinyInt => p[_row],
            DuckDbType.Boolean => p[_row],
            DuckDbType.HugeInt or DuckDbType.UHugeInt => checked((long)ReadHugeInt(p)),
            _ => throw new InvalidCastException($"Column '{Names[column]}' is {TypeName(column)}, not an integer."),
        };
    }

    /// <summary>Reads a numeric column as a double.</summary>
    public double GetDouble(int column) => _types[column] switch
    {
        DuckDbType.Double => ((double*)_data[column])[_row],
        DuckDbType.Float => ((float*)_data[column])[_row],
        DuckDbType.Decimal => (double)GetDecimal(column),
        _ => GetInt64(column),
    };

    /// <summary>Reads a DECIMAL (or integer) column as a .NET decimal.</summary>
    public decimal GetDecimal(int column)
    {
        if (_types[column] != DuckDbType.Decimal) return _types[column] is DuckDbType.Double or DuckDbType.Float ? (decimal)GetDouble(column) : GetInt64(column);
        var p = (byte*)_data[column];
        Int128 unscaled = _decimalStorage[column] switch
        {
            DuckDbType.SmallInt => ((short*)p)[_row],
            DuckDbType.Integer => ((int*)p)[_row],
            DuckDbType.BigInt => ((long*)p)[_row],
            _ => ReadHugeInt(p),
        };
        return (decimal)unscaled / Pow10(_decimalScales[column]);
    }

    private static decimal Pow10(int scale)
    {
        var result = 1m;
        for (var i = 0; i < scale; i++) result *= 10m;
        return result;
    }

    private Int128 ReadHugeInt(byte* p)
    {
        var lower = ((ulong*)p)[_row * 2];
        var upper = ((long*)p)[(_row * 2) + 1];
        return new Int128((ulong)upper, lower);
    }

    /// <summary>Reads a BOOLEAN column.</summary>
    public bool GetBoolean(int column) => ((byte*)_data[column])[_row] != 0;

    /// <summary>Reads a VARCHAR column (a BLOB is returned as its UTF-8 decoding).</summary>
    public string GetString(int column)
    {
        var span = GetBytes(column);
        return Encoding.UTF8.GetString(span);
    }

    /// <summary>Reads the raw bytes of a VARCHAR or BLOB value; valid until the next <see cref="Read"/>.</summary>
    public ReadOnlySpan<byte> GetBytes(int column)
    {
        if (_types[column] is not (DuckDbType.Varchar or DuckDbType.Blob or DuckDbType.Bit))
            throw new InvalidCastException($"Column '{Names[column]}' is {TypeName(column)}, not text.");
        var s = (byte*)_data[column] + (_row * 16);
        var length = *(uint*)s;
        var chars = length <= 12 ? s + 4 : *(byte**)(s + 8);
        return new ReadOnlySpan<byte>(chars, (int)length);
    }

    /// <summary>Reads a TIMESTAMP/TIMESTAMPTZ/DATE column as a UTC DateTime.</summary>
    public DateTime GetDateTime(int column) => _types[column] switch
    {
        DuckDbType.Date => UnixEpoch.AddDays(GetInt64(column)),
        DuckDbType.Timestamp or DuckDbType.TimestampTz => UnixEpoch.AddTicks(GetInt64(column) * 10),
        DuckDbType.TimestampMs => UnixEpoch.AddTicks(((long*)_data[column])[_row] * 10_000),
        DuckDbType.TimestampS => UnixEpoch.AddTicks(((long*)_data[column])[_row] * 10_000_000),
        DuckDbType.TimestampNs => UnixEpoch.AddTicks(((long*)_data[column])[_row] / 100),
        _ => throw new InvalidCastException($"Column '{Names[column]}' is {TypeName(column)}, not a timestamp."),
    };

    /// <summary>Reads any scalar column as a boxed .NET value (null for NULL).</summary>
    public object? GetValue(int column)
    {
        if (IsNull(column)) return null;
        return _types[column] switch
        {
            DuckDbType.Boolean => GetBoolean(column),
            DuckDbType.TinyInt or DuckDbType.SmallInt or DuckDbType.Integer or DuckDbType.BigInt
                or DuckDbType.UTinyInt or DuckDbType.USmallInt or DuckDbType.UInteger or DuckDbType.HugeInt => GetInt64(column),
            DuckDbType.UBigInt => (ulong)GetInt64(column),
            DuckDbType.Float or DuckDbType.Double => GetDouble(column),
            DuckDbType.Decimal => GetDecimal(column),
            DuckDbType.Varchar => GetString(column),
            DuckDbType.Blob => GetBytes(column).ToArray(),
            DuckDbType.Date or DuckDbType.Timestamp or DuckDbType.TimestampTz or DuckDbType.TimestampMs
                or DuckDbType.TimestampS or DuckDbType.TimestampNs => GetDateTime(column),
            _ => throw new InvalidCastException($"Column '{Names[column]}' is {TypeName(column)}; cast it in SQL (e.g. to_json) to read it."),
        };
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_chunk != IntPtr.Zero) NativeMethods.DestroyDataChunk(ref _chunk);
        NativeMethods.DestroyResult(_result);
        Marshal.FreeHGlobal(_result);
    }
}
