using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Lakehouse.Storage;

/// <summary>
/// Signs each try of a request with the account key, as "Authorize with Shared Key" specifies for the Blob service
/// (version 2015-02-21 and later): <c>Authorization: SharedKey account:base64(HMAC-SHA256(key, StringToSign))</c>.
/// Runs after every policy that adds <c>x-ms-</c> headers, once per try (the date changes).
/// </summary>
internal sealed class AzureSharedKeyPolicy : HttpPipelineSynchronousPolicy
{
    private readonly string _accountName;
    private readonly byte[] _key;

    public AzureSharedKeyPolicy(string accountName, string accountKey)
    {
        _accountName = accountName;
        _key = Convert.FromBase64String(accountKey);
    }

    public override void OnSendingRequest(HttpMessage message)
    {
        var request = message.Request;
        request.Headers.SetValue("x-ms-date", DateTimeOffset.UtcNow.ToString("r", CultureInfo.InvariantCulture));
        var stringToSign = StringToSign(_accountName, request);
        var signature = Convert.ToBase64String(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(stringToSign)));
        request.Headers.SetValue("Authorization", "SharedKey " + _accountName + ":" + signature);
    }

    /// <summary>The string the service signs for <paramref name="request"/>: verb, standard headers, canonicalized headers and resource.</summary>
    internal static string StringToSign(string accountName, Request request)
    {
        var contentLength = request.Content is not null && request.Content.TryComputeLength(out var length) && length > 0
            ? length.ToString(CultureInfo.InvariantCulture)
            : "";
        var text = new StringBuilder();
        text.Append(request.Method.Method).Append('\n')
            .Append(Header(request, "Content-Encoding")).Append('\n')
            .Append(Header(request, "Content-Language")).Append('\n')
            .Append(contentLength).Append('\n')
            .Append(Header(request, "Content-MD5")).Append('\n')
            .Append(Header(request, "Content-Type")).Append('\n')
            .Append('\n') // Date: empty, x-ms-date is used.
            .Append(Header(request, "If-Modified-Since")).Append('\n')
            .Append(Header(request, "If-Match")).Append('\n')
            .Append(Header(request, "If-None-Match")).Append('\n')
            .Append(Header(request, "If-Unmodified-Since")).Append('\n')
            .Append(Header(request, "Range")).Append('\n');

        var headers = new List<(string Name, string Value)>();
        foreach (var header in request.Headers)
        {
            if (header.Name.StartsWith("x-ms-", StringComparison.OrdinalIgnoreCase))
                headers.Add((header.Name.ToLowerInvariant(), header.Value.Trim()));
        }
        headers.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        foreach (var (name, value) in headers)
            text.Append(name).Append(':').Append(value).Append('\n');

        text.Append('/').Append(accountName);
        var path = request.Uri.Path;
        text.Append(path.Length == 0 ? "/" : path);
        var query = request.Uri.Query.TrimStart('?');
        if (query.Length > 0)
        {
            var parameters = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
            foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = pair.IndexOf('=', StringComparison.Ordinal);
                var name = Uri.UnescapeDataString(eq < 0 ? pair : pair[..eq]).ToLowerInvariant();
                var value = eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..]);
                if (!parameters.TryGetValue(name, out var values)) parameters[name] = values = [];
                values.Add(value);
            }
            foreach (var (name, values) in parameters)
            {
                values.Sort(StringComparer.Ordinal);
                text.Append('\n').Append(name).Append(':').Append(string.Join(',', values));
            }
        }
        return text.ToString();
    }

    private static string Header(Request request, string name) =>
        request.Headers.TryGetValue(name, out var value) ? value : "";
}

/// <summary>Adds a shared access signature's query parameters to every request (once per call; retries reuse the URI).</summary>
internal sealed class AzureSasPolicy : HttpPipelineSynchronousPolicy
{
    private readonly (string Name, string Value)[] _parameters;

    public AzureSasPolicy(string sasToken)
    {
        _parameters = [.. sasToken.TrimStart('?')
            .Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.IndexOf('=', StringComparison.Ordinal) is var eq and >= 0 ? (p[..eq], p[(eq + 1)..]) : (p, ""))];
    }

    public override void OnSendingRequest(HttpMessage message)
    {
        var uri = message.Request.Uri;
        if (uri.Query.Contains("sig=", StringComparison.Ordinal)) return;
        foreach (var (name, value) in _parameters)
            uri.AppendQuery(name, value, escapeValue: false);
    }
}
