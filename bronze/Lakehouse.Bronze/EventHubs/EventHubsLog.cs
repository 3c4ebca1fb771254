using Microsoft.Extensions.Logging;

namespace Lakehouse.Bronze.EventHubs;

/// <summary>The Event Hubs source's and sink's log events (ids 5200–5299 of bronze's 5000–5999).</summary>
internal static partial class EventHubsLog
{
    [LoggerMessage(EventId = 5200, Level = LogLevel.Information, Message = "Reading event hub {Hub} on {Namespace}, consumer group {ConsumerGroup}, as {Owner} ({Authentication}); partitions {Partitions}")]
    public static partial void Started(ILogger logger, string hub, string @namespace, string consumerGroup, string owner, string authentication, string partitions);

    [LoggerMessage(EventId = 5201, Level = LogLevel.Information, Message = "Reading partition {Partition} from {Position}")]
    public static partial void PartitionStarted(ILogger logger, string partition, string position);

    [LoggerMessage(EventId = 5202, Level = LogLevel.Information, Message = "Stopped reading partition {Partition}: {Reason}")]
    public static partial void PartitionStopped(ILogger logger, string partition, string reason);

    [LoggerMessage(EventId = 5203, Level = LogLevel.Information, Message = "Claimed partition {Partition} ({How})")]
    public static partial void PartitionClaimed(ILogger logger, string partition, string how);

    [LoggerMessage(EventId = 5204, Level = LogLevel.Information, Message = "Lost partition {Partition} to {Owner}")]
    public static partial void PartitionLost(ILogger logger, string partition, string owner);

    [LoggerMessage(EventId = 5205, Level = LogLevel.Warning, Message = "Receiving from partition {Partition} failed; retrying from sequence number {Position}")]
    public static partial void ReceiveFailed(ILogger logger, string partition, long? position, Exception exception);

    [LoggerMessage(EventId = 5206, Level = LogLevel.Warning, Message = "The ownership round failed; keeping the partitions held until the next round")]
    public static partial void OwnershipFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 5207, Level = LogLevel.Information, Message = "No lake to keep ownership leases in: this worker reads every partition of {Hub}")]
    public static partial void NoOwnership(ILogger logger, string hub);

    [LoggerMessage(EventId = 5208, Level = LogLevel.Debug, Message = "Sent {Events} events to {Hub} in {Batches} batches")]
    public static partial void Sent(ILogger logger, string hub, int events, int batches);

    [LoggerMessage(EventId = 5209, Level = LogLevel.Warning, Message = "Bronze's position {Position} in partition {Partition} of '{Hub}' is gone from the hub (the first event left is {Earliest}): {Lost} events were deleted by retention before they were ingested; reading goes on from there")]
    public static partial void EventsLost(ILogger logger, string hub, string partition, long position, long earliest, long lost);
}
