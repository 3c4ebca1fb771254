using System.Globalization;
using System.Text.Json;
using Lakehouse.Core.Webhooks;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Gold.Alerts;

/// <summary>
/// Posts alerts to a webhook as JSON, one request per alert, and never lets a failing receiver fail or stall the pipeline
/// for long: delivery problems are returned (and logged as warnings), not thrown.
/// </summary>
/// <remarks>
/// <para>
/// Each request is <c>POST</c> with <c>Content-Type: application/json</c>, an <c>Idempotency-Key</c> header equal to the alert's
/// id, the secret header when one is configured, and a body of the alert's columns:
/// <c>{"alert_id", "rule", "key", "window_start", "window_end", "value", "threshold", "message", "event_date", "detected_at"}</c>
/// (times ISO-8601 UTC with microseconds, <c>2026-03-01T10:00:00.000000Z</c>; the date <c>yyyy-MM-dd</c>). Delivery is at least once: a retry after a lost answer posts the same
/// alert again, so receivers dedupe on <c>alert_id</c>. One request per alert keeps the outcome of each alert exact.
/// </para>
/// <para>
/// Retries follow <see cref="WebhookClient"/> (the shared mechanism, also silver's): a try that fails on the network, runs past <see cref="WebhookOptions.Timeout"/>, or gets 408, 429 or 5xx is retried
/// after an exponential, jittered wait, or after the server's <c>Retry-After</c> when it sends one (a server asking for more than
/// <see cref="WebhookOptions.MaxDelay"/> is not retried). Any other status below 200 or from 300 up (redirects are not
/// followed, so the secret never goes elsewhere) fails that alert at once; the next alerts are still posted. When an alert has
/// used all its tries on transient failures the endpoint is taken as down and the remaining alerts are not tried (reported
/// with 0 attempts), so one call costs at most about MaxAttempts × (Timeout + MaxDelay).
/// </para>
/// </remarks>
public sealed class AlertWebhook : IDisposable
{
    private readonly WebhookClient _client;

    /// <summary>Creates a webhook client for <paramref name="options"/> (copied: later changes to them have no effect).</summary>
    /// <exception cref="ArgumentException">The options have no URL, or a MaxDelay shorter than BaseDelay.</exception>
    public AlertWebhook(WebhookOptions options, ILogger<AlertWebhook>? logger = null)
    {
        _client = new WebhookClient(options, logger, "Alert", "alert", "lakehouse-gold");
    }

    /// <summary>
    /// Posts each alert in order (see the class remarks) and says which were delivered. Never throws for a delivery problem.
    /// </summary>
    /// <param name="alerts">The alerts to post; may be empty.</param>
    /// <param name="cancellationToken">Stops the posting (between tries or during one).</param>
    /// <returns>The delivered alerts and the failed ones with their reasons.</returns>
    /// <exception cref="ArgumentException"><paramref name="alerts"/> holds a null (nothing is posted).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task<WebhookDelivery> PostAsync(IReadOnlyList<Alert> alerts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(alerts);
        if (alerts.Any(a => a is null)) throw new ArgumentException("The list of alerts holds a null.", nameof(alerts));
        var outcomes = await _client.PostAsync([.. alerts.Select(a => new WebhookMessage(a.AlertId, $"{a.Rule} for {a.Key}", Json(a)))], cancellationToken).ConfigureAwait(false);
        var delivered = new List<Alert>(alerts.Count);
        var failed = new List<WebhookFailure>();
        for (var i = 0; i < alerts.Count; i++)
        {
            if (outcomes[i].Delivered) delivered.Add(alerts[i]);
            else failed.Add(new WebhookFailure(alerts[i], outcomes[i].Reason!, outcomes[i].Attempts, outcomes[i].StatusCode));
        }
        return new WebhookDelivery(delivered, failed);
    }

    /// <summary>The alert as the JSON body (times ISO-8601 UTC; a value that is not a finite number as null).</summary>
    internal static byte[] Json(Alert alert)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("alert_id", alert.AlertId);
            json.WriteString("rule", alert.Rule);
            json.WriteString("key", alert.Key);
            json.WriteString("window_start", Utc(alert.WindowStart));
            json.WriteString("window_end", Utc(alert.WindowEnd));
            Number("value", alert.Value);
            Number("threshold", alert.Threshold);
            json.WriteString("message", alert.Message);
            json.WriteString("event_date", alert.EventDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            json.WriteString("detected_at", Utc(alert.DetectedAt));
            json.WriteEndObject();

            void Number(string name, double value)
            {
                if (double.IsFinite(value)) json.WriteNumber(name, value);
                else json.WriteNull(name);
            }
        }
        return buffer.ToArray();
    }

    /// <summary>ISO-8601 UTC with microseconds, as in the alert id: <c>2026-03-01T10:00:00.000000Z</c>.</summary>
    private static string Utc(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    /// <summary>Closes the connections.</summary>
    public void Dispose() => _client.Dispose();
}
