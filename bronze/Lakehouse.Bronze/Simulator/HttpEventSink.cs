using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Lakehouse.Core;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Bronze.Simulator;

/// <summary>
/// Posts each batch of events as one request body (one event per line: <c>application/x-ndjson</c>, or <c>text/plain</c> for text
/// datasets) to <c>lakehouse serve</c>'s <c>POST /ingest/{dataset}</c> or any endpoint that takes such bodies. A URL without a path
/// (<c>http://host:port</c>) posts to <c>/ingest/&lt;dataset&gt;</c>. A batch answered 408, 429, 502, 503 or 504, or not answered at
/// all, is sent again after a backoff (Retry-After when the server gives one); any other status outside 2xx stops the run
/// with the status and the server's explanation. With a run id each batch carries an <c>Idempotency-Key</c>, so a retry
/// after a lost answer is not landed twice.
/// </summary>
internal sealed class HttpEventSink : IEventSink, ISinkStatistics
{
    /// <summary>Bodies of at least this many bytes are sent with <c>Expect: 100-continue</c> (1 MiB: most batches are smaller and skip the round trip).</summary>
    private const int ExpectContinueBytes = 1 << 20;

    private const int MaxExplanation = 300;
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan MaxServerDelay = TimeSpan.FromSeconds(30);

    private readonly HttpClient _client;
    private readonly Uri _uri;
    private readonly string _shown;
    private readonly EventSinkOptions _options;
    private readonly ILogger _log;
    private long _sent;
    private long _requests;
    private long _retries;
    private long _replayed;

