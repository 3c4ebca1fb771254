using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;
using Lakehouse.Core;

namespace Lakehouse.Storage;

/// <summary>The retry and diagnostics settings of the Blob REST pipeline (Azure.Core's options base).</summary>
internal sealed class AzureBlobClientOptions : ClientOptions
{
    public AzureBlobClientOptions(LakeStorageOptions options)
    {
        Retry.Mode = RetryMode.Exponential;
        Retry.MaxRetries = options.MaxRetries;
        Retry.Delay = TimeSpan.FromSeconds(0.5);
        Retry.MaxDelay = TimeSpan.FromSeconds(30);
        Retry.NetworkTimeout = options.NetworkTimeout;
        Diagnostics.ApplicationId = "lakehouse";
        Diagnostics.IsLoggingContentEnabled = false;
        // Azure.Core's event-source log redacts every header and query parameter not listed here: the SAS (sig, ...),
        // Authorization and x-ms-meta-* stay redacted; these help diagnose a failure and hold nothing secret.
        foreach (var header in new[] { "x-ms-version", "x-ms-error-code", "x-ms-request-id", "x-ms-range", "x-ms-blob-type", "If-None-Match", "If-Match" })
            Diagnostics.LoggedHeaderNames.Add(header);
        foreach (var parameter in new[] { "restype", "comp", "maxresults", "include", "blockid" })
            Diagnostics.LoggedQueryParameters.Add(parameter);
        if (options.Transport is not null) Transport = options.Transport;
    }
}

/// <summary>
/// The Blob REST API of one container over an Azure.Core <see cref="HttpPipeline"/>: builds requests, sends them with
/// retries and authentication, and turns failures into <see cref="LakehouseException"/> without ever showing a secret.
/// </summary>
internal sealed partial class AzureBlobClient
{
    /// <summary>The REST API version sent as <c>x-ms-version</c>; Azurite 3.35 and every Azure region support it.</summary>
    internal const string ApiVersion = "2021-08-06";

    /// <summary>The token scope of Azure storage for Microsoft Entra ID credentials.</summary>
    internal const string StorageScope = "https://storage.azure.com/.default";

    private readonly HttpPipeline _pipeline;
    private readonly Uri _containerUri;

