using Lakehouse.Core;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Pipelines.Adf;

/// <summary>Log messages of <c>adf deploy</c>: event ids 8800–8819 (LogEventIds.Pipelines + 300…319). No line carries a token or credential.</summary>
internal static partial class AdfDeployLog
{
    [LoggerMessage(EventId = LogEventIds.Pipelines + 300, EventName = "AdfDeployPut", Level = LogLevel.Information,
        Message = "PUT {ResourceId} (api-version {ApiVersion})")]
    internal static partial void Putting(ILogger logger, string resourceId, string apiVersion);

    [LoggerMessage(EventId = LogEventIds.Pipelines + 301, EventName = "AdfDeployRefused", Level = LogLevel.Debug,
        Message = "ARM refused PUT {ResourceId}: status {Status}, error code {ErrorCode}")]
    internal static partial void Refused(ILogger logger, string resourceId, int status, string errorCode);

    [LoggerMessage(EventId = LogEventIds.Pipelines + 302, EventName = "AdfDeployNoCredential", Level = LogLevel.Debug,
        Message = "No Azure credential could be had")]
    internal static partial void NoCredential(ILogger logger, Exception exception);
}
