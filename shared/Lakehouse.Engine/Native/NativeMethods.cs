using System.Runtime.InteropServices;

namespace Lakehouse.Engine.Native;

/// <summary>The 48-byte <c>duckdb_result</c>; only <see cref="InternalData"/> matters, the rest is deprecated.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct DuckDbResult
{
    public ulong DeprecatedColumnCount;
    public ulong DeprecatedRowCount;
    public ulong DeprecatedRowsChanged;
    public IntPtr DeprecatedColumns;
    public IntPtr DeprecatedErrorMessage;
    public IntPtr InternalData;
}

/// <summary>DuckDB's type ids (<c>DUCKDB_TYPE</c> in duckdb.h).</summary>
internal enum DuckDbType
{
    Invalid = 0,
    Boolean = 1,
    TinyInt = 2,
    SmallInt = 3,
    Integer = 4,
    BigInt = 5,
    UTinyInt = 6,
    USmallInt = 7,
    UInteger = 8,
    UBigInt = 9,
    Float = 10,
    Double = 11,
    Timestamp = 12,
    Date = 13,
    Time = 14,
    Interval = 15,
    HugeInt = 16,
    Varchar = 17,
    Blob = 18,
    Decimal = 19,
    TimestampS = 20,
    TimestampMs = 21,
    TimestampNs = 22,
    Enum = 23,
    List = 24,
    Struct = 25,
    Map = 26,
    Uuid = 27,
    Union = 28,
    Bit = 29,
    TimeTz = 30,
    TimestampTz = 31,
    UHugeInt = 32,
    Array = 33,
}

/// <summary>P/Invoke declarations over DuckDB's stable C API (duckdb.h), data-chunk and appender APIs only.</summary>
internal static partial class NativeMethods
{
    private const string Lib = "duckdb";

    // Database, connection, configuration.
    [LibraryImport(Lib, EntryPoint = "duckdb_create_config")]
    internal static partial int CreateConfig(out IntPtr config);

