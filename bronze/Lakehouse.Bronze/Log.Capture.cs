using Microsoft.Extensions.Logging;

namespace Lakehouse.Bronze;

/// <summary>Reconciling Event Hubs Capture files with the live stream (ids 5600–5649).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 5600, Level = LogLevel.Information, Message = "{Source} partition {Partition} starts at sequence number {Start}, after what Capture files landed in bronze (the live position was {Live}; -1: none)")]
    public static partial void StartAfterCapture(ILogger logger, string source, string partition, long start, long live);

    [LoggerMessage(EventId = 5601, Level = LogLevel.Debug, Message = "Dropped {Events} events of {Source}: bronze holds them from Capture files")]
    public static partial void SkippedHeldByCapture(ILogger logger, string source, long events);

    [LoggerMessage(EventId = 5602, Level = LogLevel.Debug, Message = "Capture file {File} (event hub {Hub}, partition {Partition}, sequence numbers {First}–{Last}): {Held} of its {Records} records are in bronze already")]
    public static partial void CaptureRecordsHeld(ILogger logger, string file, string hub, string partition, long first, long last, long held, long records);

    [LoggerMessage(EventId = 5603, Level = LogLevel.Warning, Message = "Capture file {File} does not show its namespace, event hub and partition in its path ({{Namespace}}/{{EventHub}}/{{PartitionId}}/{{Year}}/…) and no --capture-hub is given: it is landed without reconciling with the live stream")]
    public static partial void CaptureNotReconciled(ILogger logger, string file);

    [LoggerMessage(EventId = 5604, Level = LogLevel.Information, Message = "A Capture landing met a commit of the live stream or another landing on the same partitions; its records are checked against bronze again")]
    public static partial void CaptureReplanned(ILogger logger);
}
