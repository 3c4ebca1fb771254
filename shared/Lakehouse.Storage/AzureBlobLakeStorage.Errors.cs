using System.Globalization;
using System.Text;
using Azure;
using Azure.Identity;
using Lakehouse.Core;

namespace Lakehouse.Storage;

/// <summary>
/// Every SDK call runs inside <see cref="RunAsync"/>: the retry policy learns from it what is being done to which blob
/// (for its log lines), and its failures become <see cref="LakehouseException"/> with the operation, the blob, the
/// container, the account, the HTTP status, error code and request id, or how many tries over how long, and never a URL
/// query, a key, a SAS or a token.
/// </summary>
internal sealed partial class AzureBlobLakeStorage
{
    private async Task<T> RunAsync<T>(string operation, string? blobName, Func<CancellationToken, Task<T>> action, CancellationToken cancellationToken)
    {
        var call = new StorageCall(operation, Describe(blobName));
        using var scope = call.Enter();
        try
        {
            return await action(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (Failure(e, call, cancellationToken) is { } failure)
        {
            throw failure;
        }
    }

    /// <summary>The exception to throw for <paramref name="e"/>, or null to let it pass (ours, or the caller's cancellation).</summary>
    private LakehouseException? Failure(Exception e, StorageCall call, CancellationToken cancellationToken)
    {
        var (operation, target) = (call.Operation, call.Target);
        var tries = $"{call.Tries} {(call.Tries == 1 ? "try" : "tries")} over {call.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s";
        var last = e is AggregateException { InnerExceptions.Count: > 0 } many ? many.InnerExceptions[^1] : e;
        switch (last)
        {
            case LakehouseException:
                return null;
            case OperationCanceledException when cancellationToken.IsCancellationRequested:
                return null;
            case RequestFailedException { Status: > 0 } response:
                return StatusFailure(response, call);
            case AuthenticationFailedException:
                return new LakehouseException(LakehouseErrorReason.Storage,
                    $"{operation} of {target} failed: no token for Azure storage could be obtained ({last.GetType().Name}). Sign in (az login), use a managed identity, or set AZURE_STORAGE_KEY / AZURE_STORAGE_SAS_TOKEN.",
                    isTransient: false);
            case OperationCanceledException:
                return new LakehouseException(LakehouseErrorReason.Storage,
                    $"{operation} of {target} timed out after {tries} (each try may wait {_shared.Options.NetworkTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s on the network).",
                    e);
            case RequestFailedException or IOException or System.Net.Http.HttpRequestException:
                return new LakehouseException(LakehouseErrorReason.Storage,
                    $"{operation} of {target} failed after {tries}: the blob endpoint {_shared.Endpoint.GetLeftPart(UriPartial.Path)} could not be reached ({LoggingRetryPolicy.Cause(last)}).",
                    e);
            default:
                return null;
        }
    }

    /// <summary>
    /// An error response: 404 → NotFound, 409 → AlreadyExists when the service says so, 412 → PreconditionFailed,
    /// 408/429/5xx → Storage (transient, after the retries), everything else → Storage with the service's error code. The SDK's
    /// exception is not kept as the inner one: its text quotes the response, which is not ours to vouch for.
    /// </summary>
    private static LakehouseException StatusFailure(RequestFailedException e, StorageCall call)
    {
        var (operation, target) = (call.Operation, call.Target);
        var detail = Detail(e);
        return e.Status switch
        {
            404 => new LakehouseException(LakehouseErrorReason.NotFound,
                e.ErrorCode == "ContainerNotFound"
                    ? $"{operation} of {target} failed: the container does not exist ({detail})."
                    : $"{target} does not exist ({detail})."),
            409 when e.ErrorCode is "BlobAlreadyExists" or "ContainerAlreadyExists" =>
                new LakehouseException(LakehouseErrorReason.AlreadyExists, $"{target} already exists ({detail})."),
            412 => new LakehouseException(LakehouseErrorReason.PreconditionFailed, $"{operation} of {target} failed: the blob changed ({detail})."),
            401 or 403 => new LakehouseException(LakehouseErrorReason.Storage,
                $"{operation} of {target} was refused ({detail}): check the account key, SAS (permissions, expiry) or the credential's role on the account.",
                isTransient: false),
            408 or 429 or >= 500 => new LakehouseException(LakehouseErrorReason.Storage,
                $"{operation} of {target} failed after {call.Tries} tries over {call.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s ({detail}).",
                isTransient: true),
            _ => new LakehouseException(LakehouseErrorReason.Storage, $"{operation} of {target} failed ({detail}).", isTransient: false),
        };
    }

    /// <summary>"HTTP 404 BlobNotFound, request id …": the status, the service's error code and its request id, sanitised.</summary>
    private static string Detail(RequestFailedException e)
    {
        var code = Sanitize(e.ErrorCode);
        var requestId = Sanitize(e.GetRawResponse()?.Headers.RequestId);
        return $"HTTP {e.Status}{(code.Length > 0 ? " " + code : "")}{(requestId.Length > 0 ? ", request id " + requestId : "")}";
    }

    /// <summary>Letters, digits and hyphens only, at most 64: what an error code or a request id is made of.</summary>
    private static string Sanitize(string? value)
    {
        var text = new StringBuilder();
        foreach (var c in value ?? "")
        {
            if (char.IsAsciiLetterOrDigit(c) || c == '-') text.Append(c);
            if (text.Length == 64) break;
        }
        return text.ToString();
    }
}
