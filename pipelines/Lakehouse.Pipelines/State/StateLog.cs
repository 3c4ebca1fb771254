using Lakehouse.Core;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Pipelines.State;

/// <summary>Log messages of the state stores: event ids 8600–8649 (LogEventIds.Pipelines + 100…149).</summary>
internal static partial class StateLog
{
    [LoggerMessage(EventId = LogEventIds.Pipelines + 100, EventName = "StateStoreOpened", Level = LogLevel.Debug,
        Message = "Pipeline state store opened: {Kind} at {Location}")]
    internal static partial void Opened(ILogger logger, string kind, string location);

    [LoggerMessage(EventId = LogEventIds.Pipelines + 101, EventName = "StateStoreConflict", Level = LogLevel.Information,
        Message = "Pipeline state: stale write refused for {What} '{Key}'")]
    internal static partial void Conflict(ILogger logger, string what, string key);

    [LoggerMessage(EventId = LogEventIds.Pipelines + 102, EventName = "StateFileClaimed", Level = LogLevel.Debug,
        Message = "Landed file {Path} claimed by run {RunId}")]
    internal static partial void FileClaimed(ILogger logger, string path, string runId);

    [LoggerMessage(EventId = LogEventIds.Pipelines + 103, EventName = "StateFileSeenBefore", Level = LogLevel.Debug,
        Message = "Landed file {Path} was claimed before by run {RunId}; nothing starts")]
    internal static partial void FileSeenBefore(ILogger logger, string path, string runId);

    [LoggerMessage(EventId = LogEventIds.Pipelines + 104, EventName = "StateCosmosContainerReady", Level = LogLevel.Debug,
        Message = "Cosmos DB container {Database}/{Container} ready")]
    internal static partial void CosmosContainerReady(ILogger logger, string database, string container);
}
