using DuckDB.NET.Data;
using Lakehouse.Core;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Engine;

/// <summary>Turns DuckDB.NET's exceptions into the project's: LakehouseException (Engine) or OperationCanceledException.</summary>
internal static class DuckError
{
    /// <summary>"what: DuckDB's error" without the statement's text (DuckDB quotes it after a "LINE n:" marker); DuckDB's exception as inner.</summary>
    internal static LakehouseException Create(string what, DuckDBException e) =>
        new(LakehouseErrorReason.Engine, $"{what}: {WithoutStatementText(e.Message)}", e);

    /// <summary>An interrupt becomes cancellation (of <paramref name="cancellationToken"/> when it was the cause); anything else <see cref="Create"/>.</summary>
    internal static Exception Translate(Exception e, string what, ILogger? logger, CancellationToken cancellationToken)
    {
        var interrupted = e is OperationCanceledException || (e is DuckDBException d && d.ErrorType == DuckDB.NET.Native.DuckDBErrorType.Interrupt);
        if (interrupted)
        {
            if (logger is not null) Log.QueryInterrupted(logger, cancellationToken.IsCancellationRequested);
            return cancellationToken.IsCancellationRequested ? new OperationCanceledException("The DuckDB statement was cancelled.", e, cancellationToken) : new OperationCanceledException("The DuckDB statement was interrupted.", e);
        }
        return Create(what, (DuckDBException)e);
    }

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
