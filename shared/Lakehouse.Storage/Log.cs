using Lakehouse.Core;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Storage;

/// <summary>The log events of Lakehouse.Storage (ids from <see cref="LogEventIds.Storage"/>). No line carries a URL query, key, SAS or token.</summary>
internal static partial class Log
{
    /// <summary>A request to Azure storage failed transiently and is being tried again (after the delay it waited).</summary>
    [LoggerMessage(EventId = LogEventIds.Storage + 0, EventName = "StorageRetry", Level = LogLevel.Warning,
        Message = "Retrying {Operation} of {Target}: try {Try} of {Tries}, after {Cause} and a wait of {DelayMs} ms")]
    public static partial void Retrying(ILogger logger, string operation, string target, int @try, int tries, string cause, long delayMs);

    /// <summary>The local download cache went over its size limit and deleted its least recently used copies.</summary>
    [LoggerMessage(EventId = LogEventIds.Storage + 1, EventName = "BlobCacheEvicted", Level = LogLevel.Debug,
        Message = "Blob cache {Folder} over its limit of {LimitBytes} bytes: deleted {Files} least recently used copies ({Bytes} bytes), {RemainingBytes} bytes left")]
    public static partial void CacheEvicted(ILogger logger, string folder, long limitBytes, int files, long bytes, long remainingBytes);
}
