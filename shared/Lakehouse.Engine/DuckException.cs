using DuckDB.NET.Data;
using Lakehouse.Core;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Engine;

/// <summary>Turns DuckDB.NET's exceptions into the project's: LakehouseException (Engine) or OperationCanceledException.</summary>
internal static class DuckError
{
    /// <summary>"what: DuckDB's error" without the statement's text (DuckDB quotes it after a "LINE n:" marker); DuckDB's exception as inner.</summary>
    internal static LakehouseException Create(string what, DuckDBException e) =>
        new(LakehouseErrorReason.Engine, $"{what}: {WithoutStatementText(e.Message)}{Hint(e.Message)}", e);

    /// <summary>
    /// What DuckDB's own words leave out, for the errors a user meets: a Parquet data file gone between planning and reading it
    /// (a file the user named in <c>lakehouse sql</c>, read_json('x.ndjson'), that is not there gets no Delta hint).
    /// </summary>
    private static string Hint(string message) =>
        message.StartsWith("IO Error: No files found that match the pattern", StringComparison.Ordinal) &&
        message.Split('\n')[0].TrimEnd().TrimEnd('"').EndsWith(".parquet", StringComparison.OrdinalIgnoreCase)
            ? " (a data file the statement reads is gone: for a Delta table, a VACUUM with a retention shorter than the read, or a file deleted " +
              "by hand, removed a file that the version being read still names. Run again to read the newest version; if it stays, `lakehouse table check` " +
              "names the missing files.)"
            : "";

    /// <summary>
    /// An interrupt that was asked for (the token cancelled, or <see cref="DuckConnection.Interrupt"/> called during the statement)
    /// becomes cancellation; anything else <see cref="Create"/>. An interrupt nobody asked for is a failure, not a cancellation:
    /// under load DuckDB can end a statement whose parallel task failed with "interrupted" instead of that task's error, and a
    /// caller that took it for cancellation would stop quietly as if told to.
    /// </summary>
    internal static Exception Translate(Exception e, string what, ILogger? logger, bool interruptRequested, CancellationToken cancellationToken)
    {
        var interrupted = e is OperationCanceledException || (e is DuckDBException d && d.ErrorType == DuckDB.NET.Native.DuckDBErrorType.Interrupt);
        if (!interrupted) return Create(what, (DuckDBException)e);
        if (cancellationToken.IsCancellationRequested || interruptRequested)
        {
            if (logger is not null) Log.QueryInterrupted(logger, cancellationToken.IsCancellationRequested);
            return cancellationToken.IsCancellationRequested ? new OperationCanceledException("The DuckDB statement was cancelled.", e, cancellationToken) : new OperationCanceledException("The DuckDB statement was interrupted.", e);
        }
        return new LakehouseException(LakehouseErrorReason.Engine, $"{what}: {UnrequestedInterrupt}", e);
    }

    /// <summary>The message of an interrupt that neither a token nor <see cref="DuckConnection.Interrupt"/> asked for.</summary>
    internal const string UnrequestedInterrupt = "DuckDB stopped the statement as interrupted although nothing cancelled it; the statement did not complete (DuckDB can report this in place of the error of a parallel task).";

    /// <summary>DuckDB's message up to the context it appends: the "LINE n: ..." excerpt of the statement and its caret line.</summary>
    internal static string WithoutStatementText(string message)
    {
        var lines = message.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var kept = new List<string>();
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].StartsWith("LINE ", StringComparison.Ordinal))
            {
                i++; // and the caret line under it
                continue;
            }
            kept.Add(lines[i]);
        }
        while (kept.Count > 0 && kept[^1].Trim().Length == 0) kept.RemoveAt(kept.Count - 1);
        return string.Join('\n', kept);
    }
}
