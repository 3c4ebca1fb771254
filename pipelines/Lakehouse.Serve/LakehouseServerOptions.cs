using Lakehouse.Serve.Dashboard;
using Lakehouse.Serve.Ingest;
using Lakehouse.Serve.Monitoring;

namespace Lakehouse.Serve;

/// <summary>What <c>lakehouse serve</c> listens on and how it stops; each endpoint group has its own options beside.</summary>
public sealed class LakehouseServerOptions
{
    /// <summary>The default address: the loopback interface only, port 8080.</summary>
    public const string DefaultUrl = "http://127.0.0.1:8080";

    private IReadOnlyList<string> _urls = [DefaultUrl];
    private TimeSpan _shutdownTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The addresses to listen on, each <c>http://host:port</c> (port 0 picks a free one; <c>*</c> or <c>0.0.0.0</c> for every
    /// interface). Plain HTTP only: TLS belongs to a reverse proxy in front. Default <see cref="DefaultUrl"/>.
    /// </summary>
    public IReadOnlyList<string> Urls
    {
        get => _urls;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            if (value.Count == 0) throw new ArgumentException("At least one address.", nameof(value));
            foreach (var url in value)
            {
                if (CheckUrl(url) is { } problem) throw new ArgumentException(problem, nameof(value));
            }
            _urls = [.. value];
        }
    }

    /// <summary>
    /// Host names the server answers to besides IP addresses and <c>localhost</c> (default none): a request with another Host is
    /// refused, so a page whose DNS name was re-pointed at this machine cannot read it as its own (see <see cref="RequestGuard"/>).
    /// </summary>
    public IReadOnlyList<string> AllowedHosts { get; set; } = [];

    /// <summary>
    /// How long a stop waits for requests in flight (their commits finish in any case) before it closes their connections
    /// (default 30 s).
    /// </summary>
    public TimeSpan ShutdownTimeout
    {
        get => _shutdownTimeout;
        set => _shutdownTimeout = value > TimeSpan.Zero && value <= TimeSpan.FromHours(1)
            ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "Between 0 (excluded) and 1 hour.");
    }

    /// <summary>HTTP ingest: <c>POST /ingest/{dataset}</c>.</summary>
    public HttpIngestOptions Ingest { get; } = new();

    /// <summary>Whether <c>POST /ingest/{dataset}</c> is served (default true; <c>lakehouse stream</c> from Kafka or Event Hubs turns it off).</summary>
    public bool IngestEnabled { get; set; } = true;

    /// <summary><c>GET /metrics</c> and <c>GET /progress</c>: what the command running the server reports.</summary>
    public MonitorOptions Monitor { get; } = new();

    /// <summary>The dashboard: <c>GET /</c> and <c>GET /api/…</c>.</summary>
    public DashboardOptions Dashboard { get; } = new();

    /// <summary>Why <paramref name="url"/> cannot be listened on, or null when it can.</summary>
    public static string? CheckUrl(string url)
    {
        if (string.IsNullOrWhiteSpace(url)) return "An address is blank.";
        if (url.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
            return $"'{url}': HTTPS is not served; listen on http:// and put a TLS-terminating proxy in front.";
        if (!url.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
            return $"'{url}' is not an address to listen on: write http://host:port, e.g. {DefaultUrl}.";
        var rest = url["http://".Length..].TrimEnd('/');
        var colon = rest.LastIndexOf(':');
        var host = colon > 0 && !rest.EndsWith(']') ? rest[..colon] : rest;
        var port = colon > 0 && !rest.EndsWith(']') ? rest[(colon + 1)..] : "80";
        if (host.Length == 0 || rest.Contains('/', StringComparison.Ordinal) || !ushort.TryParse(port, out _))
            return $"'{url}' is not an address to listen on: write http://host:port with a port from 0 to 65535, and no path.";
        // Kestrel listens on every interface for any host that is not an IP address or localhost: a typo would expose the server.
        if (host is not ("localhost" or "*" or "+") && !System.Net.IPAddress.TryParse(host.TrimStart('[').TrimEnd(']'), out _))
            return $"'{url}': '{host}' is not an IP address or localhost, and for any other host Kestrel listens on every interface; " +
                   "write the address to listen on (127.0.0.1, [::1], or 0.0.0.0 for every interface).";
        return null;
    }
}
