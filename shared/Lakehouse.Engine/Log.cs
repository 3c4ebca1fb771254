using Lakehouse.Core;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Engine;

/// <summary>The engine's log events (ids from <see cref="LogEventIds.Engine"/>).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = LogEventIds.Engine, Level = LogLevel.Debug,
        Message = "DuckDB {Version} opened: threads {Threads} (0 = all cores), memory limit {MemoryLimit}, sandboxed {Sandboxed}")]
    internal static partial void EngineOpened(ILogger logger, string version, int threads, string memoryLimit, bool sandboxed);

    [LoggerMessage(EventId = LogEventIds.Engine + 1, Level = LogLevel.Debug, Message = "A DuckDB statement was interrupted (cancelled by its caller: {Cancelled})")]
    internal static partial void QueryInterrupted(ILogger logger, bool cancelled);

    [LoggerMessage(EventId = LogEventIds.Engine + 2, Level = LogLevel.Warning,
        Message = "The reader of a failed COPY did not finish within {Seconds} s; it was abandoned")]
    internal static partial void CopyReaderAbandoned(ILogger logger, int seconds);

    [LoggerMessage(EventId = LogEventIds.Engine + 3, Level = LogLevel.Debug, Message = "Standard output was closed by its reader; the COPY to it ended early")]
    internal static partial void OutputClosedByReader(ILogger logger);
}
