using System.Runtime.InteropServices;

namespace Lakehouse.Engine.Native;

/// <summary>
/// The libc calls the engine needs: mkfifo, so DuckDB can stream COPY output into a pipe the process reads; isatty, to know
/// whether DuckDB may write standard output directly.
/// </summary>
internal static partial class LibC
{
    [LibraryImport("libc", EntryPoint = "isatty")]
    internal static partial int IsATty(int fd);

    [LibraryImport("libc", EntryPoint = "mkfifo", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int MkFifo(string path, uint mode);
}
