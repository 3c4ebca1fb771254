using Lakehouse.Core;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Cli;

/// <summary>The CLI's log events (ids from <see cref="LogEventIds.Cli"/>, stable once released).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = LogEventIds.Cli + 1, Level = LogLevel.Debug, Message = "Running '{Command}' on lake '{Lake}'")]
    internal static partial void CommandStarting(ILogger logger, string command, string lake);

    [LoggerMessage(EventId = LogEventIds.Cli + 2, Level = LogLevel.Debug, Message = "'{Command}' ended with exit code {ExitCode} after {Milliseconds} ms")]
    internal static partial void CommandEnded(ILogger logger, string command, int exitCode, long milliseconds);

    [LoggerMessage(EventId = LogEventIds.Cli + 3, Level = LogLevel.Debug, Message = "'{Command}' was stopped by a signal; exit code {ExitCode}")]
    internal static partial void Cancelled(ILogger logger, string command, int exitCode);

    [LoggerMessage(EventId = LogEventIds.Cli + 4, Level = LogLevel.Debug, Message = "Table '{Reference}' is '{Location}'")]
    internal static partial void TableResolved(ILogger logger, string reference, string location);

    [LoggerMessage(EventId = LogEventIds.Cli + 5, Level = LogLevel.Debug, Message = "Table '{Table}' cannot be listed: {Message}")]
    internal static partial void TableUnreadable(ILogger logger, string table, string message, Exception exception);

    [LoggerMessage(EventId = LogEventIds.Cli + 6, Level = LogLevel.Debug, Message = "'{Command}' failed with an exception the lakehouse does not anticipate (it reached the last-resort handler)")]
    internal static partial void Unexpected(ILogger logger, string command, Exception exception);

    [LoggerMessage(EventId = LogEventIds.Cli + 700, Level = LogLevel.Information, Message = "Checked table '{Table}' (deep: {Deep}): {Errors} error(s), {Others} warning(s) and note(s)")]
    internal static partial void TableChecked(ILogger logger, string table, bool deep, int errors, int others);
}
