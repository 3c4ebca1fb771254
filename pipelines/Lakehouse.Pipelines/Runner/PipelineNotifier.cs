using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Pipelines.Runner;

/// <summary>
/// Posts a failed run to the pipeline webhook, as gold's alert webhook does: JSON, an <c>Idempotency-Key</c> (the run id),
/// the secret header when configured, retries with jittered exponential back-off on network errors, timeouts, 408, 429 and
/// 5xx, no redirects. It never throws for a delivery problem: it logs a warning and returns false, so a failing webhook
/// never changes the run's status or exit code.
/// </summary>
internal sealed class PipelineNotifier(PipelineWebhookOptions options, ILogger logger) : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler { AllowAutoRedirect = false, ConnectTimeout = options.Timeout, UseCookies = false })
    {
        Timeout = System.Threading.Timeout.InfiniteTimeSpan,
    };

    /// <summary>Posts <paramref name="body"/> for run <paramref name="runId"/>; true when the receiver answered 2xx.</summary>
    internal async Task<bool> PostAsync(string runId, JsonObject body, CancellationToken cancellationToken)
    {
        var bytes = Encoding.UTF8.GetBytes(body.ToJsonString());
        var endpoint = options.EndpointForLogs;
        for (var attempt = 1; ; attempt++)
        {
            string cause;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeout.CancelAfter(options.Timeout);
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Post, options.Uri) { Content = new ByteArrayContent(bytes) };
                    request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
                    request.Headers.TryAddWithoutValidation("Idempotency-Key", runId);
                    request.Headers.UserAgent.Add(new ProductInfoHeaderValue("lakehouse-pipeline", "1"));
                    if (options.Secret is { } secret) request.Headers.TryAddWithoutValidation(PipelineWebhookOptions.SecretHeaderName, secret);
                    using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
                    var status = (int)response.StatusCode;
                    if (status is >= 200 and < 300)
                    {
                        RunnerLog.NotificationDelivered(logger, endpoint, runId, attempt, status);
                        return true;
                    }
                    cause = $"HTTP {status.ToString(CultureInfo.InvariantCulture)}";
                    if (!(response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || status >= 500))
                    {
                        RunnerLog.NotificationFailed(logger, endpoint, runId, attempt, cause + " (not retried)");
                        return false;
                    }
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    cause = $"no answer within {options.Timeout.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)} ms";
                }
                catch (HttpRequestException e)
                {
                    // The exception's message can quote the request URL: only its kind is reported.
                    cause = $"network error {e.HttpRequestError}";
                }
            }
            if (attempt >= options.MaxAttempts)
            {
                RunnerLog.NotificationFailed(logger, endpoint, runId, attempt, cause);
                return false;
            }
            var full = Math.Min(options.BaseDelay.TotalMilliseconds * Math.Pow(2, attempt - 1), options.MaxDelay.TotalMilliseconds);
            var delay = TimeSpan.FromMilliseconds(full / 2 + Random.Shared.NextDouble() * full / 2);
            RunnerLog.NotificationRetrying(logger, endpoint, runId, attempt, options.MaxAttempts, cause, (long)delay.TotalMilliseconds);
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
        }
    }

    public void Dispose() => _http.Dispose();
}
