using System.Text;
using Lakehouse.Engine.Native;

namespace Lakehouse.Engine;

/// <summary>Bulk-inserts rows into a DuckDB table, about a thousand times faster than INSERT per row.</summary>
public sealed class DuckAppender : IDisposable
{
    private IntPtr _appender;

    internal DuckAppender(IntPtr appender) => _appender = appender;

    /// <summary>Appends one value to the current row: string, long/int, double, bool, byte[], DateTime (as TIMESTAMP) or null.</summary>
    public DuckAppender Append(object? value)
    {
        var state = value switch
        {
            null => NativeMethods.AppendNull(_appender),
            string s => AppendText(s),
            long l => NativeMethods.AppendInt64(_appender, l),
            int n => NativeMethods.AppendInt32(_appender, n),
            double d => NativeMethods.AppendDouble(_appender, d),
            bool b => NativeMethods.AppendBool(_appender, b),
            byte[] bytes => NativeMethods.AppendBlob(_appender, bytes, (ulong)bytes.Length),
            DateTime t => NativeMethods.AppendTimestamp(_appender, (t.ToUniversalTime() - DateTime.UnixEpoch).Ticks / 10),
            DateOnly d => NativeMethods.AppendDate(_appender, d.DayNumber - DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber),
            _ => throw new ArgumentException($"Cannot append a {value.GetType().Name}.", nameof(value)),
        };
        Check(state, "Appending a value");
        return this;
    }

    private int AppendText(string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        return NativeMethods.AppendVarcharLength(_appender, bytes, (ulong)bytes.Length);
    }

    /// <summary>Finishes the current row.</summary>
    public void EndRow() => Check(NativeMethods.AppenderEndRow(_appender), "Ending an appended row");

    /// <summary>Appends a whole row.</summary>
    public void AppendRow(params object?[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        foreach (var v in values) Append(v);
        EndRow();
    }

    /// <summary>Flushes buffered rows into the table.</summary>
    public void Flush() => Check(NativeMethods.AppenderFlush(_appender), "Flushing the appender");

    private void Check(int state, string what)
    {
        if (state != 0) throw DuckError.Create(what + " failed", NativeMethods.Utf8(NativeMethods.AppenderError(_appender)));
    }

    /// <summary>Flushes and closes; errors surface here rather than being lost in Dispose.</summary>
    public void Close() => Check(NativeMethods.AppenderClose(_appender), "Closing the appender");

    /// <inheritdoc />
    public void Dispose()
    {
        if (_appender != IntPtr.Zero) NativeMethods.AppenderDestroy(ref _appender);
    }
}