    public AzureBlobClient(AzureBlobLocation location, LakeStorageOptions options)
    {
        Options = options.Clone();
        if (Options.AccountName is { } configured && !string.Equals(configured, location.AccountName, StringComparison.Ordinal))
            throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                $"The storage options are for account '{configured}' but the location {location.Display} is in account '{location.AccountName}'.");
        AccountName = location.AccountName;
        Container = location.Container;
        AccountEndpoint = location.AccountEndpoint;
        _containerUri = new Uri(AccountEndpoint.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/" + Container);
        CacheDirectory = Options.CacheDirectory ?? Path.Combine(Path.GetTempPath(), "lakehouse-cache", "blobs");

        HttpPipelinePolicy[] perCall = [];
        HttpPipelinePolicy[] perRetry;
        if (Options.AccountKey is { } key)
        {
            perRetry = [new AzureSharedKeyPolicy(AccountName, key)];
        }
        else if (Options.SasToken is { } sas)
        {
            perCall = [new AzureSasPolicy(sas)];
            perRetry = [];
        }
        else
        {
            if (AccountEndpoint.Scheme != Uri.UriSchemeHttps)
                throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                    $"Token authentication ({Options.AuthenticationKind}) needs an https blob endpoint, not {AccountEndpoint.GetLeftPart(UriPartial.Path)}; use an account key or a SAS for the emulator.");
            perRetry = [new BearerTokenAuthenticationPolicy(Options.Credential ?? new DefaultAzureCredential(), StorageScope)];
        }
        _pipeline = HttpPipelineBuilder.Build(new AzureBlobClientOptions(Options), perCall, perRetry, new ResponseClassifier());
    }

    /// <summary>The options the storage was opened with (a copy).</summary>
    public LakeStorageOptions Options { get; }

    /// <summary>The storage account.</summary>
    public string AccountName { get; }

    /// <summary>The container.</summary>
    public string Container { get; }

    /// <summary>The account's blob endpoint.</summary>
    public Uri AccountEndpoint { get; }

    /// <summary>Where downloaded copies are kept.</summary>
    public string CacheDirectory { get; }

    /// <summary>A request for the container (<paramref name="blobName"/> null) or for one blob, with the API version set.</summary>
    public HttpMessage CreateMessage(RequestMethod method, string? blobName)
    {
        var message = _pipeline.CreateMessage();
        var request = message.Request;
        request.Method = method;
        request.Uri.Reset(_containerUri);
        if (blobName is not null)
            request.Uri.AppendPath("/" + EscapeBlobName(blobName), escape: false);
        request.Headers.SetValue("x-ms-version", ApiVersion);
        return message;
    }

    /// <summary>
    /// Sends a request through the pipeline (authentication, retries). Error statuses are returned for the caller to map;
    /// network failures, timeouts and credential failures become <see cref="LakehouseException"/>.
    /// </summary>
    public async Task<Response> SendAsync(HttpMessage message, string operation, string? blobName, CancellationToken cancellationToken)
    {
        try
        {
            await _pipeline.SendAsync(message, cancellationToken).ConfigureAwait(false);
            return message.Response;
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new LakehouseException(LakehouseErrorReason.Storage,
                $"{operation} of {Describe(blobName)} timed out after {Options.MaxRetries + 1} tries.", e);
        }
        catch (RequestFailedException e)
        {
            // Raised by the transport for network failures once the retries are spent.
            throw Unreachable(operation, blobName, e, e);
        }
        catch (AggregateException e) when (e.InnerExceptions.All(inner => inner is RequestFailedException or IOException or OperationCanceledException))
        {
            // The retry policy's summary of several failed tries.
            throw Unreachable(operation, blobName, e.InnerExceptions[^1], e);
        }
        catch (AuthenticationFailedException e)
        {
            throw new LakehouseException(LakehouseErrorReason.Storage,
                $"{operation} of {Describe(blobName)} failed: no token for Azure storage could be obtained ({e.GetType().Name}). Sign in (az login), use a managed identity, or set AZURE_STORAGE_KEY / AZURE_STORAGE_SAS_TOKEN.",
                e, isTransient: false);
        }
    }

    private LakehouseException Unreachable(string operation, string? blobName, Exception last, Exception inner) =>
        new(LakehouseErrorReason.Storage,
            $"{operation} of {Describe(blobName)} failed after {Options.MaxRetries + 1} tries: the blob endpoint {AccountEndpoint.GetLeftPart(UriPartial.Path)} could not be reached ({RedactSas(last.Message)}).",
            inner);

    /// <summary>Replaces the value of any SAS signature (<c>sig=...</c>) in a text that might quote a URL.</summary>
    internal static string RedactSas(string text) => SasSignature().Replace(text, "$1REDACTED");

    [GeneratedRegex("([?&]sig=)[^&\\s\"']*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SasSignature();

    /// <summary>
    /// The exception for an error response: 404 → NotFound, 409 → AlreadyExists when the service says so, 412 → PreconditionFailed,
    /// 408/429/5xx → Storage (transient), everything else → Storage with the service's error code. No URL, header or body text is copied
    /// into the message, only the status, the sanitised error code and the request id.
    /// </summary>
    public LakehouseException Failure(Response response, string operation, string? blobName)
    {
        var code = ErrorCode(response);
        var requestId = response.Headers.TryGetValue("x-ms-request-id", out var id) ? Sanitize(id) : "";
        var detail = $"HTTP {response.Status}{(code.Length > 0 ? " " + code : "")}{(requestId.Length > 0 ? ", request id " + requestId : "")}";
        var target = Describe(blobName);
        return response.Status switch
        {
            404 => new LakehouseException(LakehouseErrorReason.NotFound,
                code == "ContainerNotFound"
                    ? $"{operation} of {target} failed: the container does not exist ({detail})."
                    : $"{target} does not exist ({operation}: {detail})."),
            409 when code is "BlobAlreadyExists" or "ContainerAlreadyExists" => new LakehouseException(LakehouseErrorReason.AlreadyExists,
                $"{target} already exists ({operation}: {detail})."),
            412 => new LakehouseException(LakehouseErrorReason.PreconditionFailed,
                $"{operation} of {target} failed: the blob changed ({detail})."),
            401 or 403 => new LakehouseException(LakehouseErrorReason.Storage,
                $"{operation} of {target} was refused ({detail}): check the account key, SAS (permissions, expiry) or the credential's role on the account.",
                isTransient: false),
            408 or 429 or >= 500 => new LakehouseException(LakehouseErrorReason.Storage,
                $"{operation} of {target} failed after {Options.MaxRetries + 1} tries ({detail}).", isTransient: true),
            _ => new LakehouseException(LakehouseErrorReason.Storage, $"{operation} of {target} failed ({detail}).", isTransient: false),
        };
    }

    /// <summary>The service's error code: the <c>x-ms-error-code</c> header, else the XML body's &lt;Code&gt;; letters and digits only.</summary>
    public static string ErrorCode(Response response)
    {
        if (response.Headers.TryGetValue("x-ms-error-code", out var header))
            return Sanitize(header);
        try
        {
            if (response.Content is { } content && content.ToMemory().Length > 0)
            {
                var code = XDocument.Parse(content.ToString()).Root?.Element("Code")?.Value;
                return code is null ? "" : Sanitize(code);
            }
        }
        catch (System.Xml.XmlException)
        {
            // Not an XML error body; the status alone has to do.
        }
        catch (InvalidOperationException)
        {
            // The body was streamed, not buffered.
        }
        return "";
    }

    /// <summary>'path' in container C of account A (for messages; no URL, no query).</summary>
    public string Describe(string? blobName) =>
        blobName is null ? $"container '{Container}' of account '{AccountName}'" : $"'{blobName}' in container '{Container}' of account '{AccountName}'";

    /// <summary>Percent-encodes each '/'-separated segment of a blob name.</summary>
    internal static string EscapeBlobName(string blobName) =>
        string.Join('/', blobName.Split('/').Select(Uri.EscapeDataString));

    private static string Sanitize(string value)
    {
        var text = new StringBuilder();
        foreach (var c in value)
        {
            if (char.IsAsciiLetterOrDigit(c) || c == '-') text.Append(c);
            if (text.Length == 64) break;
        }
        return text.ToString();
    }
}
