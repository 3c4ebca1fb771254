using System.Globalization;
using System.Net;
using System.Text;

namespace Lakehouse.Datasets.Simulation;

/// <summary>
/// Web server access log lines (accesslogs) from five servers writing the formats real servers write: nginx combined
/// (www, static), nginx combined with request and upstream times appended (api), Apache vhost_combined with a <c>host:port</c>
/// prefix and a local offset (blog), and Apache common log format with <c>-</c> byte counts (legacy). Clients are IPv4 and
/// IPv6 addresses, some behind proxies that log an X-Forwarded-For list before the ident; visitors load a page, then its
/// assets and API calls; bots crawl and scanners probe; some requests are <c>"-"</c> (a connection closed without one).
/// </summary>
internal sealed class AccessLogGenerator : IEventGenerator
{
    private static readonly WeightedChoice<UserAgent> Agents = new(Vocabulary.UserAgents.Select(a => (a, a.Weight)));
    private static readonly string[] Months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    private static readonly string[] Probes = ["/wp-login.php", "/.env", "/phpmyadmin/", "/.git/config", "/admin/config.php", "/cgi-bin/luci", "/xmlrpc.php"];

    private readonly SimRandom _random;
    private readonly SimClock _clock;
    private readonly PageCatalog _pages = PageCatalog.Instance;
    private readonly Client[] _active;
    private readonly StringBuilder _line = new(400);
    private int _last;

    internal AccessLogGenerator(SimulatorOptions options)
    {
        _random = new SimRandom(options.Seed, stream: 5);
        _clock = new SimClock(options, options.Span ?? EventSimulator.DefaultSpan);
        _active = new Client[_clock.Concurrent(TimeSpan.FromSeconds(60))]; // a client's visits about a minute apart
        for (var i = 0; i < _active.Length; i++) _active[i] = NewClient();
    }

    public (byte[] Payload, string? Key) Next(long slot, bool late)
    {
        // A browser loads a page's assets right after the page: mostly the same client again while it has requests queued.
        var index = _active[_last].Pending.Count > 0 && _random.Chance(0.8) ? _last : _random.Next(_active.Length);
        _last = index;
        var client = _active[index];
        if (client.Pending.Count == 0)
        {
            if (client.Visits-- <= 0)
            {
                client = _active[index] = NewClient();
            }
            Visit(client);
        }
        var request = client.Pending.Dequeue();
        var time = _clock.At(slot, _random);
        if (late) time = SimClock.Late(time, _random);
        return (Encoding.UTF8.GetBytes(Line(client, request, time)), client.Address);
    }

    public void Dispose()
    {
    }

    /// <summary>A cut before the timestamp's closing bracket can never parse.</summary>
    public int LastParsablePrefix(byte[] payload) => Math.Max(2, Array.IndexOf(payload, (byte)']'));

    private Client NewClient()
    {
        var agent = Agents.Pick(_random);
        string address;
        if (_random.Chance(0.13))
        {
            Span<byte> v6 = stackalloc byte[16];
            ushort[] prefixes = [0x2a02, 0x2001, 0x2600, 0x2a01, 0x2403];
            var prefix = _random.Pick(prefixes);
            v6[0] = (byte)(prefix >> 8);
            v6[1] = (byte)prefix;
            for (var i = 2; i < 16; i++) v6[i] = _random.Chance(0.3) ? (byte)0 : (byte)_random.Next(256);
            address = new IPAddress(v6).ToString();
        }
        else
        {
            address = string.Join('.', _random.Next(1, 224), _random.Next(256), _random.Next(256), _random.Next(1, 255));
        }
        var proxied = _random.Chance(0.04);
        return new Client
        {
            Address = address,
            Logged = proxied ? $"{address}, 10.{_random.Next(256)}.{_random.Next(256)}.{_random.Next(1, 255)}" : address,
            Agent = agent,
            User = _random.Chance(0.03) ? _random.Pick(["alice", "bob", "carol", "deploy", "j.smith"]) : null,
            Referrer = agent.IsBot ? null : _random.Pick(Vocabulary.Referrers) is { Length: > 0 } r ? r : null,
            Visits = _random.Geometric(agent.IsBot ? 6 : 3),
            Scanner = agent.IsBot && _random.Chance(0.2),
            Http2 = !agent.IsBot && _random.Chance(0.8),
            Auditor = agent.IsBot && _random.Chance(0.03),
            Protocol = agent.Text.StartsWith("curl", StringComparison.Ordinal) || agent.Text.StartsWith("python", StringComparison.Ordinal) ? "HTTP/1.0" : "HTTP/1.1",
        };
    }

