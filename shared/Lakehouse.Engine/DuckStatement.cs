using System.Text;
using Lakehouse.Engine.Native;

namespace Lakehouse.Engine;

/// <summary>A prepared statement; parameters are 1-based.</summary>
public sealed class DuckStatement : IDisposable
{
    private IntPtr _statement;

    internal DuckStatement(IntPtr statement) => _statement = statement;

    /// <summary>Number of parameters the statement takes.</summary>
    public int ParameterCount => (int)NativeMethods.ParameterCount(_statement);

    /// <summary>Binds a value to a 1-based parameter: string, long/int, double, bool, byte[] or null.</summary>
    public DuckStatement Bind(int index, object? value)
    {
        var i = (ulong)index;
        var state = value switch
        {
            null => NativeMethods.BindNull(_statement, i),
            string s => BindText(i, s),
            long l => NativeMethods.BindInt64(_statement, i, l),
            int n => NativeMethods.BindInt64(_statement, i, n),
            double d => NativeMethods.BindDouble(_statement, i, d),
            bool b => NativeMethods.BindBoolean(_statement, i, b),
            byte[] bytes => NativeMethods.BindBlob(_statement, i, bytes, (ulong)bytes.Length),
            _ => throw new ArgumentException($"Cannot bind a {value.GetType().Name}.", nameof(value)),
        };
        if (state != 0) throw DuckError.Create($"Binding parameter {index} failed", NativeMethods.Utf8(NativeMethods.PrepareError(_statement)));
        return this;
    }

    private int BindText(ulong index, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        return NativeMethods.BindVarcharLength(_statement, index, bytes, (ulong)bytes.Length);
    }

    /// <summary>Executes with the bound parameters and returns a reader.</summary>
    public DuckResult Query()
    {
        var result = System.Runtime.InteropServices.Marshal.AllocHGlobal(System.Runtime.InteropServices.Marshal.SizeOf<Native.DuckDbResult>());
        if (NativeMethods.ExecutePrepared(_statement, result) != 0)
        {
            var error = NativeMethods.Utf8(NativeMethods.ResultError(result));
            NativeMethods.DestroyResult(result);
            System.Runtime.InteropServices.Marshal.FreeHGlobal(result);
            throw DuckError.Create("Executing a prepared DuckDB statement failed", error);
        }
        return new DuckResult(result);
    }

    /// <summary>Executes with the bound parameters; returns rows changed.</summary>
    public long Execute()
    {
        using var result = Query();
        return result.RowsChanged;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_statement != IntPtr.Zero) NativeMethods.DestroyPrepare(ref _statement);
    }
}
