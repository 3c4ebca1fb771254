using System.Numerics;
using System.Text;
using DuckDB.NET.Data;
using DuckDB.NET.Native;

namespace Lakehouse.Engine;

/// <summary>
/// A forward-only reader over a streamed DuckDB result: DuckDB produces the rows chunk by chunk as they are read, so a large
/// result is never held in memory. A value can be read only while the reader stands on a row: before the first
/// <see cref="Read"/>, after the last, or after <see cref="Dispose"/>, reading throws (never an access violation). Nested types
/// (LIST, STRUCT, MAP) are read by casting them in SQL (for instance <c>to_json(x)</c>), except lists of doubles and
/// BIGINTs (<see cref="GetDoubles"/>, <see cref="GetInt64s"/>); <see cref="GetValue"/> refuses them.
/// </summary>
public sealed class DuckResult : IDisposable
{
    private readonly DuckConnection _connection;
    private readonly DuckDBCommand _command;
    private readonly DuckDBDataReader _reader;
    private readonly CancellationInterrupt? _interrupt;
    private readonly long _interruptsBefore;
    private readonly CancellationToken _cancellationToken;
    private readonly DuckDBType[] _types;
    private State _state;
    private bool _released;

    private enum State
    {
        BeforeFirst,
        OnRow,
        AfterLast,
        Superseded,
        Disposed,
    }

    internal DuckResult(DuckConnection connection, DuckDBCommand command, DuckDBDataReader reader, CancellationInterrupt? interrupt, long interruptsBefore, CancellationToken cancellationToken)
    {
        _connection = connection;
        _command = command;
        _reader = reader;
        _interrupt = interrupt;
        _interruptsBefore = interruptsBefore;
        _cancellationToken = cancellationToken;
        var n = reader.FieldCount;
        _types = new DuckDBType[n];
        var names = new string[n];
        for (var i = 0; i < n; i++)
        {
            names[i] = reader.GetName(i);
            _types[i] = Enum.TryParse<DuckDBType>(reader.GetDataTypeName(i), out var t) ? t : DuckDBType.Invalid;
        }
        Names = names;
        RowsChanged = Math.Max(0, reader.RecordsAffected);
    }

    /// <summary>Column names in result order.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Number of columns.</summary>
    public int ColumnCount => _types.Length;

    /// <summary>Rows changed by an INSERT/UPDATE/DELETE; 0 for queries.</summary>
    public long RowsChanged { get; }

    /// <summary>DuckDB's name of a column's type, e.g. "BIGINT".</summary>
    public string TypeName(int column) => _types[column].ToString().ToUpperInvariant();

    /// <summary>Advances to the next row; false at the end (and on every call after it).</summary>
    /// <exception cref="Core.LakehouseException">DuckDB failed while producing the rows (reason Engine).</exception>
    /// <exception cref="OperationCanceledException">The query was cancelled or interrupted.</exception>
    public bool Read()
    {
        ObjectDisposedException.ThrowIf(_state == State.Disposed, this);
        ThrowIfSuperseded();
        if (_state == State.AfterLast) return false;
        bool more;
        try
        {
            more = _reader.Read();
        }
        catch (Exception e) when (e is DuckDBException or OperationCanceledException)
        {
            Finish();
            throw DuckError.Translate(e, "DuckDB failed while streaming a result", null, _connection.Interrupts != _interruptsBefore, _cancellationToken);
        }
        if (more) _state = State.OnRow;
        else Finish();
        return more;
    }

    /// <summary>At the end (or after an error) the native result is released at once, so the connection can run the next statement.</summary>
    private void Finish()
    {
        _state = State.AfterLast;
        Release();
    }

    /// <summary>True when the current row's value in the column is NULL.</summary>
    public bool IsNull(int column)
    {
        EnsureRow(column);
        return _reader.IsDBNull(column);
    }

    /// <summary>Reads an integer column of any width (or a timestamp as microseconds since 1970, a date as days since 1970).</summary>
    public long GetInt64(int column)
    {
        EnsureRow(column);
        return _types[column] switch
        {
            DuckDBType.TinyInt or DuckDBType.SmallInt or DuckDBType.Integer or DuckDBType.BigInt
                or DuckDBType.UnsignedTinyInt or DuckDBType.UnsignedSmallInt or DuckDBType.UnsignedInteger => _reader.GetFieldValue<long>(column),
            DuckDBType.UnsignedBigInt => checked((long)_reader.GetFieldValue<ulong>(column)),
            DuckDBType.HugeInt or DuckDBType.UnsignedHugeInt => (long)_reader.GetFieldValue<BigInteger>(column),
            DuckDBType.Date => _reader.GetFieldValue<DateOnly>(column).DayNumber - DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber,
            DuckDBType.Timestamp or DuckDBType.TimestampTz or DuckDBType.TimestampMs or DuckDBType.TimestampS or DuckDBType.TimestampNs
                => (GetDateTime(column) - DateTime.UnixEpoch).Ticks / 10,
            _ => throw NotA(column, "an integer"),
        };
    }

    /// <summary>Reads a numeric column as a double.</summary>
    public double GetDouble(int column)
    {
        EnsureRow(column);
        return _types[column] switch
        {
            DuckDBType.Double or DuckDBType.Float => _reader.GetDouble(column),
            DuckDBType.Decimal => (double)_reader.GetDecimal(column),
            DuckDBType.HugeInt or DuckDBType.UnsignedHugeInt => (double)_reader.GetFieldValue<BigInteger>(column),
            _ => GetInt64(column),
        };
    }

    /// <summary>Reads a LIST of DOUBLE without NULL elements (a list aggregate of a column's non-null values) as an array.</summary>
    public double[] GetDoubles(int column) => GetList<double>(column, "doubles");

