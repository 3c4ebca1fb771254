using Lakehouse.Core;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Serve;

/// <summary>
/// The server's log events: HTTP ingest 5550–5599 (of bronze's range, where it began); the dashboard from
/// <see cref="LogEventIds.Serve"/> (8000–8099).
/// </summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 5550, Level = LogLevel.Information, Message = "Listening on {Addresses}")]
    public static partial void Listening(ILogger logger, string addresses);

    [LoggerMessage(EventId = 5551, Level = LogLevel.Information, Message = "Stopping: no new requests; finishing {Queued} queued submissions")]
    public static partial void Stopping(ILogger logger, int queued);

    [LoggerMessage(EventId = 5552, Level = LogLevel.Information, Message = "Stopped: {Requests} ingest requests, {Events} events accepted in {Commits} commits")]
    public static partial void Stopped(ILogger logger, long requests, long events, long commits);

    [LoggerMessage(EventId = 5553, Level = LogLevel.Debug, Message = "Request {RequestId} to {Dataset}: {Status} {Detail}")]
    public static partial void Refused(ILogger logger, string requestId, string dataset, int status, string detail);

    [LoggerMessage(EventId = 5554, Level = LogLevel.Debug, Message = "Request {RequestId} to {Dataset}: the client went away before its body ended; nothing landed")]
    public static partial void ClientGone(ILogger logger, string requestId, string dataset, Exception exception);

    [LoggerMessage(EventId = 5555, Level = LogLevel.Debug, Message = "Request {RequestId}: {Events} events into bronze.{Dataset} at version {Version} ({Status})")]
    public static partial void Accepted(ILogger logger, string requestId, string dataset, int events, long version, Lakehouse.Bronze.BronzeSubmissionStatus status);

    [LoggerMessage(EventId = 5556, Level = LogLevel.Debug, Message = "Request {RequestId} to {Dataset}: overloaded ({Reason}); answered 503")]
    public static partial void Overloaded(ILogger logger, string requestId, string dataset, string reason);

    [LoggerMessage(EventId = 5557, Level = LogLevel.Error, Message = "Request {RequestId} to {Dataset}: the bronze commit failed; nothing of it was landed")]
    public static partial void CommitFailed(ILogger logger, string requestId, string dataset, Exception exception);

    [LoggerMessage(EventId = 5558, Level = LogLevel.Warning, Message = "The committed answer to request {RequestId} could not be sent: the client went away")]
    public static partial void AnswerLost(ILogger logger, string requestId, Exception exception);

    [LoggerMessage(EventId = 5559, Level = LogLevel.Warning, Message = "Request to {Dataset} refused 404: the lake's dataset definitions are not valid: {Problem}")]
    public static partial void DefinitionsNotValid(ILogger logger, string dataset, string problem);

    [LoggerMessage(EventId = 5560, Level = LogLevel.Warning, Message = "Request to {Dataset} answered 503: the lake's dataset definitions could not be read")]
    public static partial void DefinitionsUnreadable(ILogger logger, string dataset, Exception exception);

    [LoggerMessage(EventId = LogEventIds.Serve, Level = LogLevel.Debug, Message = "Dashboard: {Table} at version {Version} read for '{Query}': {Rows} rows in {Milliseconds} ms")]
    public static partial void DashboardQueried(ILogger logger, string table, long version, string query, int rows, long milliseconds);

    [LoggerMessage(EventId = LogEventIds.Serve + 1, Level = LogLevel.Warning, Message = "Dashboard: {Table} cannot be read; its panel shows why")]
    public static partial void DashboardTableBroken(ILogger logger, string table, Exception exception);

    [LoggerMessage(EventId = LogEventIds.Serve + 2, Level = LogLevel.Debug, Message = "Dashboard request to {Path} refused 400: {Detail}")]
    public static partial void DashboardRefused(ILogger logger, string path, string detail);
}
