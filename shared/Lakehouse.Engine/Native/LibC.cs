using System.Runtime.InteropServices;

namespace Lakehouse.Engine.Native;

/// <summary>The one libc call the engine needs: mkfifo, so DuckDB can stream COPY output into a pipe the process reads.</summary>
internal static partial class LibC
{
    [LibraryImport("libc", EntryPoint = "mkfifo", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int MkFifo(string path, uint mode);
}
