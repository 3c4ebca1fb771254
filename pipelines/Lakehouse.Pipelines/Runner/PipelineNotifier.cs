using System.Text;
using System.Text.Json.Nodes;
using Lakehouse.Core.Webhooks;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Pipelines.Runner;

/// <summary>
/// Posts a failed run to the pipeline webhook through the shared <see cref="WebhookClient"/> (as gold's alerts and silver's
/// quality gates do): JSON, <c>Idempotency-Key</c> = the run id, the secret header when configured, retries with back-off. It
/// never throws for a delivery problem: the client logs it, so a failing webhook never changes the run's status or exit code.
/// </summary>
internal sealed class PipelineNotifier(WebhookOptions options, ILogger logger) : IDisposable
{
    private readonly WebhookClient _client = new(options, logger, kind: "Pipeline", item: "failed run", product: "lakehouse-pipeline");

    /// <summary>Posts <paramref name="body"/> for run <paramref name="runId"/> of <paramref name="pipeline"/>; true when the receiver answered 2xx.</summary>
    internal async Task<bool> PostAsync(string runId, string pipeline, JsonObject body, CancellationToken cancellationToken)
    {
        var outcomes = await _client.PostAsync([new WebhookMessage(runId, $"{pipeline} run {runId}", Encoding.UTF8.GetBytes(body.ToJsonString()))], cancellationToken)
            .ConfigureAwait(false);
        return outcomes[0].Delivered;
    }

    public void Dispose() => _client.Dispose();
}
