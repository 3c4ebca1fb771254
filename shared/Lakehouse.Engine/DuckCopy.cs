using System.Runtime.InteropServices;
using Lakehouse.Core;
using Lakehouse.Engine.Native;

namespace Lakehouse.Engine;

/// <summary>
/// Streams DuckDB's own writers (CSV, JSON lines) into a .NET stream or the process's standard output. DuckDB reopens the file it
/// is given and truncates it, so it writes a regular file (a <c>&gt;</c> or <c>&gt;&gt;</c> redirection) only through a named
/// pipe in the engine's scratch folder that a reader task copies to the destination. A pipe, a terminal or /dev/null behind
/// standard output is opened anew without harm, and DuckDB writes it directly, one copy of every byte fewer.
/// </summary>
public static class DuckCopy
{
    private static readonly TimeSpan ReaderGrace = TimeSpan.FromSeconds(5);

    /// <summary>What DuckDB opens to write the process's standard output directly.</summary>
    internal const string StandardOutputPath = "/dev/stdout";

    /// <summary>
    /// Runs <c>COPY (query) TO stdout (options)</c>: directly when standard output is a pipe, a terminal or /dev/null (and the
    /// engine is not sandboxed, which allows no such path), else through <see cref="CopyToStreamAsync"/>. Flush what .NET
    /// buffered for standard output first. An error part-way is thrown after the rows before it were written; a reader that
    /// closed the pipe early (<c>| head</c>) ends the copy quietly, as when the rows go through the named pipe. Cancelling
    /// interrupts DuckDB.
    /// </summary>
    public static async Task CopyToStandardOutputAsync(this DuckConnection connection, string query, string copyOptions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (connection.Engine.IsSandboxed || !StandardOutputTakesDirectWrites())
        {
            await CopyThroughStreamAsync(connection, query, copyOptions, cancellationToken).ConfigureAwait(false);
            return;
        }
        try
        {
            connection.Execute($"COPY ({query}) TO {SqlText.Literal(StandardOutputPath)} ({copyOptions}, USE_TMP_FILE false)", cancellationToken);
        }
        catch (LakehouseException e) when (!cancellationToken.IsCancellationRequested && IsBrokenPipe(e))
        {
            Log.OutputClosedByReader(connection.Logger);
        }
        catch (LakehouseException e) when (!cancellationToken.IsCancellationRequested && CouldNotOpen(e))
        {
            // Nothing was written (a pipe of another user, say): the named pipe takes the rows instead.
            await CopyThroughStreamAsync(connection, query, copyOptions, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The copy through <see cref="CopyToStreamAsync"/> into standard output. A pipe is written through a stream of its own on file
    /// descriptor 1, not <see cref="Console.OpenStandardOutput()"/>, whose writes ignore a reader that has gone (EPIPE): with it,
    /// <c>lakehouse sql … --format csv | head</c> ran the whole query to its end, writing into nothing. Here the first write after
    /// the reader left fails, the named pipe closes, DuckDB's next write fails, and the copy ends quietly.
    /// </summary>
    private static async Task CopyThroughStreamAsync(DuckConnection connection, string query, string copyOptions, CancellationToken cancellationToken)
    {
        using var stdout = StandardOutputIsPipe()
            ? new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(1, ownsHandle: false), FileAccess.Write, bufferSize: 0)
            : Console.OpenStandardOutput();
        try
        {
            await connection.CopyToStreamAsync(query, copyOptions, stdout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when ((e is LakehouseException or IOException) && !cancellationToken.IsCancellationRequested && IsBrokenPipe(e))
        {
            Log.OutputClosedByReader(connection.Logger);
        }
    }

    /// <summary>True when file descriptor 1 is a pipe (Linux: its /proc link says so).</summary>
    private static bool StandardOutputIsPipe() => StandardOutputTarget()?.StartsWith("pipe:", StringComparison.Ordinal) == true;

    /// <summary>What file descriptor 1 is, from its /proc link: "pipe:[inode]", "socket:[inode]", or a path; null where unknown.</summary>
    private static string? StandardOutputTarget()
    {
        if (!OperatingSystem.IsLinux()) return null;
        try
        {
            return new FileInfo("/proc/self/fd/1").LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static bool CouldNotOpen(Exception e)
    {
        for (var x = e; x is not null; x = x.InnerException)
            if (x.Message.Contains($"Cannot open file \"{StandardOutputPath}\"", StringComparison.Ordinal)) return true;
        return false;
    }

    /// <summary>
    /// True when file descriptor 1 is a pipe, a terminal or /dev/null (Linux: its /proc link says so), which DuckDB can open
    /// again and write from where it is. False for a regular file, a socket, or where /proc is missing.
    /// </summary>
    internal static bool StandardOutputTakesDirectWrites() =>
        StandardOutputTarget() is { } target && (target.StartsWith("pipe:", StringComparison.Ordinal) || target == "/dev/null" || LibC.IsATty(1) == 1);

    private static bool IsBrokenPipe(Exception e)
    {
        for (var x = e; x is not null; x = x.InnerException)
            if (x.Message.Contains("Broken pipe", StringComparison.Ordinal)) return true;
        return false;
    }

    /// <summary>
    /// Runs <c>COPY (query) TO pipe (options)</c> and copies the bytes into <paramref name="destination"/>. When DuckDB fails
    /// part-way, what it wrote before the error has reached the destination, and the error is thrown; the pipe never blocks the
    /// caller. Cancelling interrupts DuckDB.
    /// </summary>
    public static async Task CopyToStreamAsync(this DuckConnection connection, string query, string copyOptions, Stream destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(destination);
        var fifo = Path.Combine(connection.Engine.ScratchDirectory("fifo"), Guid.NewGuid().ToString("N"));
        if (LibC.MkFifo(fifo, Convert.ToUInt32("600", 8)) != 0)
            throw new LakehouseException(LakehouseErrorReason.Engine, $"mkfifo failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}.");
        try
        {
            var reader = Task.Run(async () =>
            {
                var pipe = new FileStream(fifo, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16, useAsync: false);
                await using (pipe.ConfigureAwait(false))
                {
                    await pipe.CopyToAsync(destination, 1 << 16, CancellationToken.None).ConfigureAwait(false);
                }
            }, CancellationToken.None);
            try
            {
                connection.Execute($"COPY ({query}) TO {SqlText.Literal(fifo)} ({copyOptions}, USE_TMP_FILE false)", cancellationToken);
            }
            catch
            {
                // DuckDB failed before opening the pipe (the reader waits in open) or after closing it (the reader is done). Opening
                // the pipe read-write never blocks, and gives a waiting reader a writer that closes at once: end of file.
                using (File.OpenHandle(fifo, FileMode.Open, FileAccess.ReadWrite))
                {
                }
                if (await Task.WhenAny(reader, Task.Delay(ReaderGrace, CancellationToken.None)).ConfigureAwait(false) == reader) await reader.ConfigureAwait(false);
                else Log.CopyReaderAbandoned(connection.Logger, (int)ReaderGrace.TotalSeconds);
                throw;
            }
            await reader.ConfigureAwait(false);
            await destination.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            File.Delete(fifo);
        }
    }
}
