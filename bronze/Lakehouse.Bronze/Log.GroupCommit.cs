using Microsoft.Extensions.Logging;

namespace Lakehouse.Bronze;

/// <summary>The group committer's log events (ids 5500–5549 of bronze's range).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 5500, Level = LogLevel.Debug, Message = "Committed bronze version {Version} of {Table}: {Submissions} submissions, {Events} events in one group")]
    public static partial void GroupCommitted(ILogger logger, string table, long version, int submissions, int events);

    [LoggerMessage(EventId = 5501, Level = LogLevel.Error, Message = "A group commit to {Table} failed; its {Submissions} submissions ({Events} events) were not landed")]
    public static partial void GroupCommitFailed(ILogger logger, string table, int submissions, long events, Exception exception);

    [LoggerMessage(EventId = 5502, Level = LogLevel.Information, Message = "A group commit of {Submissions} submissions to {Table} conflicted and is planned again: {Reason}")]
    public static partial void GroupConflict(ILogger logger, string table, int submissions, string reason);

    [LoggerMessage(EventId = 5503, Level = LogLevel.Debug, Message = "Submission {Id} to {Table}: its idempotency key is in the table already ({Status})")]
    public static partial void KeyFound(ILogger logger, string table, string id, BronzeSubmissionStatus status);

    [LoggerMessage(EventId = 5504, Level = LogLevel.Information, Message = "Compacted {Table} at version {Version}: {Removed} files into {Added}")]
    public static partial void GroupCompacted(ILogger logger, string table, long version, long removed, long added);

    [LoggerMessage(EventId = 5505, Level = LogLevel.Warning, Message = "Compaction of {Table} failed; the table is unchanged and ingest goes on")]
    public static partial void GroupCompactionFailed(ILogger logger, string table, Exception exception);

    [LoggerMessage(EventId = 5506, Level = LogLevel.Warning,
        Message = "{Table} keeps every idempotency key for good ({Keys} held, two txns each, in every snapshot): it was created before keys expired. " +
                  "To forget them after 7 days: lakehouse table set-properties {Table} '{Property}=interval 7 days'")]
    public static partial void KeysNeverExpire(ILogger logger, string table, int keys, string property);

    [LoggerMessage(EventId = 5507, Level = LogLevel.Debug, Message = "Could not read {Table} to see whether it forgets idempotency keys")]
    public static partial void RetentionCheckFailed(ILogger logger, string table, Exception exception);
}
