using Lakehouse.Core;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Delta;

/// <summary>
/// The log events of Lakehouse.Delta, ids from <see cref="LogEventIds.Delta"/> (3000) up, stable once released. Named LogEvents, not Log,
/// because the assembly already has a namespace Lakehouse.Delta.Log (the transaction log). Lines name tables by location, never a secret.
/// </summary>
internal static partial class LogEvents
{
    [LoggerMessage(EventId = LogEventIds.Delta + 0, Level = LogLevel.Warning,
        Message = "Version {Version} of '{Table}' is committed, but writing its checkpoint failed ({Reason}); readers replay the commits instead, and the next checkpoint interval tries again.")]
    internal static partial void CheckpointFailed(ILogger logger, long version, string table, string reason, Exception exception);

    [LoggerMessage(EventId = LogEventIds.Delta + 1, Level = LogLevel.Warning,
        Message = "Could not delete {Count} data file(s) of '{Table}' that will never be committed, such as '{Path}' ({Reason}); they stay as orphans until VACUUM removes them after the retention period.")]
    internal static partial void OrphanCleanupFailed(ILogger logger, int count, string table, string path, string reason, Exception exception);

    [LoggerMessage(EventId = LogEventIds.Delta + 2, Level = LogLevel.Debug,
        Message = "{Operation} on '{Table}' lost the race for version {Version} to another writer; trying version {Next} (attempt {Attempt}).")]
    internal static partial void CommitRaceLost(ILogger logger, string operation, string table, long version, long next, int attempt);

    [LoggerMessage(EventId = LogEventIds.Delta + 3, Level = LogLevel.Debug,
        Message = "{Operation} on '{Table}' conflicted with a concurrent commit and runs again from the latest version (retry {Retry} of {Retries}): {Reason}")]
    internal static partial void ConflictRetry(ILogger logger, string operation, string table, int retry, int retries, string reason);

    [LoggerMessage(EventId = LogEventIds.Delta + 4, Level = LogLevel.Information,
        Message = "VACUUM of '{Table}' started at version {Version}: {Files} file(s) ({Bytes} bytes) older than {RetentionHours} hours and no longer referenced.")]
    internal static partial void VacuumStarted(ILogger logger, string table, long version, int files, long bytes, double retentionHours);

    [LoggerMessage(EventId = LogEventIds.Delta + 5, Level = LogLevel.Information,
        Message = "VACUUM of '{Table}' ended at version {Version}: deleted {Deleted} file(s) and {Folders} empty folder(s); kept {Kept} file(s) that commits made while it started refer to.")]
    internal static partial void VacuumEnded(ILogger logger, string table, long version, long deleted, int folders, int kept);

    [LoggerMessage(EventId = LogEventIds.Delta + 6, Level = LogLevel.Information,
        Message = "Deleted {Count} expired log file(s) of '{Table}': the log now starts at the checkpoint of version {Version}, the newest one older than the log retention (before {Cutoff:o}).")]
    internal static partial void ExpiredLogDeleted(ILogger logger, int count, string table, long version, DateTimeOffset cutoff);

    [LoggerMessage(EventId = LogEventIds.Delta + 7, Level = LogLevel.Warning,
        Message = "Deleting the expired log files of '{Table}' failed ({Reason}); the table is unharmed, and a later checkpoint tries again.")]
    internal static partial void ExpiredLogCleanupFailed(ILogger logger, string table, string reason, Exception exception);
}
