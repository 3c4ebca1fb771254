using Lakehouse.Core;

namespace Lakehouse.Pipelines.Runner;

/// <summary>
/// Where a failed pipeline run is reported: an HTTP endpoint that receives one JSON <c>POST</c> per failed run. Validated when
/// set (<see cref="ArgumentException"/>). The secret is never logged, nor is the URL's path or query (webhook URLs often
/// carry a token there): logs name the endpoint by scheme, host and port only.
/// </summary>
public sealed class PipelineWebhookOptions
{
    /// <summary>The environment variable holding the webhook URL.</summary>
    public const string UrlVariable = "LAKEHOUSE_PIPELINE_WEBHOOK_URL";

    /// <summary>The environment variable holding the optional secret sent in <see cref="SecretHeaderName"/>.</summary>
    public const string SecretVariable = "LAKEHOUSE_PIPELINE_WEBHOOK_SECRET";

    /// <summary>The request header that carries <see cref="Secret"/>.</summary>
    public const string SecretHeaderName = "X-Lakehouse-Webhook-Secret";

    private readonly Uri? _uri;
    private readonly string? _secret;
    private readonly TimeSpan _timeout = TimeSpan.FromSeconds(10);
    private readonly int _maxAttempts = 5;
    private readonly TimeSpan _baseDelay = TimeSpan.FromMilliseconds(500);
    private readonly TimeSpan _maxDelay = TimeSpan.FromSeconds(30);

    /// <summary>The webhook: an absolute http or https URL without user information. Required.</summary>
    public Uri? Uri
    {
        get => _uri;
        init => _uri = value is { IsAbsoluteUri: true, Scheme: "http" or "https" } && string.IsNullOrEmpty(value.UserInfo)
            ? value
            : throw new ArgumentException("The pipeline webhook URL must be an absolute http(s) URL without user information.", nameof(Uri));
    }

    /// <summary>A value sent in <see cref="SecretHeaderName"/> so the receiver can tell the posts are genuine; null for none. Never logged.</summary>
    public string? Secret
    {
        get => _secret;
        init => _secret = value is null || value.All(c => c is >= ' ' and <= '~')
            ? value
            : throw new ArgumentException("The pipeline webhook secret must be printable ASCII without line breaks (its value is not shown).", nameof(Secret));
    }

    /// <summary>How long one try may take. 100 ms to 5 minutes; default 10 seconds.</summary>
    public TimeSpan Timeout
    {
        get => _timeout;
        init => _timeout = InRange(value, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(5), nameof(Timeout));
    }

    /// <summary>How many tries in all (1 means no retry). 1 to 20; default 5.</summary>
    public int MaxAttempts
    {
        get => _maxAttempts;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 20);
            _maxAttempts = value;
        }
    }

    /// <summary>The wait before the second try, doubled for each further one (jittered, capped at <see cref="MaxDelay"/>). 1 ms to 1 minute; default 500 ms.</summary>
    public TimeSpan BaseDelay
    {
        get => _baseDelay;
        init => _baseDelay = InRange(value, TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(1), nameof(BaseDelay));
    }

    /// <summary>The longest wait between tries. 1 ms to 10 minutes; default 30 seconds.</summary>
    public TimeSpan MaxDelay
    {
        get => _maxDelay;
        init => _maxDelay = InRange(value, TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(10), nameof(MaxDelay));
    }

    /// <summary>Options from <c>LAKEHOUSE_PIPELINE_WEBHOOK_URL</c> and <c>LAKEHOUSE_PIPELINE_WEBHOOK_SECRET</c>; null when no URL is set.</summary>
    /// <exception cref="LakehouseException">A variable is malformed (InvalidInput); the message names the variable, never its value.</exception>
    public static PipelineWebhookOptions? FromEnvironment() => FromEnvironment(Environment.GetEnvironmentVariable);

    internal static PipelineWebhookOptions? FromEnvironment(Func<string, string?> variable)
    {
        if (variable(UrlVariable)?.Trim() is not { Length: > 0 } url) return null;
        try
        {
            return new PipelineWebhookOptions
            {
                Uri = System.Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri : null,
                Secret = variable(SecretVariable) is { Length: > 0 } secret ? secret : null,
            };
        }
        catch (ArgumentException e)
        {
            var name = e.ParamName == nameof(Secret) ? SecretVariable : UrlVariable;
            throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"The environment variable {name} is not valid: {e.Message}", e);
        }
    }

    /// <summary>The endpoint as logs may name it: scheme, host and port.</summary>
    internal string EndpointForLogs => Uri?.GetLeftPart(UriPartial.Authority) ?? "(none)";

    private static TimeSpan InRange(TimeSpan value, TimeSpan min, TimeSpan max, string name) =>
        value >= min && value <= max ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must be between {min} and {max}.");
}
