using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lakehouse.Core.Webhooks;

/// <summary>One notification to post: its idempotency key, a short description for logs, and the JSON body.</summary>
/// <param name="Id">Sent as the <c>Idempotency-Key</c> header; receivers dedupe on it (delivery is at least once).</param>
/// <param name="Description">What it is about, for log lines (e.g. <c>temperature_high for s1</c>); never a secret.</param>
/// <param name="Body">The UTF-8 JSON body.</param>
public sealed record WebhookMessage(string Id, string Description, byte[] Body);

/// <summary>What became of one <see cref="WebhookMessage"/>.</summary>
/// <param name="Message">The message.</param>
/// <param name="Delivered">True when the receiver answered 2xx.</param>
/// <param name="Reason">Why it was not delivered (the last HTTP status or network error, or that it was not tried); null when delivered.</param>
/// <param name="Attempts">How many requests were sent for it (0 when it was not tried because the endpoint was down).</param>
/// <param name="StatusCode">The last HTTP status received, if any.</param>
public sealed record WebhookOutcome(WebhookMessage Message, bool Delivered, string? Reason, int Attempts, int? StatusCode);

/// <summary>
/// Posts notifications to a webhook as JSON, one request per notification, and never lets a failing receiver fail or stall the
/// pipeline for long: delivery problems are returned (and logged as warnings), not thrown. Gold posts its alerts through it, silver
/// its quality-gate refusals.
/// </summary>
/// <remarks>
/// <para>
/// Each request is <c>POST</c> with <c>Content-Type: application/json</c>, an <c>Idempotency-Key</c> header equal to the message's
/// id and the secret header when one is configured. Delivery is at least once: a retry after a lost answer posts the same message
/// again, so receivers dedupe on the key.
/// </para>
/// <para>
/// A try that fails on the network, runs past <see cref="WebhookOptions.Timeout"/>, or gets 408, 429 or 5xx is retried after an
/// exponential, jittered wait, or after the server's <c>Retry-After</c> when it sends one (a server asking for more than
/// <see cref="WebhookOptions.MaxDelay"/> is not retried). Any other status below 200 or from 300 up (redirects are not followed, so
/// the secret never goes elsewhere) fails that message at once; the next ones are still posted. When a message has used all its
/// tries on transient failures the endpoint is taken as down and the remaining messages are not tried (reported with 0 attempts),
/// so one call costs at most about MaxAttempts × (Timeout + MaxDelay).
/// </para>
/// </remarks>
public sealed class WebhookClient : IDisposable
{
    private readonly WebhookOptions _options;
    private readonly ILogger _logger;
    private readonly HttpClient _http;
    private readonly string _endpoint;
    private readonly string _kind;
    private readonly string _item;
    private readonly string _product;

    /// <summary>Creates a client for <paramref name="options"/> (copied: later changes to them have no effect).</summary>
    /// <param name="options">Where and how to post.</param>
    /// <param name="logger">Where retries and failures are logged.</param>
    /// <param name="kind">What the webhook is for, starting log lines: <c>Alert</c> gives "Alert webhook http://host:port: …".</param>
    /// <param name="item">What one message is called in log lines, e.g. <c>alert</c>.</param>
    /// <param name="product">The User-Agent product token, e.g. <c>lakehouse-gold</c>.</param>
    /// <exception cref="ArgumentException">The options have no URL, or a MaxDelay shorter than BaseDelay.</exception>
    public WebhookClient(WebhookOptions options, ILogger? logger = null, string kind = "Lakehouse", string item = "notification", string product = "lakehouse")
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(kind);
        ArgumentException.ThrowIfNullOrWhiteSpace(item);
        ArgumentException.ThrowIfNullOrWhiteSpace(product);
        options.Validate();
        _options = options.Clone();
        _logger = logger ?? NullLogger.Instance;
        _endpoint = _options.EndpointForLogs;
        (_kind, _item, _product) = (kind, item, product);
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

    /// <summary>Posts each message in order (see the class remarks) and says what became of each, in the same order. Never throws for a delivery problem.</summary>
    /// <param name="messages">The messages to post; may be empty.</param>
    /// <param name="cancellationToken">Stops the posting (between tries or during one).</param>
    /// <exception cref="ArgumentException"><paramref name="messages"/> holds a null (nothing is posted).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task<IReadOnlyList<WebhookOutcome>> PostAsync(IReadOnlyList<WebhookMessage> messages, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        if (messages.Any(m => m is null)) throw new ArgumentException("The list of messages holds a null.", nameof(messages));
        var outcomes = new List<WebhookOutcome>(messages.Count);
        var notTried = 0;
        string? downBecause = null;
        foreach (var message in messages)
        {
            if (downBecause is not null)
            {
                outcomes.Add(new WebhookOutcome(message, false, $"not tried: the endpoint stayed unavailable for an earlier {_item} ({downBecause})", 0, null));
                notTried++;
                continue;
            }
            var (outcome, endpointDown) = await PostOneAsync(message, cancellationToken).ConfigureAwait(false);
            outcomes.Add(outcome);
            if (outcome.Delivered) continue;
            WebhookLog.Failed(_logger, _kind, _endpoint, _item, message.Id, message.Description, outcome.Attempts, outcome.Reason!);
            if (endpointDown) downBecause = outcome.Reason;
        }
        var failed = outcomes.Count(o => !o.Delivered);
        if (failed > 0 && messages.Count > 1)
            WebhookLog.Incomplete(_logger, _kind, _endpoint, messages.Count - failed, messages.Count, _item + "s", failed, notTried);
        return outcomes;
    }

    /// <summary>The tries of one message; true beside a failure when the endpoint is to be taken as down.</summary>
    private async Task<(WebhookOutcome Outcome, bool EndpointDown)> PostOneAsync(WebhookMessage message, CancellationToken cancellationToken)
    {
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
                    using var request = Request(message);
                    using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
                    status = (int)response.StatusCode;
                    if (status is >= 200 and < 300)
                    {
                        WebhookLog.Delivered(_logger, _kind, _endpoint, _item, message.Id, attempt, status.Value);
                        return (new WebhookOutcome(message, true, null, attempt, status), false);
                    }
                    cause = $"HTTP {status.Value.ToString(CultureInfo.InvariantCulture)} {response.ReasonPhrase}".TrimEnd();
                    if (!IsTransient(response.StatusCode))
                        return (new WebhookOutcome(message, false, cause + " (not retried)", attempt, status), false);
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
                return (new WebhookOutcome(message, false, $"{cause}, after {attempt} tries", attempt, status), true);
            if (retryAfter > _options.MaxDelay)
            {
                var asked = retryAfter.Value.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
                return (new WebhookOutcome(message, false, $"{cause}; the server asked to wait {asked} s, longer than the {_options.MaxDelay.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s allowed", attempt, status), true);
            }
            var delay = retryAfter ?? Backoff(attempt);
            WebhookLog.Retrying(_logger, _kind, _endpoint, _item, message.Id, attempt, _options.MaxAttempts, cause, (long)delay.TotalMilliseconds);
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
        }
    }

    private HttpRequestMessage Request(WebhookMessage message)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, _options.Uri)
        {
            Content = new ByteArrayContent(message.Body),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", message.Id);
        request.Headers.UserAgent.Add(new ProductInfoHeaderValue(_product, "1"));
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

    /// <summary>Closes the connections.</summary>
    public void Dispose() => _http.Dispose();
}
