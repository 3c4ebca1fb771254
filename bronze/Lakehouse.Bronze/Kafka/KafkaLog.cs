using Microsoft.Extensions.Logging;

namespace Lakehouse.Bronze.Kafka;

/// <summary>The Kafka source's and sink's log events (ids 5100–5199 of bronze's block). No message carries a secret.</summary>
internal static partial class KafkaLog
{
    [LoggerMessage(EventId = 5100, Level = LogLevel.Information, Message = "Reading {Connection} in consumer group '{Group}'")]
    public static partial void Connecting(ILogger logger, KafkaConnection connection, string group);

    [LoggerMessage(EventId = 5101, Level = LogLevel.Information, Message = "Assigned partition {Partition} of '{Topic}': starting at bronze's position, offset {Position}")]
    public static partial void Assigned(ILogger logger, string topic, string partition, long position);

    [LoggerMessage(EventId = 5110, Level = LogLevel.Information, Message = "Assigned partition {Partition} of '{Topic}': bronze holds no position for it, starting at the beginning")]
    public static partial void AssignedFromBeginning(ILogger logger, string topic, string partition);

    [LoggerMessage(EventId = 5113, Level = LogLevel.Warning, Message = "Partition {Partition} of '{Topic}': bronze holds no position for it and the first offset read is {First}, not 0: the broker no longer holds the events before it (retention or compaction deleted them before bronze first read the partition), so bronze will not have them")]
    public static partial void FirstStartPastZero(ILogger logger, string topic, string partition, long first);

    [LoggerMessage(EventId = 5102, Level = LogLevel.Information, Message = "Partitions {Partitions} of '{Topic}' were {How}: what was read of them and not committed is dropped")]
    public static partial void Revoked(ILogger logger, string topic, IReadOnlyList<string> partitions, string how);

    [LoggerMessage(EventId = 5103, Level = LogLevel.Warning, Message = "Bronze's position {Position} in partition {Partition} of '{Topic}' is before the first offset the broker still holds ({Earliest}): {Lost} events were deleted by retention before they were ingested; reading goes on from the earliest offset left")]
    public static partial void PositionExpired(ILogger logger, string topic, string partition, long position, long earliest, long lost);

    [LoggerMessage(EventId = 5104, Level = LogLevel.Debug, Message = "Moved partition {Partition} of '{Topic}' to offset {Position} (null: the beginning)")]
    public static partial void Sought(ILogger logger, string topic, string partition, long? position);

    [LoggerMessage(EventId = 5105, Level = LogLevel.Debug, Message = "Committing offsets of '{Topic}' to the group failed (informational only: bronze holds the positions): {Reason}")]
    public static partial void GroupCommitFailed(ILogger logger, string topic, string reason);

    [LoggerMessage(EventId = 5106, Level = LogLevel.Warning, Message = "Kafka client error ({Code}): {Reason}")]
    public static partial void ClientError(ILogger logger, string code, string reason);

    [LoggerMessage(EventId = 5107, Level = LogLevel.Debug, Message = "librdkafka {Facility}: {Message}")]
    public static partial void ClientLog(ILogger logger, string facility, string message);

    [LoggerMessage(EventId = 5108, Level = LogLevel.Warning, Message = "librdkafka {Facility}: {Message}")]
    public static partial void ClientWarning(ILogger logger, string facility, string message);

    [LoggerMessage(EventId = 5109, Level = LogLevel.Information, Message = "End offsets of '{Topic}' at start (--once reads up to them): {Ends}")]
    public static partial void EndOffsets(ILogger logger, string topic, IReadOnlyDictionary<int, long> ends);

    [LoggerMessage(EventId = 5111, Level = LogLevel.Debug, Message = "Paused fetching '{Topic}': {Buffered} messages are read ahead of the ingestor")]
    public static partial void Paused(ILogger logger, string topic, int buffered);

    [LoggerMessage(EventId = 5112, Level = LogLevel.Debug, Message = "Resumed fetching '{Topic}': {Buffered} messages are read ahead of the ingestor")]
    public static partial void Resumed(ILogger logger, string topic, int buffered);

    [LoggerMessage(EventId = 5120, Level = LogLevel.Information, Message = "Sending to {Connection} (acks=all, idempotent)")]
    public static partial void SinkConnecting(ILogger logger, KafkaConnection connection);
}