    /// <summary>Queues one visit: a page and what the browser loads with it, or a bot's request.</summary>
    private void Visit(Client client)
    {
        if (client.Scanner)
        {
            client.Pending.Enqueue(new Request("www", _random.Chance(0.8) ? "GET" : "POST", _random.Pick(Probes), 404, null));
            return;
        }
        if (client.Agent.IsBot && _random.Chance(0.15))
        {
            client.Pending.Enqueue(new Request("www", "GET", _random.Chance(0.5) ? "/robots.txt" : "/sitemap.xml", 200, null));
            return;
        }
        if (_random.Chance(0.004))
        {
            client.Pending.Enqueue(new Request(_random.Chance(0.5) ? "www" : "api", null, null, _random.Chance(0.5) ? 400 : 408, null));
            return;
        }
        var server = _random.NextDouble() switch { < 0.75 => "www", < 0.9 => "blog", _ => "legacy" };
        var page = _pages.PickOn(server == "blog" ? PageCatalog.BlogHost : server == "legacy" ? PageCatalog.HelpHost : PageCatalog.ShopHost, _random);
        var target = page.PathAndQuery;
        if (!client.Agent.IsBot && client.Referrer is not null && _random.Chance(0.2))
            target += (page.Query.Count == 0 ? "?" : "&") + "utm_source=newsletter&utm_medium=email";
        var pageStatus = _random.NextDouble() switch { < 0.015 => 404, < 0.02 => 301, < 0.025 => 500, < 0.06 => 304, _ => 200 };
        var method = client.Agent.IsBot && _random.Chance(0.1) ? "HEAD" : "GET";
        var pageUrl = "https://" + page.Host + page.PathAndQuery;
        client.Pending.Enqueue(new Request(server, method, target, pageStatus, client.Referrer));
        client.Referrer = pageUrl;
        if (client.Agent.IsBot || pageStatus >= 300) return;

        // The page's assets and API calls, all referred by the page.
        var assets = _random.Next(2, 7);
        for (var i = 0; i < assets; i++)
        {
            var asset = _random.NextDouble() switch
            {
                < 0.25 => "/static/js/app.3f9a2c1e.js",
                < 0.4 => "/static/css/main.8b1d07aa.css",
                < 0.5 => "/fonts/inter-var.woff2",
                < 0.55 => "/favicon.ico",
                _ => $"/img/p/{_random.Next(10_000, 60_000)}-{_random.Pick(["320", "640", "1280"])}.webp",
            };
            var status = _random.NextDouble() switch { < 0.3 => 304, < 0.31 => 404, _ => 200 };
            client.Pending.Enqueue(new Request("static", "GET", asset, status, pageUrl));
        }
        if (server == "www" && _random.Chance(0.6))
        {
            var (method2, api, status2) = _random.NextDouble() switch
            {
                < 0.4 => ("GET", $"/api/v1/products/{_random.Next(10_000, 60_000)}", 200),
                < 0.6 => ("GET", "/api/v1/session", _random.Chance(0.2) ? 401 : 200),
                < 0.75 => ("POST", "/api/v1/cart/items", 201),
                < 0.82 => ("DELETE", $"/api/v1/cart/items/{_random.Next(1, 9)}", 204),
                < 0.97 => ("GET", "/api/v1/search?q=" + Uri.EscapeDataString(_random.Pick(Vocabulary.SearchTerms)) + "&limit=24", 200),
                _ => ("OPTIONS", "/api/v1/cart/items", 204),
            };
            status2 = _random.NextDouble() switch { < 0.01 => 429, < 0.013 => 500, < 0.015 => 503, _ => status2 };
            client.Pending.Enqueue(new Request("api", method2, api, status2, pageUrl));
        }
    }

