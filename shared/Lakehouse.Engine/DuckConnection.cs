using System.Runtime.InteropServices;
using Lakehouse.Engine.Native;

namespace Lakehouse.Engine;

/// <summary>One DuckDB connection. Use it from one thread at a time.</summary>
public sealed class DuckConnection : IDisposable
{
    private IntPtr _connection;

    internal DuckConnection(IntPtr connection) => _connection = connection;

    internal IntPtr Handle
    {
        get
        {
            ObjectDisposedException.ThrowIf(_connection == IntPtr.Zero, this);
            return _connection;
        }
    }

    /// <summary>Runs a statement and discards its result; returns the number of rows changed.</summary>
    public long Execute(string sql)
    {
        using var result = Query(sql);
        return result.RowsChanged;
    }

    /// <summary>Runs a query and returns a streaming reader over its rows.</summary>
    public DuckResult Query(string sql)
    {
        var result = Marshal.AllocHGlobal(Marshal.SizeOf<DuckDbResult>());
        if (NativeMethods.Query(Handle, sql, result) != 0)
        {
            var error = NativeMethods.Utf8(NativeMethods.ResultError(result));
            NativeMethods.DestroyResult(result);
            Marshal.FreeHGlobal(result);
            throw DuckError.Create("DuckDB query failed", error);
        }
        return new DuckResult(result);
    }

    /// <summary>Runs a query and returns the first column of the first row, or null when there is no row or it is NULL.</summary>
    public object? Scalar(string sql)
    {
        using var result = Query(sql);
        return result.Read() ? result.GetValue(0) : null;
    }

    /// <summary>Prepares a statement with <c>$1</c>/<c>?</c> parameters.</summary>
    public DuckStatement Prepare(string sql)
    {
        if (NativeMethods.Prepare(Handle, sql, out var statement) != 0)
        {
            var error = NativeMethods.Utf8(NativeMethods.PrepareError(statement));
            NativeMethods.DestroyPrepare(ref statement);
            throw DuckError.Create("Preparing a DuckDB statement failed", error);
        }
        return new DuckStatement(statement);
    }

    /// <summary>Creates an appender for fast bulk inserts into an existing table.</summary>
    public DuckAppender CreateAppender(string table, string? schema = null)
    {
        if (NativeMethods.AppenderCreate(Handle, schema, table, out var appender) != 0)
        {
            var error = NativeMethods.Utf8(NativeMethods.AppenderError(appender));
            NativeMethods.AppenderDestroy(ref appender);
            throw DuckError.Create($"Creating an appender for table '{table}' failed", error);
        }
        return new DuckAppender(appender);
    }

    /// <summary>Asks DuckDB to stop the query running on this connection.</summary>
    public void Interrupt() => NativeMethods.Interrupt(Handle);

    /// <inheritdoc />
    public void Dispose()
    {
        if (_connection != IntPtr.Zero) NativeMethods.Disconnect(ref _connection);
    }
}
