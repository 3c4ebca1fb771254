using Lakehouse.Bronze;
using Microsoft.Net.Http.Headers;

namespace Lakehouse.Serve.Ingest;

/// <summary>The Content-Types <c>POST /ingest/{dataset}</c> takes, and how each body is cut into events.</summary>
internal static class IngestMediaTypes
{
    /// <summary>For the Accept-Post header of a 415 answer.</summary>
    internal const string Accepted = "application/x-ndjson, application/json, text/plain";

    private static readonly string[] LineTypes = ["application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines", "application/jsonlines", "text/plain"];
    private static readonly string[] JsonTypes = ["application/json", "text/json"];

    /// <summary>The body format of <paramref name="contentType"/>, or null with the reason it is not taken.</summary>
    internal static HttpBodyFormat? FormatOf(string? contentType, out string? refusal)
    {
        refusal = null;
        if (string.IsNullOrWhiteSpace(contentType))
        {
            refusal = $"The request has no Content-Type; send {Accepted}.";
            return null;
        }
        if (!MediaTypeHeaderValue.TryParse(contentType, out var media) || media.MediaType.Value is not { } type)
        {
            refusal = $"Content-Type '{contentType}' is not a media type; send {Accepted}.";
            return null;
        }
        // A parameter value may be a quoted string (RFC 9110 5.6.6): charset="utf-8" is utf-8.
        if (HeaderUtilities.RemoveQuotes(media.Charset).Value is { } charset && !charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) && !charset.Equals("us-ascii", StringComparison.OrdinalIgnoreCase))
        {
            refusal = $"Charset '{charset}' is not taken: bodies are UTF-8 (their bytes are landed as sent).";
            return null;
        }
        if (LineTypes.Contains(type, StringComparer.OrdinalIgnoreCase)) return HttpBodyFormat.Lines;
        if (JsonTypes.Contains(type, StringComparer.OrdinalIgnoreCase) || (type.StartsWith("application/", StringComparison.OrdinalIgnoreCase) && type.EndsWith("+json", StringComparison.OrdinalIgnoreCase)))
            return HttpBodyFormat.Json;
        refusal = $"Content-Type '{type}' is not taken; send {Accepted} (one event per line, or a JSON array of events).";
        return null;
    }
}
