using System.Runtime.InteropServices;
using Lakehouse.Core;
using Lakehouse.Engine.Native;

namespace Lakehouse.Engine;

/// <summary>
/// Streams DuckDB's own writers (CSV, JSON lines) into a .NET stream. DuckDB cannot be pointed at /dev/stdout
/// safely: it reopens and truncates the file behind it. Instead it writes into a named pipe that a reader task
/// copies to the destination, so output goes exactly where the process's stream goes.
/// </summary>
public static class DuckCopy
{
    /// <summary>Runs <c>COPY (query) TO pipe (options)</c> and copies the bytes into <paramref name="destination"/>.</summary>
    public static async Task CopyToStreamAsync(this DuckConnection connection, string query, string copyOptions, Stream destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(destination);
        var folder = Path.Combine(Path.GetTempPath(), "lakehouse-fifo");
        Directory.CreateDirectory(folder);
        var fifo = Path.Combine(folder, Guid.NewGuid().ToString("N"));
        if (LibC.MkFifo(fifo, Convert.ToUInt32("600", 8)) != 0)
            throw new LakehouseException(LakehouseErrorReason.Engine, $"mkfifo failed with errno {Marshal.GetLastPInvokeError()}.");
        try
        {
            var reader = Task.Run(async () =>
            {
                await using var pipe = new FileStream(fifo, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16, useAsync: false);
                await pipe.CopyToAsync(destination, 1 << 16, cancellationToken).ConfigureAwait(false);
            }, cancellationToken);
            try
            {
                connection.Execute($"COPY ({query}) TO {SqlText.Literal(fifo)} ({copyOptions}, USE_TMP_FILE false)");
            }
            catch
            {
                // DuckDB failed before or while writing: open the write end once so the reader sees end-of-file.
                using (new FileStream(fifo, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
                {
                }
                await reader.ConfigureAwait(false);
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
