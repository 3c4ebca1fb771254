using Microsoft.Extensions.Logging;

namespace Lakehouse.Bronze.Simulator;

/// <summary>The simulator's log events (ids 5400–5499 of bronze's 5000–5999).</summary>
internal static partial class SimulatorLog
{
    [LoggerMessage(EventId = 5400, Level = LogLevel.Warning, Message = "POST {Url} answered {Status}; sending the batch of {Events} events again in {DelayMs} ms (attempt {Attempt} of {Attempts})")]
    public static partial void HttpRetry(ILogger logger, string url, int status, int events, long delayMs, int attempt, int attempts);

    [LoggerMessage(EventId = 5401, Level = LogLevel.Warning, Message = "POST {Url} failed ({Reason}); sending the batch of {Events} events again in {DelayMs} ms (attempt {Attempt} of {Attempts})")]
    public static partial void HttpRetryAfterError(ILogger logger, string url, string reason, int events, long delayMs, int attempt, int attempts);

    [LoggerMessage(EventId = 5402, Level = LogLevel.Debug, Message = "POST {Url}: the server had landed this batch before (Idempotency-Key {Key}); nothing landed twice")]
    public static partial void HttpReplayed(ILogger logger, string url, string key);

    [LoggerMessage(EventId = 5403, Level = LogLevel.Debug, Message = "Wrote {File}: {Events} events, {Bytes} bytes")]
    public static partial void FileWritten(ILogger logger, string file, long events, long bytes);

}
