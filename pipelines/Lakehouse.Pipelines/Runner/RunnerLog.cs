using Lakehouse.Core;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Pipelines.Runner;

/// <summary>Log messages of the local pipeline runner: event ids 8650–8749 (LogEventIds.Pipelines + 150…249).</summary>
internal static partial class RunnerLog
{
    [LoggerMessage(EventId = LogEventIds.Pipelines + 150, EventName = "PipelineRunStarted", Level = LogLevel.Information,
        Message = "Pipeline {Pipeline} run {RunId} started ({File})")]
    internal static partial void RunStarted(ILogger logger, string pipeline, string runId, string file);

    [LoggerMessage(EventId = LogEventIds.Pipelines + 151, EventName = "PipelineRunResumed", Level = LogLevel.Information,
        Message = "Pipeline {Pipeline} run {RunId} resumed: {Done} activities already finished are not run again")]
    internal static partial void RunResumed(ILogger logger, string pipeline, string runId, int done);

    [LoggerMessage(EventId = LogEventIds.Pipelines + 152, EventName = "PipelineRunEnded", Level = LogLevel.Information,
        Message = "Pipeline {Pipeline} run {RunId} ended {Status} in {ElapsedMs} ms")]
    internal static partial void RunEnded(ILogger logger, string pipeline, string runId, Lakehouse.Pipelines.State.RunStatus status, long elapsedMs);

    [LoggerMessage(EventId = LogEventIds.Pipelines + 153, EventName = "ActivityStarted", Level = LogLevel.Information,
        Message = "Activity {Activity} ({Type}) attempt {Attempt} started")]
    internal static partial void ActivityStarted(ILogger logger, string activity, string type, int attempt);

    [LoggerMessage(EventId = LogEventIds.Pipelines + 154, EventName = "ActivityEnded", Level = LogLevel.Information,
        Message = "Activity {Activity} attempt {Attempt} ended {Status} in {ElapsedMs} ms")]
    internal static partial void ActivityEnded(ILogger logger, string activity, int attempt, Lakehouse.Pipelines.State.RunStatus status, long elapsedMs);

    [LoggerMessage(EventId = LogEventIds.Pipelines + 155, EventName = "ActivityRetrying", Level = LogLevel.Warning,
        Message = "Activity {Activity} attempt {Attempt} of {Attempts} failed ({Error}); retrying in {DelaySeconds} s")]
    internal static partial void ActivityRetrying(ILogger logger, string activity, int attempt, int attempts, string error, double delaySeconds);

    [LoggerMessage(EventId = LogEventIds.Pipelines + 156, EventName = "ActivitySkipped", Level = LogLevel.Information,
        Message = "Activity {Activity} skipped: its dependency conditions were not met")]
    internal static partial void ActivitySkipped(ILogger logger, string activity);

    [LoggerMessage(EventId = LogEventIds.Pipelines + 157, EventName = "ActivityFromCheckpoint", Level = LogLevel.Information,
        Message = "Activity {Activity} finished {Status} before the resume: not run again")]
    internal static partial void ActivityFromCheckpoint(ILogger logger, string activity, Lakehouse.Pipelines.State.RunStatus status);

    [LoggerMessage(EventId = LogEventIds.Pipelines + 158, EventName = "ActivityOrphanKilled", Level = LogLevel.Warning,
        Message = "Activity {Activity}: the process {Pid} of the interrupted attempt was still running and was stopped before the activity runs again")]
    internal static partial void OrphanKilled(ILogger logger, string activity, int pid);

    [LoggerMessage(EventId = LogEventIds.Pipelines + 159, EventName = "ActivityTimedOut", Level = LogLevel.Warning,
        Message = "Activity {Activity} attempt {Attempt} timed out after {Timeout}; its process tree was stopped")]
    internal static partial void ActivityTimedOut(ILogger logger, string activity, int attempt, TimeSpan timeout);

    [LoggerMessage(EventId = LogEventIds.Pipelines + 160, EventName = "PipelineRunNotRecordedFailed", Level = LogLevel.Error,
        Message = "Pipeline {Pipeline} run {RunId} ended with an exception and could not be recorded Failed: {Error}")]
    internal static partial void RunNotRecordedFailed(ILogger logger, string pipeline, string runId, string error);



}
