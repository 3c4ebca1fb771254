using Microsoft.Extensions.Logging;

namespace Lakehouse.Bronze;

/// <summary>The landing-zone ingest's log events (ids 5300–5399).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 5300, Level = LogLevel.Debug, Message = "Committed {Files} landing files ({Events} events) to bronze at version {Version}")]
    public static partial void LandingCommitted(ILogger logger, int files, long events, long version);

    [LoggerMessage(EventId = 5301, Message = "Landing file {File} is not ingested: {Reason}")]
    public static partial void LandingFileFailed(ILogger logger, LogLevel level, string file, string reason);

    [LoggerMessage(EventId = 5302, Level = LogLevel.Information, Message = "Landing file {File} changed while it was read; it is read again once it has settled")]
    public static partial void ChangedWhileRead(ILogger logger, string file);

    [LoggerMessage(EventId = 5303, Level = LogLevel.Warning, Message = "A batch of {Files} landing files met another ingest's commit; the files it committed are taken out and the rest committed: {Reason}")]
    public static partial void LandingConflict(ILogger logger, int files, string reason);

    [LoggerMessage(EventId = 5304, Level = LogLevel.Debug, Message = "Looked at {Landing}: {Candidates} files to ingest, {Skipped} already in bronze, {Pending} still being written")]
    public static partial void LandingPoll(ILogger logger, string landing, int candidates, int skipped, long pending);
}
