using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

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
/// A try that fails on the network, runs past <see cref="AlertWebhookOptions.Timeout"/>, or gets 408, 429 or 5xx is retried
/// after an exponential, jittered wait, or after the server's <c>Retry-After</c> when it sends one (a server asking for more than
/// <see cref="AlertWebhookOptions.MaxDelay"/> is not retried). Any other status below 200 or from 300 up (redirects are not
/// followed, so the secret never goes elsewhere) fails that alert at once; the next alerts are still posted. When an alert has
/// used all its tries on transient failures the endpoint is taken as down and the remaining alerts are not tried (reported
/// with 0 attempts), so one call costs at most about MaxAttempts × (Timeout + MaxDelay).
/// </para>
/// </remarks>
public sealed class AlertWebhook : IDisposable
{
    private readonly AlertWebhookOptions _options;
    private readonly ILogger _logger;
    private readonly HttpClient _http;
    private readonly string _endpoint;

    /// <summary>Creates a webhook client for <paramref name="options"/> (copied: later changes to them have no effect).</summary>
    /// <exception cref="ArgumentException">The options have no URL, or a MaxDelay shorter than BaseDelay.</exception>
    public AlertWebhook(AlertWebhookOptions options, ILogger<AlertWebhook>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options.Clone();
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _endpoint = _options.EndpointForLogs;
        _http = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            ConnectTimeout = _options.Timeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            UseCookies = false,
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
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
        var delivered = new List<Alert>(alerts.Count);
        var failed = new List<WebhookFailure>();
        var notTried = 0;
        string? downBecause = null;
        foreach (var alert in alerts)
        {
            if (downBecause is not null)
            {
                failed.Add(new WebhookFailure(alert, $"not tried: the endpoint stayed unavailable for an earlier alert ({downBecause})", 0, null));
                notTried++;
                continue;
            }
            var outcome = await PostOneAsync(alert, cancellationToken).ConfigureAwait(false);
            if (outcome.Failure is null)
            {
                delivered.Add(alert);
                continue;
            }
            failed.Add(outcome.Failure);
            AlertsLog.AlertFailed(_logger, _endpoint, alert.AlertId, alert.Rule, alert.Key, outcome.Failure.Attempts, outcome.Failure.Reason);
            if (outcome.EndpointDown) downBecause = outcome.Failure.Reason;
        }
        if (failed.Count > 0 && alerts.Count > 1)
            AlertsLog.Incomplete(_logger, _endpoint, delivered.Count, alerts.Count, failed.Count, notTried);
        return new WebhookDelivery(delivered, failed);
    }

    /// <summary>The tries of one alert.</summary>
    private async Task<Outcome> PostOneAsync(Alert alert, CancellationToken cancellationToken)
    {
        var body = Json(alert);
        int? status = null;
        for (var attempt = 1; ; attempt++)
        {
            string cause;
            TimeSpan? retryAfter = null;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeout.CancelAfter(_options.Timeout);
                try
                {
                    using var request = Request(alert, body);
                    using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
                    status = (int)response.StatusCode;
                    if (status is >= 200 and < 300)
                    {
                        AlertsLog.Delivered(_logger, _endpoint, alert.AlertId, attempt, status.Value);
                        return new Outcome(null, false);
                    }
                    cause = $"HTTP {status.Value.ToString(CultureInfo.InvariantCulture)} {response.ReasonPhrase}".TrimEnd();
                    if (!IsTransient(response.StatusCode))
                        return new Outcome(new WebhookFailure(alert, cause + " (not retried)", attempt, status), false);
                    retryAfter = RetryAfter(response.Headers.RetryAfter);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    cause = $"no answer within {_options.Timeout.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)} ms";
                    status = null;
                }
                catch (HttpRequestException e)
                {
                    // The exception's message can quote the request; only its kind and the socket error are reported.
                    cause = e.InnerException is System.Net.Sockets.SocketException socket
                        ? $"network error {e.HttpRequestError} ({socket.SocketErrorCode})"
                        : $"network error {e.HttpRequestError}";
                    status = null;
                }
            }

            if (attempt >= _options.MaxAttempts)
                return new Outcome(new WebhookFailure(alert, $"{cause}, after {attempt} tries", attempt, status), true);
            if (retryAfter > _options.MaxDelay)
            {
                var asked = retryAfter.Value.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
                return new Outcome(new WebhookFailure(alert, $"{cause}; the server asked to wait {asked} s, longer than the {_options.MaxDelay.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s allowed", attempt, status), true);
            }
            var delay = retryAfter ?? Backoff(attempt);
            AlertsLog.Retrying(_logger, _endpoint, alert.AlertId, attempt, _options.MaxAttempts, cause, (long)delay.TotalMilliseconds);
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
        }
    }

    private HttpRequestMessage Request(Alert alert, byte[] body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, _options.Uri)
        {
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", alert.AlertId);
        request.Headers.UserAgent.Add(new ProductInfoHeaderValue("lakehouse-gold", "1"));
        if (_options.Secret is { } secret) request.Headers.TryAddWithoutValidation(_options.SecretHeaderName, secret);
        return request;
    }

    /// <summary>408, 429 and every 5xx may succeed later; everything else will not.</summary>
    private static bool IsTransient(HttpStatusCode code) =>
        code is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)code >= 500;

    /// <summary>The server's <c>Retry-After</c> as a wait (seconds or an HTTP date; a date in the past is no wait).</summary>
    private static TimeSpan? RetryAfter(RetryConditionHeaderValue? header) => header switch
    {
        { Delta: { } delta } => delta < TimeSpan.Zero ? TimeSpan.Zero : delta,
        { Date: { } date } => date - DateTimeOffset.UtcNow is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero,
        _ => null,
    };

    /// <summary>BaseDelay × 2^(try − 1), capped at MaxDelay, jittered to between half of it and all of it.</summary>
    private TimeSpan Backoff(int attempt)
    {
        var full = Math.Min(_options.BaseDelay.TotalMilliseconds * Math.Pow(2, attempt - 1), _options.MaxDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(full / 2 + Random.Shared.NextDouble() * full / 2);
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
    public void Dispose() => _http.Dispose();

    private sealed record Outcome(WebhookFailure? Failure, bool EndpointDown);
}