    private string Line(Client client, Request request, DateTimeOffset time)
    {
        var (vhost, offset, apache, common, timings) = request.Server switch
        {
            "blog" => ("blog.example-shop.com:443", TimeSpan.FromHours(2), true, false, false),
            "legacy" => (null, TimeSpan.FromHours(-7), true, true, false),
            "api" => (null, TimeSpan.Zero, false, false, true),
            "static" => (null, TimeSpan.Zero, false, false, false),
            _ => ((string?)null, TimeSpan.Zero, false, false, false),
        };
        var sb = _line.Clear();
        if (vhost is not null) sb.Append(vhost).Append(' ');
        sb.Append(apache ? client.Address : client.Logged).Append(" - ").Append(client.User ?? "-").Append(" [");
        var local = time.ToOffset(offset);
        sb.Append(local.Day.ToString("00", CultureInfo.InvariantCulture)).Append('/').Append(Months[local.Month - 1]).Append('/')
          .Append(local.ToString("yyyy:HH:mm:ss ", CultureInfo.InvariantCulture))
          .Append(offset < TimeSpan.Zero ? '-' : '+').Append(offset.Duration().ToString("hhmm", CultureInfo.InvariantCulture)).Append("] \"");
        var protocol = client.Http2 && request.Server is "www" or "static" or "api" ? "HTTP/2.0" : client.Protocol;
        if (request.Method is null) sb.Append('-');
        else sb.Append(request.Method).Append(' ').Append(request.Target).Append(' ').Append(protocol);
        sb.Append("\" ").Append(request.Status.ToString(CultureInfo.InvariantCulture)).Append(' ');
        var bytes = Bytes(request);
        sb.Append(bytes == 0 && apache ? "-" : bytes.ToString(CultureInfo.InvariantCulture));
        if (!common)
        {
            sb.Append(" \"").Append(request.Referrer ?? "-").Append("\" \"");
            if (request.Method is null) sb.Append('-');
            else if (client.Auditor) sb.Append("Mozilla/5.0 (compatible; \\\"SiteAuditor\\\"/2.1)"); // a quote, escaped as servers do
            else sb.Append(client.Agent.Text);
            sb.Append('"');
        }
        if (timings)
        {
            var seconds = _random.LogNormal(0.04, 0.8);
            sb.Append(' ').Append(seconds.ToString("0.000", CultureInfo.InvariantCulture)).Append(' ')
              .Append(request.Status is 429 or 204 ? "-" : (seconds * 0.9).ToString("0.000", CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    private long Bytes(Request request)
    {
        if (request.Method is null || request.Method == "HEAD" || request.Status is 204 or 304) return 0;
        if (request.Status >= 300) return _random.Next(150, 600);
        var target = request.Target!;
        var median = target.EndsWith(".js", StringComparison.Ordinal) ? 180_000
            : target.EndsWith(".css", StringComparison.Ordinal) ? 45_000
            : target.EndsWith(".webp", StringComparison.Ordinal) ? 60_000
            : target.EndsWith(".woff2", StringComparison.Ordinal) ? 90_000
            : target.StartsWith("/api/", StringComparison.Ordinal) ? 1_800
            : 28_000;
        return (long)Math.Max(1, _random.LogNormal(median, 0.6));
    }

    private sealed record Request(string Server, string? Method, string? Target, int Status, string? Referrer);

    private sealed class Client
    {
        internal required string Address { get; init; }
        internal required string Logged { get; init; }
        internal required UserAgent Agent { get; init; }
        internal required string? User { get; init; }
        internal required string? Referrer { get; set; }
        internal required int Visits { get; set; }
        internal required bool Scanner { get; init; }
        internal required bool Http2 { get; init; }
        internal required bool Auditor { get; init; }
        internal required string Protocol { get; init; }
        internal Queue<Request> Pending { get; } = new();
    }
}
