using Microsoft.Extensions.Logging;

namespace Lakehouse.Core.Webhooks;

/// <summary>
/// The log events of <see cref="WebhookClient"/>. They keep the ids they were released with in gold's alert webhook
/// (<see cref="LogEventIds.Gold"/> + 100 to + 103; operators filter on them), whatever layer posts. No line carries the secret
/// or the endpoint's path or query: the endpoint is named by scheme, host and port.
/// </summary>
internal static partial class WebhookLog
{
    /// <summary>One try of posting a notification failed transiently; another follows after the wait.</summary>
    [LoggerMessage(EventId = LogEventIds.Gold + 100, EventName = "AlertWebhookRetry", Level = LogLevel.Information,
        Message = "{Kind} webhook {Endpoint}: {Item} {Id} try {Try} of {Tries} failed ({Cause}); trying again in {DelayMs} ms")]
    public static partial void Retrying(ILogger logger, string kind, string endpoint, string item, string id, int @try, int tries, string cause, long delayMs);

    /// <summary>A notification was not delivered: a permanent refusal, or every try failed.</summary>
    [LoggerMessage(EventId = LogEventIds.Gold + 101, EventName = "AlertWebhookAlertFailed", Level = LogLevel.Warning,
        Message = "{Kind} webhook {Endpoint}: {Item} {Id} ({Description}) not delivered after {Tries} tries: {Cause}")]
    public static partial void Failed(ILogger logger, string kind, string endpoint, string item, string id, string description, int tries, string cause);

    /// <summary>A post of several notifications ended with some not delivered.</summary>
    [LoggerMessage(EventId = LogEventIds.Gold + 102, EventName = "AlertWebhookIncomplete", Level = LogLevel.Warning,
        Message = "{Kind} webhook {Endpoint}: {Delivered} of {Total} {Items} delivered, {Failed} not ({NotTried} of them not tried because the endpoint stayed unavailable)")]
    public static partial void Incomplete(ILogger logger, string kind, string endpoint, int delivered, int total, string items, int failed, int notTried);

    /// <summary>A notification was delivered.</summary>
    [LoggerMessage(EventId = LogEventIds.Gold + 103, EventName = "AlertWebhookDelivered", Level = LogLevel.Debug,
        Message = "{Kind} webhook {Endpoint}: {Item} {Id} delivered on try {Try} (HTTP {Status})")]
    public static partial void Delivered(ILogger logger, string kind, string endpoint, string item, string id, int @try, int status);
}
