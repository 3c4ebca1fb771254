using Lakehouse.Core;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Cli;

/// <summary><c>lakehouse stream</c>'s log events: <see cref="LogEventIds.Cli"/> + 600 to 699.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = LogEventIds.Cli + 600, Level = LogLevel.Information, Message = "Stream {RunId} of {Dataset} started: layers {Layers}, from {From}")]
    internal static partial void StreamStarted(ILogger logger, string runId, string dataset, string layers, string from);

    [LoggerMessage(EventId = LogEventIds.Cli + 601, Level = LogLevel.Debug, Message = "Stream batch {BatchId} of {Dataset}: {Rows} rows in {Milliseconds} ms")]
    internal static partial void StreamBatch(ILogger logger, long batchId, string dataset, long rows, long milliseconds);

    [LoggerMessage(EventId = LogEventIds.Cli + 602, Level = LogLevel.Information, Message = "Compacted {Table} at version {Version}: {Removed} small files into {Added}")]
    internal static partial void StreamCompacted(ILogger logger, string table, long version, long removed, long added);

    [LoggerMessage(EventId = LogEventIds.Cli + 603, Level = LogLevel.Information, Message = "Compaction of {Table} skipped (another writer committed first; the next one tries again): {Reason}")]
    internal static partial void StreamCompactionSkipped(ILogger logger, string table, string reason);

    [LoggerMessage(EventId = LogEventIds.Cli + 604, Level = LogLevel.Warning, Message = "The stream's progress could not be saved under _lakehouse/stream ({Reason}); lakehouse status shows an older one")]
    internal static partial void StreamProgressNotSaved(ILogger logger, string reason);

    [LoggerMessage(EventId = LogEventIds.Cli + 605, Level = LogLevel.Information, Message = "Stream {RunId} of {Dataset} stopping: the bronze batch being buffered is dropped (read again on restart); the silver or gold step running may commit for {GraceSeconds} s")]
    internal static partial void StreamStopping(ILogger logger, string runId, string dataset, double graceSeconds);

    [LoggerMessage(EventId = LogEventIds.Cli + 606, Level = LogLevel.Information, Message = "Stream of {Dataset}: the dataset has no gold outputs; the gold layer has nothing to do")]
    internal static partial void StreamNoGold(ILogger logger, string dataset);
}