    /// <summary>Reads a LIST of BIGINT without NULL elements as an array.</summary>
    public long[] GetInt64s(int column) => GetList<long>(column, "BIGINTs");

    private T[] GetList<T>(int column, string what)
    {
        EnsureRow(column);
        if (_types[column] != DuckDBType.List) throw NotA(column, "a list of " + what);
        try
        {
            return [.. _reader.GetFieldValue<List<T>>(column)];
        }
        catch (InvalidCastException e)
        {
            throw new InvalidCastException($"Column '{Names[column]}' is not a list of {what} without NULL elements.", e);
        }
    }

    /// <summary>Reads a DECIMAL (or integer, or floating-point) column as a .NET decimal.</summary>
    public decimal GetDecimal(int column)
    {
        EnsureRow(column);
        return _types[column] switch
        {
            DuckDBType.Decimal => _reader.GetDecimal(column),
            DuckDBType.Double or DuckDBType.Float => (decimal)_reader.GetDouble(column),
            _ => GetInt64(column),
        };
    }

    /// <summary>Reads a BOOLEAN column.</summary>
    public bool GetBoolean(int column)
    {
        EnsureRow(column);
        return _types[column] == DuckDBType.Boolean ? _reader.GetBoolean(column) : throw NotA(column, "a boolean");
    }

    /// <summary>Reads a VARCHAR column (a BLOB is returned as its UTF-8 decoding).</summary>
    public string GetString(int column)
    {
        EnsureRow(column);
        return _types[column] switch
        {
            DuckDBType.Varchar => _reader.GetString(column),
            DuckDBType.Blob => Encoding.UTF8.GetString(ReadBlob(column)),
            _ => throw NotA(column, "text"),
        };
    }

    /// <summary>Reads the bytes of a VARCHAR (UTF-8) or BLOB value.</summary>
    public ReadOnlySpan<byte> GetBytes(int column)
    {
        EnsureRow(column);
        return _types[column] switch
        {
            DuckDBType.Varchar => Encoding.UTF8.GetBytes(_reader.GetString(column)),
            DuckDBType.Blob => ReadBlob(column),
            _ => throw NotA(column, "text"),
        };
    }

    private byte[] ReadBlob(int column)
    {
        using var stream = _reader.GetStream(column);
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>Reads a TIMESTAMP/TIMESTAMPTZ/DATE column as a UTC DateTime.</summary>
    public DateTime GetDateTime(int column)
    {
        EnsureRow(column);
        return _types[column] switch
        {
            DuckDBType.Date => _reader.GetFieldValue<DateOnly>(column).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc),
            DuckDBType.Timestamp or DuckDBType.TimestampTz or DuckDBType.TimestampMs or DuckDBType.TimestampS or DuckDBType.TimestampNs
                => DateTime.SpecifyKind(_reader.GetDateTime(column), DateTimeKind.Utc),
            _ => throw NotA(column, "a timestamp"),
        };
    }

    /// <summary>
    /// Reads any scalar column as a boxed .NET value (null for NULL): every integer type as long (UBIGINT as ulong), FLOAT and
    /// DOUBLE as double, DECIMAL as decimal, VARCHAR as string, BLOB as byte[], dates and timestamps as UTC DateTime.
    /// </summary>
    public object? GetValue(int column)
    {
        if (IsNull(column)) return null;
        return _types[column] switch
        {
            DuckDBType.Boolean => GetBoolean(column),
            DuckDBType.UnsignedBigInt => _reader.GetFieldValue<ulong>(column),
            DuckDBType.TinyInt or DuckDBType.SmallInt or DuckDBType.Integer or DuckDBType.BigInt or DuckDBType.UnsignedTinyInt
                or DuckDBType.UnsignedSmallInt or DuckDBType.UnsignedInteger or DuckDBType.HugeInt => GetInt64(column),
            DuckDBType.Float or DuckDBType.Double => GetDouble(column),
            DuckDBType.Decimal => GetDecimal(column),
            DuckDBType.Varchar => GetString(column),
            DuckDBType.Blob => ReadBlob(column),
            DuckDBType.Date or DuckDBType.Timestamp or DuckDBType.TimestampTz or DuckDBType.TimestampMs or DuckDBType.TimestampS or DuckDBType.TimestampNs
                => GetDateTime(column),
            _ => throw NotA(column, "a scalar; cast it in SQL (e.g. to_json) to read it"),
        };
    }

    /// <summary>Closes a result that was left open when its connection is used for another statement or goes back to the pool.</summary>
    internal void Supersede()
    {
        if (_state is State.Disposed or State.Superseded) return;
        _state = State.Superseded;
        Release();
    }

    private void ThrowIfSuperseded()
    {
        if (_state == State.Superseded)
            throw new InvalidOperationException("This result was closed because its connection ran another statement (or went back to the pool) before it was read to the end.");
    }

    private void EnsureRow(int column)
    {
        ObjectDisposedException.ThrowIf(_state == State.Disposed, this);
        ThrowIfSuperseded();
        if (_state != State.OnRow)
            throw new InvalidOperationException(_state == State.BeforeFirst ? "Call Read() before reading a value." : "The result has no more rows.");
        ArgumentOutOfRangeException.ThrowIfNegative(column);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(column, _types.Length);
    }

    private InvalidCastException NotA(int column, string what) => new($"Column '{Names[column]}' is {TypeName(column)}, not {what}.");

    /// <inheritdoc />
    public void Dispose()
    {
        if (_state == State.Disposed) return;
        _state = State.Disposed;
        Release();
    }

    private void Release()
    {
        if (_released) return;
        _released = true;
        try
        {
            _reader.Dispose();
        }
        finally
        {
            _command.Dispose();
            _interrupt?.Dispose();
            _connection.Release(this);
        }
    }
}
