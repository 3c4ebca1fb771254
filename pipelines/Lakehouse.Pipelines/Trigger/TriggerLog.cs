using Lakehouse.Core;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Pipelines.Trigger;

/// <summary>Log messages of the local trigger (<c>lakehouse watch</c>): event ids 8750–8769 (LogEventIds.Pipelines + 250…269).</summary>
internal static partial class TriggerLog
{
    [LoggerMessage(EventId = LogEventIds.Pipelines + 250, EventName = "WatchStarted", Level = LogLevel.Information,
        Message = "Watching {Root} (container {Container}) for {Pipeline}; a batch starts a run once its files are unchanged for {SettleSeconds} s")]
    internal static partial void Watching(ILogger logger, string root, string container, string pipeline, double settleSeconds);

    [LoggerMessage(EventId = LogEventIds.Pipelines + 251, EventName = "WatchSettling", Level = LogLevel.Debug,
        Message = "{Pending} new files, {Unsettled} still changing")]
    internal static partial void Settling(ILogger logger, int pending, int unsettled);

    [LoggerMessage(EventId = LogEventIds.Pipelines + 252, EventName = "WatchFileSeenBefore", Level = LogLevel.Information,
        Message = "{Path} was claimed before (by {ClaimId}); it starts nothing")]
    internal static partial void SeenBefore(ILogger logger, string path, string claimId);

    [LoggerMessage(EventId = LogEventIds.Pipelines + 253, EventName = "WatchRunStarting", Level = LogLevel.Information,
        Message = "{Files} settled files in {FolderPath}: starting the pipeline (claim {ClaimId})")]
    internal static partial void Starting(ILogger logger, int files, string folderPath, string claimId);

    [LoggerMessage(EventId = LogEventIds.Pipelines + 254, EventName = "WatchRunEnded", Level = LogLevel.Information,
        Message = "The run of claim {ClaimId} ended with exit code {ExitCode}")]
    internal static partial void RunEnded(ILogger logger, string claimId, int exitCode);

    [LoggerMessage(EventId = LogEventIds.Pipelines + 255, EventName = "WatchWatcherError", Level = LogLevel.Warning,
        Message = "File system events lost ({Message}); the periodic listing goes on finding files")]
    internal static partial void WatcherError(ILogger logger, string message);

    [LoggerMessage(EventId = LogEventIds.Pipelines + 256, EventName = "WatchFileUnclaimable", Level = LogLevel.Warning,
        Message = "{Path} starts nothing: its name cannot be recorded in the state store ({Reason}); rename it to have it taken")]
    internal static partial void Unclaimable(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = LogEventIds.Pipelines + 257, EventName = "WatchRunResuming", Level = LogLevel.Warning,
        Message = "Run {RunId} of an earlier watch did not finish ({Status}: the watch or the run was stopped or killed); resuming it, since its files are claimed and start nothing again")]
    internal static partial void Resuming(ILogger logger, string runId, Lakehouse.Pipelines.State.RunStatus status);
}
