using Microsoft.Extensions.Logging;

namespace Lakehouse.Bronze;

/// <summary>Bronze's log events (ids 5000–5999, see LogEventIds.Bronze).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 5000, Level = LogLevel.Debug, Message = "Committed bronze version {Version} of {Table}: {Rows} events, {Positions} source positions")]
    public static partial void Committed(ILogger logger, string table, long version, long rows, int positions);

    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Dropped {Events} buffered events of {Source}: their partitions now belong to another worker")]
    public static partial void DroppedRevoked(ILogger logger, string source, int events);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "A batch of {Events} events of {Source} was not committed and will be re-read from the table's positions: {Reason}")]
    public static partial void BatchConflict(ILogger logger, string source, int events, string reason);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Warning, Message = "Telling {Source} the committed positions failed (informational only; bronze holds the real positions)")]
    public static partial void AcknowledgeFailed(ILogger logger, string source, Exception exception);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Information, Message = "Compacted {Table} at version {Version}: {Removed} files into {Added}")]
    public static partial void Compacted(ILogger logger, string table, long version, long removed, long added);

    [LoggerMessage(EventId = 5005, Level = LogLevel.Information, Message = "Compaction of {Table} skipped: {Reason}")]
    public static partial void CompactionSkipped(ILogger logger, string table, string reason);

    // 5198–5199: the stream ingestor's repositioning rules (taken from the Kafka block 5100–5199 so no other block collides).
    [LoggerMessage(EventId = 5198, Level = LogLevel.Debug, Message = "Skipped {Events} events of {Source} partition {Partition} before offset {Position}: bronze already holds them")]
    public static partial void SkippedCommitted(ILogger logger, string source, string partition, long position, int events);

    [LoggerMessage(EventId = 5199, Level = LogLevel.Information, Message = "{Source} partition {Partition} was moved back to offset {Position}: dropped {Events} buffered events of it, which will be read again")]
    public static partial void DroppedRepositioned(ILogger logger, string source, string partition, long position, int events);
}
