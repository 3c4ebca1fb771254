namespace Lakehouse.Core.Webhooks;

/// <summary>
/// Where and how <see cref="WebhookClient"/> posts notifications (gold's alerts, silver's quality-gate refusals). Validated when set (<see cref="ArgumentException"/>). The secret is
/// never logged or printed, and neither is the endpoint's path or query (webhook URLs often carry a token there): logs name
/// the endpoint by scheme, host and port only.
/// </summary>
public sealed class WebhookOptions
{
    /// <summary>The default of <see cref="SecretHeaderName"/>.</summary>
    public const string DefaultSecretHeaderName = "X-Lakehouse-Webhook-Secret";

    private Uri? _uri;
    private TimeSpan _timeout = TimeSpan.FromSeconds(10);
    private int _maxAttempts = 5;
    private TimeSpan _baseDelay = TimeSpan.FromMilliseconds(500);
    private TimeSpan _maxDelay = TimeSpan.FromSeconds(30);
    private string _secretHeaderName = DefaultSecretHeaderName;
    private string? _secret;

    /// <summary>The webhook: an absolute http or https URL without user information (credentials go into <see cref="Secret"/>). Required.</summary>
    public Uri? Uri
    {
        get => _uri;
        set => _uri = UriProblem(value) is { } problem ? throw new ArgumentException($"The webhook URL {problem}.", nameof(Uri)) : value;
    }

    /// <summary>How long one try may take, connecting included, before it counts as failed and is retried. 100 ms to 5 minutes; default 10 seconds.</summary>
    public TimeSpan Timeout
    {
        get => _timeout;
        set => _timeout = InRange(value, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(5), nameof(Timeout));
    }

