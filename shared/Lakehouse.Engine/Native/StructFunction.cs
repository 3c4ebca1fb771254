using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using DuckDB.NET.Native;

namespace Lakehouse.Engine.Native;

/// <summary>
/// A scalar function BLOB → STRUCT registered through DuckDB's C API: DuckDB calls <see cref="Invoke"/> with a chunk of rows, which
/// reads each BLOB where it lies (no stream, no copy) and has the body write the fields straight into the result's child vectors.
/// DuckDB.NET's managed scalar functions hand a BLOB over as a <see cref="Stream"/> per row and take a VARCHAR back as a .NET string:
/// for a body that parses a short payload, that was most of its cost.
/// </summary>
/// <remarks>
/// The instance is the function's state: its field types and body, reached from the function's extra info through a
/// <see cref="GCHandle"/> that DuckDB frees (<see cref="Free"/>) when it drops the function, so it lives as long as the database
/// that holds it. DuckDB calls <see cref="Invoke"/> on its own threads, several at once; the state is immutable. No exception
/// leaves <see cref="Invoke"/>: one becomes the query's error (duckdb_scalar_function_set_error).
/// </remarks>
internal sealed unsafe class StructFunction
{
    private readonly DuckFieldType[] _types;
    private readonly DuckStructRowFunction _body;

    private StructFunction(DuckFieldType[] types, DuckStructRowFunction body)
    {
        _types = types;
        _body = body;
    }

    /// <summary>One child vector of the result, as the row writer needs it.</summary>
    internal struct FieldVector
    {
        internal IntPtr Vector;
        internal void* Data;
        internal ulong* Validity;
        internal DuckFieldType Type;
    }

