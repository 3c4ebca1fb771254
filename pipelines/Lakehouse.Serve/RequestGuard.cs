using System.Net;
using Microsoft.AspNetCore.Http;

namespace Lakehouse.Serve;

/// <summary>
/// Refuses the requests a web page can make a browser send to a server on the user's machine. A Host that is not an IP address,
/// <c>localhost</c> or one of the allowed names (DNS rebinding: a page of evil.example, its name re-pointed at 127.0.0.1, reads
/// the dashboard's API as its own origin); and a request that changes something (any method but GET, HEAD and OPTIONS) sent from
/// another origin: a text/plain POST is a "simple" request, sent without a CORS preflight, so any page could land events in the
/// lake. Browsers say where a request comes from (Origin, Sec-Fetch-Site); other clients (curl, the simulator, a collector) send
/// neither and are not concerned.
/// </summary>
internal static class RequestGuard
{
    /// <summary>Why <paramref name="request"/> is refused (status, title, detail), or null when it may go on.</summary>
    internal static (int Status, string Title, string Detail)? Check(HttpRequest request, IReadOnlyCollection<string> allowedHosts)
    {
        var host = request.Host.Host;
        if (!IsAllowedHost(host, allowedHosts))
            return (StatusCodes.Status400BadRequest, "Host not allowed",
                $"This server answers to IP addresses, localhost and the names given with --allowed-host, not to the host '{host}'.");
        if (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method)) return null;
        var site = request.Headers["Sec-Fetch-Site"].ToString();
        var origin = request.Headers.Origin.ToString();
        if (site is "cross-site" or "same-site" || (origin.Length > 0 && !SameOrigin(origin, request)))
            return (StatusCodes.Status403Forbidden, "Cross-origin request refused",
                $"A {request.Method} from another origin ({(origin.Length > 0 ? origin : site)}) is refused: a web page may not change the lake. Send it from a program, or from a page of this server.");
        return null;
    }

    private static bool IsAllowedHost(string host, IReadOnlyCollection<string> allowedHosts)
    {
        if (host.Length == 0) return false;
        var bare = host.StartsWith('[') && host.EndsWith(']') ? host[1..^1] : host;
        return IPAddress.TryParse(bare, out _) || string.Equals(bare, "localhost", StringComparison.OrdinalIgnoreCase)
            || allowedHosts.Contains(bare, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>Whether the Origin header names this server as the request reached it (scheme http, same host and port).</summary>
    private static bool SameOrigin(string origin, HttpRequest request) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri) && uri.Scheme == request.Scheme
        && string.Equals(uri.Host, request.Host.Host.Trim('[', ']'), StringComparison.OrdinalIgnoreCase)
        && uri.Port == (request.Host.Port ?? (request.Scheme == "https" ? 443 : 80));
}