    [LibraryImport(Lib, EntryPoint = "duckdb_set_config", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int SetConfig(IntPtr config, string name, string option);

    [LibraryImport(Lib, EntryPoint = "duckdb_destroy_config")]
    internal static partial void DestroyConfig(ref IntPtr config);

    [LibraryImport(Lib, EntryPoint = "duckdb_open_ext", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int OpenExt(string? path, out IntPtr database, IntPtr config, out IntPtr error);

    [LibraryImport(Lib, EntryPoint = "duckdb_close")]
    internal static partial void Close(ref IntPtr database);

    [LibraryImport(Lib, EntryPoint = "duckdb_connect")]
    internal static partial int Connect(IntPtr database, out IntPtr connection);

    [LibraryImport(Lib, EntryPoint = "duckdb_disconnect")]
    internal static partial void Disconnect(ref IntPtr connection);

    [LibraryImport(Lib, EntryPoint = "duckdb_interrupt")]
    internal static partial void Interrupt(IntPtr connection);

    [LibraryImport(Lib, EntryPoint = "duckdb_free")]
    internal static partial void Free(IntPtr ptr);

    [LibraryImport(Lib, EntryPoint = "duckdb_library_version")]
    internal static partial IntPtr LibraryVersion();

    // Queries and results.
    [LibraryImport(Lib, EntryPoint = "duckdb_query", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Query(IntPtr connection, string sql, IntPtr result);

    [LibraryImport(Lib, EntryPoint = "duckdb_destroy_result")]
    internal static partial void DestroyResult(IntPtr result);

    [LibraryImport(Lib, EntryPoint = "duckdb_result_error")]
    internal static partial IntPtr ResultError(IntPtr result);

    [LibraryImport(Lib, EntryPoint = "duckdb_column_count")]
    internal static partial ulong ColumnCount(IntPtr result);

    [LibraryImport(Lib, EntryPoint = "duckdb_column_name")]
    internal static partial IntPtr ColumnName(IntPtr result, ulong column);

    [LibraryImport(Lib, EntryPoint = "duckdb_column_type")]
    internal static partial DuckDbType ColumnType(IntPtr result, ulong column);

    [LibraryImport(Lib, EntryPoint = "duckdb_rows_changed")]
    internal static partial ulong RowsChanged(IntPtr result);

    [LibraryImport(Lib, EntryPoint = "duckdb_column_logical_type")]
    internal static partial IntPtr ColumnLogicalType(IntPtr result, ulong column);

    [LibraryImport(Lib, EntryPoint = "duckdb_destroy_logical_type")]
    internal static partial void DestroyLogicalType(ref IntPtr type);

    [LibraryImport(Lib, EntryPoint = "duckdb_decimal_scale")]
    internal static partial byte DecimalScale(IntPtr type);

    [LibraryImport(Lib, EntryPoint = "duckdb_decimal_internal_type")]
    internal static partial DuckDbType DecimalInternalType(IntPtr type);

    [LibraryImport(Lib, EntryPoint = "duckdb_fetch_chunk")]
    internal static partial IntPtr FetchChunk(DuckDbResult result);

    [LibraryImport(Lib, EntryPoint = "duckdb_destroy_data_chunk")]
    internal static partial void DestroyDataChunk(ref IntPtr chunk);

    [LibraryImport(Lib, EntryPoint = "duckdb_data_chunk_get_size")]
    internal static partial ulong DataChunkGetSize(IntPtr chunk);

    [LibraryImport(Lib, EntryPoint = "duckdb_data_chunk_get_vector")]
    internal static partial IntPtr DataChunkGetVector(IntPtr chunk, ulong column);

    [LibraryImport(Lib, EntryPoint = "duckdb_vector_get_data")]
    internal static partial IntPtr VectorGetData(IntPtr vector);

    [LibraryImport(Lib, EntryPoint = "duckdb_vector_get_validity")]
    internal static partial IntPtr VectorGetValidity(IntPtr vector);

    // Prepared statements.
    [LibraryImport(Lib, EntryPoint = "duckdb_prepare", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Prepare(IntPtr connection, string sql, out IntPtr statement);

    [LibraryImport(Lib, EntryPoint = "duckdb_prepare_error")]
    internal static partial IntPtr PrepareError(IntPtr statement);

    [LibraryImport(Lib, EntryPoint = "duckdb_destroy_prepare")]
    internal static partial void DestroyPrepare(ref IntPtr statement);

    [LibraryImport(Lib, EntryPoint = "duckdb_nparams")]
    internal static partial ulong ParameterCount(IntPtr statement);

    [LibraryImport(Lib, EntryPoint = "duckdb_clear_bindings")]
    internal static partial int ClearBindings(IntPtr statement);

    [LibraryImport(Lib, EntryPoint = "duckdb_bind_varchar_length")]
    internal static partial int BindVarcharLength(IntPtr statement, ulong index, ReadOnlySpan<byte> value, ulong length);

    [LibraryImport(Lib, EntryPoint = "duckdb_bind_int64")]
    internal static partial int BindInt64(IntPtr statement, ulong index, long value);

    [LibraryImport(Lib, EntryPoint = "duckdb_bind_double")]
    internal static partial int BindDouble(IntPtr statement, ulong index, double value);

    [LibraryImport(Lib, EntryPoint = "duckdb_bind_boolean")]
    internal static partial int BindBoolean(IntPtr statement, ulong index, [MarshalAs(UnmanagedType.U1)] bool value);

    [LibraryImport(Lib, EntryPoint = "duckdb_bind_blob")]
    internal static partial int BindBlob(IntPtr statement, ulong index, ReadOnlySpan<byte> data, ulong length);

    [LibraryImport(Lib, EntryPoint = "duckdb_bind_null")]
    internal static partial int BindNull(IntPtr statement, ulong index);

    [LibraryImport(Lib, EntryPoint = "duckdb_execute_prepared")]
    internal static partial int ExecutePrepared(IntPtr statement, IntPtr result);

    // Appender.
    [LibraryImport(Lib, EntryPoint = "duckdb_appender_create", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int AppenderCreate(IntPtr connection, string? schema, string table, out IntPtr appender);

    [LibraryImport(Lib, EntryPoint = "duckdb_appender_error")]
    internal static partial IntPtr AppenderError(IntPtr appender);

    [LibraryImport(Lib, EntryPoint = "duckdb_appender_flush")]
    internal static partial int AppenderFlush(IntPtr appender);

    [LibraryImport(Lib, EntryPoint = "duckdb_appender_close")]
    internal static partial int AppenderClose(IntPtr appender);

    [LibraryImport(Lib, EntryPoint = "duckdb_appender_destroy")]
    internal static partial int AppenderDestroy(ref IntPtr appender);

    [LibraryImport(Lib, EntryPoint = "duckdb_appender_end_row")]
    internal static partial int AppenderEndRow(IntPtr appender);

    [LibraryImport(Lib, EntryPoint = "duckdb_append_bool")]
    internal static partial int AppendBool(IntPtr appender, [MarshalAs(UnmanagedType.U1)] bool value);

    [LibraryImport(Lib, EntryPoint = "duckdb_append_int32")]
    internal static partial int AppendInt32(IntPtr appender, int value);

    [LibraryImport(Lib, EntryPoint = "duckdb_append_int64")]
    internal static partial int AppendInt64(IntPtr appender, long value);

    [LibraryImport(Lib, EntryPoint = "duckdb_append_double")]
    internal static partial int AppendDouble(IntPtr appender, double value);

    [LibraryImport(Lib, EntryPoint = "duckdb_append_varchar_length")]
    internal static partial int AppendVarcharLength(IntPtr appender, ReadOnlySpan<byte> value, ulong length);

    [LibraryImport(Lib, EntryPoint = "duckdb_append_blob")]
    internal static partial int AppendBlob(IntPtr appender, ReadOnlySpan<byte> data, ulong length);

    [LibraryImport(Lib, EntryPoint = "duckdb_append_timestamp")]
    internal static partial int AppendTimestamp(IntPtr appender, long micros);

    [LibraryImport(Lib, EntryPoint = "duckdb_append_date")]
    internal static partial int AppendDate(IntPtr appender, int days);

    [LibraryImport(Lib, EntryPoint = "duckdb_append_null")]
    internal static partial int AppendNull(IntPtr appender);

    internal static string? Utf8(IntPtr ptr) => ptr == IntPtr.Zero ? null : Marshal.PtrToStringUTF8(ptr);
}