    /// <summary>Registers <paramref name="name"/>(BLOB) → STRUCT(<paramref name="fields"/>) on <paramref name="connection"/>'s database.</summary>
    /// <returns>False when DuckDB refused it (its C API gives no reason).</returns>
    internal static bool Register(DuckDBNativeConnection connection, string name, IReadOnlyList<DuckField> fields, DuckStructRowFunction body)
    {
        var state = new StructFunction([.. fields.Select(f => f.Type)], body);
        var function = NativeMethods.ScalarFunction.DuckDBCreateScalarFunction();
        try
        {
            NativeMethods.ScalarFunction.DuckDBScalarFunctionSetName(function, name);
            using (var blob = NativeMethods.LogicalType.DuckDBCreateLogicalType(DuckDBType.Blob))
                NativeMethods.ScalarFunction.DuckDBScalarFunctionAddParameter(function, blob);
            using (var result = StructType(fields))
                NativeMethods.ScalarFunction.DuckDBScalarFunctionSetReturnType(function, result);
            // From here DuckDB owns the handle: it calls Free when the function goes, or at once if the registration fails.
            NativeMethods.ScalarFunction.DuckDBScalarFunctionSetExtraInfo(function, GCHandle.ToIntPtr(GCHandle.Alloc(state)), &Free);
            NativeMethods.ScalarFunction.DuckDBScalarFunctionSetFunction(function, &Invoke);
            return NativeMethods.ScalarFunction.DuckDBRegisterScalarFunction(connection, function) == DuckDBState.Success;
        }
        finally
        {
            // The catalog keeps its own copy.
            NativeMethods.ScalarFunction.DuckDBDestroyScalarFunction(ref function);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void Free(IntPtr handle)
    {
        try
        {
            GCHandle.FromIntPtr(handle).Free();
        }
        catch (Exception)
        {
            // Nothing may unwind into DuckDB's frames; a handle that cannot be freed is only a leak.
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void Invoke(IntPtr info, IntPtr input, IntPtr output)
    {
        try
        {
            var state = (StructFunction)GCHandle.FromIntPtr(NativeMethods.ScalarFunction.DuckDBScalarFunctionGetExtraInfo(info)).Target!;
            state.Run(input, output);
        }
        catch (Exception e)
        {
            try
            {
                NativeMethods.ScalarFunction.DuckDBScalarFunctionSetError(info, $"{e.GetType().Name}: {e.Message}");
            }
            catch (Exception)
            {
                // Nothing may unwind into DuckDB's frames; the function then fails without its message.
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Run(IntPtr input, IntPtr output)
    {
        int rows;
        IntPtr values;
        using (var chunk = new DuckDBDataChunk(input))
        {
            rows = checked((int)NativeMethods.DataChunks.DuckDBDataChunkGetSize(chunk));
            values = NativeMethods.DataChunks.DuckDBDataChunkGetVector(chunk, 0);
        }
        // DuckDB flattens the input before the call: a plain array of string_t, and a validity mask (null when all are valid).
        var blobs = (DuckString*)NativeMethods.Vectors.DuckDBVectorGetData(values);
        var present = NativeMethods.Vectors.DuckDBVectorGetValidity(values);

        var fields = new FieldVector[_types.Length];
        for (var i = 0; i < fields.Length; i++)
        {
            var child = NativeMethods.Vectors.DuckDBStructVectorGetChild(output, i);
            fields[i] = new FieldVector { Vector = child, Data = NativeMethods.Vectors.DuckDBVectorGetData(child), Validity = Writable(child, rows), Type = _types[i] };
        }
        var valid = Writable(output, rows);

        for (var row = 0; row < rows; row++)
        {
            if (present is not null && (present[row >> 6] & (1UL << row)) == 0) continue;
            var blob = blobs + row;
            var result = new DuckStructRow(fields, row);
            if (_body(DuckString.Bytes(blob), result)) SetValid(valid, row);
            else result.Clear();
        }
    }

    /// <summary>The vector's validity mask, writable, with the first <paramref name="rows"/> rows NULL (the writers mark the valid ones).</summary>
    private static ulong* Writable(IntPtr vector, int rows)
    {
        NativeMethods.Vectors.DuckDBVectorEnsureValidityWritable(vector);
        var validity = NativeMethods.Vectors.DuckDBVectorGetValidity(vector);
        new Span<ulong>(validity, (rows + 63) >> 6).Clear();
        return validity;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void SetValid(ulong* validity, int row) => validity[row >> 6] |= 1UL << row;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void SetInvalid(ulong* validity, int row) => validity[row >> 6] &= ~(1UL << row);

    /// <summary>STRUCT(name type, …): DuckDB.NET's bindings lack duckdb_create_struct_type, so it is bound here from the loaded library.</summary>
    private static DuckDBLogicalType StructType(IReadOnlyList<DuckField> fields)
    {
        var children = new DuckDBLogicalType[fields.Count];
        var names = new IntPtr[fields.Count];
        try
        {
            var types = stackalloc IntPtr[fields.Count];
            for (var i = 0; i < fields.Count; i++)
            {
                children[i] = NativeMethods.LogicalType.DuckDBCreateLogicalType(fields[i].Type switch
                {
                    DuckFieldType.Varchar => DuckDBType.Varchar,
                    DuckFieldType.BigInt => DuckDBType.BigInt,
                    DuckFieldType.Double => DuckDBType.Double,
                    DuckFieldType.Boolean => DuckDBType.Boolean,
                    DuckFieldType.TimestampTz => DuckDBType.TimestampTz,
                    var other => throw new ArgumentOutOfRangeException(nameof(fields), other, "Unknown field type."),
                });
                types[i] = children[i].DangerousGetHandle();
                names[i] = Marshal.StringToCoTaskMemUTF8(fields[i].Name);
            }
            fixed (IntPtr* namePointers = names)
            {
                var create = (delegate* unmanaged[Cdecl]<IntPtr*, byte**, ulong, IntPtr>)CreateStructTypeExport.Value;
                var created = create(types, (byte**)namePointers, (ulong)fields.Count);
                if (created == IntPtr.Zero) throw new InvalidOperationException("DuckDB did not create the struct type.");
                var type = new DuckDBLogicalType();
                Marshal.InitHandle(type, created);
                return type;
            }
        }
        finally
        {
            foreach (var child in children) child?.Dispose();
            foreach (var name in names) Marshal.FreeCoTaskMem(name);
        }
    }

    /// <summary>duckdb_create_struct_type, from the libduckdb that DuckDB.NET's bindings loaded (the same probing, so the same library).</summary>
    private const string LibraryName = "duckdb";

    private static readonly Lazy<IntPtr> CreateStructTypeExport = new(() =>
        NativeLibrary.GetExport(NativeLibrary.Load(LibraryName, typeof(NativeMethods).Assembly, null), "duckdb_create_struct_type"));
}

/// <summary>DuckDB's string_t (also a BLOB's): a length, then the bytes inline (12 at most) or a 4-byte prefix and a pointer.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
internal unsafe struct DuckString
{
    internal const int InlineLength = 12;

    [FieldOffset(0)]
    internal uint Length;

    [FieldOffset(4)]
    internal fixed byte Inline[InlineLength];

    [FieldOffset(8)]
    internal byte* Pointer;

    /// <summary>The bytes of the string at <paramref name="s"/>: inside it when short, else where its pointer points.</summary>
    internal static ReadOnlySpan<byte> Bytes(DuckString* s) =>
        s->Length <= InlineLength ? new ReadOnlySpan<byte>(s->Inline, (int)s->Length) : new ReadOnlySpan<byte>(s->Pointer, checked((int)s->Length));
}