    private HttpEventSink(Uri uri, EventSinkOptions options, ILogger logger)
    {
        _uri = uri;
        _shown = Shown(uri);
        _options = options;
        _log = logger;
        _client = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2), ConnectTimeout = TimeSpan.FromSeconds(10) })
        {
            Timeout = options.RequestTimeout,
        };
        _client.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("lakehouse-produce", "1.0"));
    }

    public IReadOnlyList<string>? Files => null;

    public long? Requests => _requests;

    public long? Retries => _retries;

    public long? Replayed => _replayed;

    internal static HttpEventSink Create(string to, EventSinkOptions options, ILogger logger)
    {
        if (!Uri.TryCreate(to, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || string.IsNullOrEmpty(uri.Host))
            throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"'{Shown(to)}' is not an HTTP URL; write http://host:port or http://host:port/ingest/<dataset>.");
        if (uri.AbsolutePath is "" or "/")
        {
            if (options.Dataset is null)
                throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"'{Shown(uri)}' has no path and no dataset was given to post to /ingest/<dataset>.");
            uri = new UriBuilder(uri) { Path = "/ingest/" + options.Dataset }.Uri;
        }
        return new HttpEventSink(uri, options, logger);
    }

    public async Task SendAsync(IReadOnlyList<OutgoingEvent> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count == 0) return;
        var body = Body(events);
        var key = _options.RunId is { } run ? string.Create(CultureInfo.InvariantCulture, $"{run}-{_sent}-{events.Count}") : null;
        var attempts = _options.MaxRetries + 1;
        for (var attempt = 1; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var request = new HttpRequestMessage(HttpMethod.Post, _uri) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = _options.TextPayload
                ? new MediaTypeHeaderValue("text/plain") { CharSet = "utf-8" }
                : new MediaTypeHeaderValue("application/x-ndjson");
            if (key is not null) request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
            // A large body asks first (Expect: 100-continue): a server that refuses it (413 over its body limit) says so before the
            // upload, where it used to close the connection mid-body and the sender saw only a broken pipe, retried, and never the 413.
            if (body.Length >= ExpectContinueBytes) request.Headers.ExpectContinue = true;
            HttpResponseMessage response;
            try
            {
                _requests++;
                response = await _client.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                var reason = e is TaskCanceledException ? $"no answer within {_options.RequestTimeout.TotalSeconds:0.#} s" : e.Message;
                if (attempt >= attempts)
                {
                    throw new LakehouseException(LakehouseErrorReason.Storage,
                        $"POST {_shown} failed {attempts} time(s), the last: {reason}. {Sent()}", e, isTransient: true);
                }
                var wait = Backoff(attempt, null);
                SimulatorLog.HttpRetryAfterError(_log, _shown, reason, events.Count, (long)wait.TotalMilliseconds, attempt, attempts);
                _retries++;
                await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
                continue;
            }
            using (response)
            {
                var status = (int)response.StatusCode;
                if (response.IsSuccessStatusCode)
                {
                    if (response.Headers.TryGetValues("Idempotent-Replayed", out var replayed) && replayed.Any(v => v.Equals("true", StringComparison.OrdinalIgnoreCase)))
                    {
                        _replayed++;
                        SimulatorLog.HttpReplayed(_log, _shown, key ?? "");
                    }
                    _sent += events.Count;
                    return;
                }
                var explanation = await ExplanationAsync(response, cancellationToken).ConfigureAwait(false);
                if (status is 408 or 429 or 502 or 503 or 504 && attempt < attempts)
                {
                    var wait = Backoff(attempt, response.Headers.RetryAfter);
                    SimulatorLog.HttpRetry(_log, _shown, status, events.Count, (long)wait.TotalMilliseconds, attempt, attempts);
                    _retries++;
                    await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                var hint = status switch
                {
                    404 => " (is the dataset defined in the lake the server serves?)",
                    413 => " (send smaller batches: --batch N)",
                    _ => "",
                };
                throw new LakehouseException(status is >= 400 and < 500 ? LakehouseErrorReason.InvalidInput : LakehouseErrorReason.Storage,
                    $"POST {_shown} answered {status} {response.ReasonPhrase}{(attempt > 1 ? $" after {attempt} attempts" : "")}{hint}: {explanation} {Sent()}",
                    isTransient: status is 408 or 429 or >= 500);
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }

    private string Sent() => string.Create(CultureInfo.InvariantCulture, $"{_sent:N0} events were accepted before this batch.");

    private static byte[] Body(IReadOnlyList<OutgoingEvent> events)
    {
        var length = events.Sum(e => e.Payload.Length + 1);
        var body = new byte[length];
        var at = 0;
        foreach (var e in events)
        {
            e.Payload.CopyTo(body, at);
            at += e.Payload.Length;
            body[at++] = (byte)'\n';
        }
        return body;
    }

    /// <summary>Exponential backoff from 200 ms (with jitter, at most 10 s), or the server's Retry-After (at most 30 s).</summary>
    private static TimeSpan Backoff(int attempt, RetryConditionHeaderValue? retryAfter)
    {
        var server = retryAfter?.Delta ?? (retryAfter?.Date is { } date ? date - DateTimeOffset.UtcNow : null);
        if (server is { } s && s >= TimeSpan.Zero) return s < MaxServerDelay ? s : MaxServerDelay;
        var ms = 200 * Math.Pow(2, attempt - 1) * (0.75 + (Random.Shared.NextDouble() * 0.5));
        return TimeSpan.FromMilliseconds(Math.Min(MaxBackoff.TotalMilliseconds, ms));
    }

    /// <summary>The start of the answer's body, on one line, or its reason phrase.</summary>
    private static async Task<string> ExplanationAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        string text;
        try
        {
            text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException)
        {
            text = "";
        }
        var sb = new StringBuilder();
        foreach (var c in text.Trim())
        {
            if (sb.Length >= MaxExplanation)
            {
                sb.Append('…');
                break;
            }
            sb.Append(char.IsControl(c) ? ' ' : c);
        }
        return sb.Length > 0 ? sb.ToString() : "(no explanation in the answer)";
    }

    /// <summary>The URL without user info or query (which may hold a key), for messages and logs.</summary>
    private static string Shown(Uri uri) => $"{uri.Scheme}://{uri.Authority}{uri.AbsolutePath}";

    private static string Shown(string text)
    {
        var cut = text.IndexOfAny(['?', '#']);
        if (cut >= 0) text = text[..cut];
        var scheme = text.IndexOf("://", StringComparison.Ordinal);
        var at = text.IndexOf('@', StringComparison.Ordinal);
        return scheme >= 0 && at > scheme ? text[..(scheme + 3)] + text[(at + 1)..] : text;
    }
}
