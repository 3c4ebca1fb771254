using Lakehouse.Core.Webhooks;

namespace Lakehouse.Pipelines.Runner;

/// <summary>
/// Where a failed pipeline run is reported: the shared webhook (<see cref="WebhookOptions"/>, <see cref="WebhookClient"/>) configured
/// by its own environment variables, one JSON <c>POST</c> per failed run.
/// </summary>
public static class PipelineWebhook
{
    /// <summary>The environment variable holding the webhook URL.</summary>
    public const string UrlVariable = "LAKEHOUSE_PIPELINE_WEBHOOK_URL";

    /// <summary>The environment variable holding the optional secret sent in <see cref="WebhookOptions.SecretHeaderName"/>.</summary>
    public const string SecretVariable = "LAKEHOUSE_PIPELINE_WEBHOOK_SECRET";

    /// <summary>The options from <see cref="UrlVariable"/> and <see cref="SecretVariable"/>; null when no URL is set.</summary>
    /// <exception cref="Core.LakehouseException">A variable is malformed; the message names it, never its value.</exception>
    public static WebhookOptions? FromEnvironment() => WebhookOptions.FromEnvironment(UrlVariable, SecretVariable);
}