    /// <summary>How many tries a notification gets in all (1 means no retry). 1 to 20; default 5.</summary>
    public int MaxAttempts
    {
        get => _maxAttempts;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 20);
            _maxAttempts = value;
        }
    }

    /// <summary>
    /// The wait before the second try; it doubles with every further try (up to <see cref="MaxDelay"/>) and each wait is
    /// jittered between half and all of it. 1 ms to 1 minute; default 500 ms.
    /// </summary>
    public TimeSpan BaseDelay
    {
        get => _baseDelay;
        set => _baseDelay = InRange(value, TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(1), nameof(BaseDelay));
    }

    /// <summary>
    /// The longest wait between tries, also for a server's <c>Retry-After</c>: a server that asks for a longer wait is not
    /// tried again for that notification (it is reported failed). 1 ms to 10 minutes, at least <see cref="BaseDelay"/> when used; default 30 seconds.
    /// </summary>
    public TimeSpan MaxDelay
    {
        get => _maxDelay;
        set => _maxDelay = InRange(value, TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(10), nameof(MaxDelay));
    }

    /// <summary>The request header that carries <see cref="Secret"/>, e.g. <c>Authorization</c>. An HTTP token; default <see cref="DefaultSecretHeaderName"/>.</summary>
    public string SecretHeaderName
    {
        get => _secretHeaderName;
        set => _secretHeaderName = IsToken(value) ? value : throw new ArgumentException("The secret header name must be an HTTP header name (letters, digits and !#$%&'*+-.^_`|~).", nameof(SecretHeaderName));
    }

    /// <summary>
    /// A value sent in <see cref="SecretHeaderName"/> with every request so the receiver can tell the posts are genuine; null for
    /// none. Printable ASCII, no line breaks. Never logged or printed.
    /// </summary>
    public string? Secret
    {
        get => _secret;
        set => _secret = value is null || IsHeaderValue(value) ? value : throw new ArgumentException("The webhook secret must be printable ASCII without line breaks (its value is not shown).", nameof(Secret));
    }

    /// <summary>
    /// Options from <c>LAKEHOUSE_ALERT_WEBHOOK_URL</c> and <c>LAKEHOUSE_ALERT_WEBHOOK_SECRET</c> (optional); null when no URL is set
    /// (gold then keeps its alerts without posting them, and silver refuses batches without telling anyone).
    /// </summary>
    /// <exception cref="LakehouseException">A variable is malformed (reason InvalidInput); the message names it, never its value.</exception>
    public static WebhookOptions? FromEnvironment() => FromEnvironment(Environment.GetEnvironmentVariable);

    /// <summary>Options from environment variables read through <paramref name="variable"/> (tests pass a dictionary); see <see cref="FromEnvironment()"/>.</summary>
    /// <param name="variable">Returns a variable's value by name, or null.</param>
    public static WebhookOptions? FromEnvironment(Func<string, string?> variable) =>
        FromEnvironment("LAKEHOUSE_ALERT_WEBHOOK_URL", "LAKEHOUSE_ALERT_WEBHOOK_SECRET", variable);

    /// <summary>
    /// Options from the environment variables <paramref name="urlVariable"/> and <paramref name="secretVariable"/> (optional), read
    /// through <paramref name="variable"/>; null when no URL is set. Another webhook (e.g. the pipeline runner's) has its own names.
    /// </summary>
    /// <exception cref="LakehouseException">A variable is malformed (reason InvalidInput); the message names it, never its value.</exception>
    public static WebhookOptions? FromEnvironment(string urlVariable, string secretVariable, Func<string, string?>? variable = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(urlVariable);
        ArgumentException.ThrowIfNullOrWhiteSpace(secretVariable);
        variable ??= Environment.GetEnvironmentVariable;
        if (variable(urlVariable)?.Trim() is not { Length: > 0 } url) return null;
        var uri = System.Uri.TryCreate(url, UriKind.Absolute, out var parsed) ? parsed : null;
        var options = new WebhookOptions
        {
            _uri = UriProblem(uri) is { } problem ? throw Invalid(urlVariable, problem) : uri,
        };
        if (variable(secretVariable) is { Length: > 0 } secret)
            options._secret = IsHeaderValue(secret) ? secret : throw Invalid(secretVariable, "is not printable ASCII without line breaks");
        return options;

        static LakehouseException Invalid(string name, string problem) => new(LakehouseErrorReason.InvalidInput, $"The environment variable {name} {problem}.");
    }

    /// <summary>The endpoint as logs may name it: scheme, host and port, never the path or query.</summary>
    internal string EndpointForLogs => Uri?.GetLeftPart(UriPartial.Authority) ?? "(none)";

    /// <summary>A copy, so a webhook keeps the options it was made with.</summary>
    internal WebhookOptions Clone() => (WebhookOptions)MemberwiseClone();

    /// <summary>Checks what only the whole set can tell.</summary>
    internal void Validate()
    {
        if (Uri is null) throw new ArgumentException("The webhook needs a URL (WebhookOptions.Uri).");
        if (MaxDelay < BaseDelay) throw new ArgumentException($"MaxDelay ({MaxDelay}) is shorter than BaseDelay ({BaseDelay}).");
    }

    /// <summary>Describes the options without the secret or the endpoint's path.</summary>
    public override string ToString() =>
        $"WebhookOptions {{ Endpoint = {EndpointForLogs}, Timeout = {Timeout}, MaxAttempts = {MaxAttempts}, BaseDelay = {BaseDelay}, "
        + $"MaxDelay = {MaxDelay}, Secret = {(Secret is null ? "none" : "set")} }}";

    private static string? UriProblem(Uri? uri) => uri switch
    {
        null => "is not an absolute URL",
        { IsAbsoluteUri: false } => "is not an absolute URL",
        { Scheme: not ("http" or "https") } => "is not http or https",
        { UserInfo.Length: > 0 } => "carries user information; put credentials into the secret header instead",
        _ => null,
    };

    private static bool IsToken(string? value) =>
        !string.IsNullOrEmpty(value) && value.All(c => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal));

    private static bool IsHeaderValue(string value) =>
        value.Length > 0 && value == value.Trim() && value.All(c => c is >= ' ' and <= '~');

    private static TimeSpan InRange(TimeSpan value, TimeSpan min, TimeSpan max, string name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(value, min, name);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(value, max, name);
        return value;
    }
}
