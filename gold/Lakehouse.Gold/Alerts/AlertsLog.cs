using Lakehouse.Core;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Gold.Alerts;

/// <summary>
/// The log events of the alert webhook (ids <see cref="LogEventIds.Gold"/> + 100 to + 199). No line carries the secret or the
/// endpoint's path or query: the endpoint is named by scheme, host and port.
/// </summary>
internal static partial class AlertsLog
{
    /// <summary>One try of posting an alert failed transiently; another follows after the wait.</summary>
    [LoggerMessage(EventId = LogEventIds.Gold + 100, EventName = "AlertWebhookRetry", Level = LogLevel.Information,
        Message = "Alert webhook {Endpoint}: alert {AlertId} try {Try} of {Tries} failed ({Cause}); trying again in {DelayMs} ms")]
    public static partial void Retrying(ILogger logger, string endpoint, string alertId, int @try, int tries, string cause, long delayMs);

    /// <summary>An alert was not delivered: a permanent refusal, or every try failed.</summary>
    [LoggerMessage(EventId = LogEventIds.Gold + 101, EventName = "AlertWebhookAlertFailed", Level = LogLevel.Warning,
        Message = "Alert webhook {Endpoint}: alert {AlertId} ({Rule} for {Key}) not delivered after {Tries} tries: {Cause}")]
    public static partial void AlertFailed(ILogger logger, string endpoint, string alertId, string rule, string key, int tries, string cause);

    /// <summary>A post of several alerts ended with some not delivered.</summary>
    [LoggerMessage(EventId = LogEventIds.Gold + 102, EventName = "AlertWebhookIncomplete", Level = LogLevel.Warning,
        Message = "Alert webhook {Endpoint}: {Delivered} of {Total} alerts delivered, {Failed} not ({NotTried} of them not tried because the endpoint stayed unavailable)")]
    public static partial void Incomplete(ILogger logger, string endpoint, int delivered, int total, int failed, int notTried);

    /// <summary>An alert was delivered.</summary>
    [LoggerMessage(EventId = LogEventIds.Gold + 103, EventName = "AlertWebhookDelivered", Level = LogLevel.Debug,
        Message = "Alert webhook {Endpoint}: alert {AlertId} delivered on try {Try} (HTTP {Status})")]
    public static partial void Delivered(ILogger logger, string endpoint, string alertId, int @try, int status);
}
