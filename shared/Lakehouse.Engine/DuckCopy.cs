using System.Runtime.InteropServices;
using Lakehouse.Core;
using Lakehouse.Engine.Native;

namespace Lakehouse.Engine;

/// <summary>
/// Streams DuckDB's own writers (CSV, JSON lines) into a .NET stream. DuckDB cannot be pointed at /dev/stdout safely: it
/// reopens and truncates the file behind it. Instead it writes into a named pipe in the engine's scratch folder that a
/// reader task copies to the destination, so output goes exactly where the process's stream goes.
/// </summary>
public static class DuckCopy
{
    private static readonly TimeSpan ReaderGrace = TimeSpan.FromSeconds(5);

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
