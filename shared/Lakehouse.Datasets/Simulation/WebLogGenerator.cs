using System.Text;

namespace Lakehouse.Datasets.Simulation;

/// <summary>
/// Web performance events (weblogs): visitors in sessions of several page views over the catalog's 2,000 pages, URLs as browsers
/// send them (host case, default ports, parameter order, utm_*/gclid/fbclid, fragments), log-normal TTI and TTAR with a heavy
/// tail (TTAR sometimes null), browsers, phones, tablets and bots, countries with their network speeds and UTC offsets, and
/// some 4xx/5xx pages. Event times spread over the span (3 days by default).
/// </summary>
internal sealed class WebLogGenerator : IEventGenerator
{
    private const double MaxTimingMs = 599_000; // the definition's expectations allow under 10 minutes

    private static readonly WeightedChoice<UserAgent> Agents = new(Vocabulary.UserAgents.Select(a => (a, a.Weight)));
    private static readonly WeightedChoice<Country> Countries = new(Vocabulary.Countries.Select(c => (c, c.Weight)));

    private readonly SimRandom _random;
    private readonly SimClock _clock;
    private readonly PageCatalog _pages = PageCatalog.Instance;
    private readonly Session[] _active;
    private readonly JsonEvents _json = new();

    internal WebLogGenerator(SimulatorOptions options)
    {
        _random = new SimRandom(options.Seed, stream: 2);
        _clock = new SimClock(options, options.Span ?? EventSimulator.DefaultSpan);
        // As many sessions open at once as make a session's page views about 90 seconds apart at this event rate.
        _active = new Session[_clock.Concurrent(TimeSpan.FromSeconds(90))];
        for (var i = 0; i < _active.Length; i++) _active[i] = NewSession();
    }

    public (byte[] Payload, string? Key) Next(long slot, bool late)
    {
        var index = _random.Next(_active.Length);
        var session = _active[index];
        var time = _clock.At(slot, _random);
        if (late) time = SimClock.Late(time, _random);
        var payload = Event(session, time);
        if (--session.Remaining <= 0) _active[index] = NewSession();
        return (payload, session.Id);
    }

    public void Dispose() => _json.Dispose();

    public int LastParsablePrefix(byte[] payload) => payload.Length - 1;

    private Session NewSession()
    {
        var agent = Agents.Pick(_random);
        var country = Countries.Pick(_random);
        var referrer = _random.Pick(Vocabulary.Referrers);
        string? campaign = null;
        if (!agent.IsBot && _random.Chance(0.3))
        {
            var source = referrer.Contains("facebook", StringComparison.Ordinal) || referrer.Contains("instagram", StringComparison.Ordinal) ? "facebook"
                : referrer.Contains("google", StringComparison.Ordinal) ? "google" : _random.Pick(["newsletter", "google", "partner"]);
            var medium = source == "newsletter" ? "email" : source == "partner" ? "referral" : _random.Pick(["cpc", "social", "display"]);
            campaign = $"utm_source={source}&utm_medium={medium}&utm_campaign={_random.Pick(Vocabulary.Campaigns)}";
            if (_random.Chance(0.2)) campaign += "&utm_content=" + _random.Pick(["banner_a", "banner_b", "text_link"]);
            if (source == "google" && _random.Chance(0.6)) campaign += "&gclid=" + ClickId(_random, 40);
            if (source == "facebook" && _random.Chance(0.7)) campaign += "&fbclid=" + ClickId(_random, 60);
        }
        return new Session
        {
            Id = _random.Hex(12),
            Agent = agent,
            Country = country,
            CountryText = _random.NextDouble() switch
            {
                < 0.005 => null,
                < 0.015 => country.Alpha3,
                < 0.035 => country.Alpha2.ToLowerInvariant(),
                _ => country.Alpha2,
            },
            LocalTime = _random.Chance(0.3),
            Referrer = agent.IsBot ? "" : referrer,
            Campaign = campaign,
            Viewport = agent.Device switch
            {
                "mobile" => _random.Pick(Vocabulary.MobileViewports),
                "tablet" => _random.Pick(Vocabulary.TabletViewports),
                _ => _random.Pick(Vocabulary.Viewports),
            },
            Connection = agent.Device == "desktop" ? _random.Pick(["wifi", "ethernet", "wifi"]) : _random.Pick(Vocabulary.Connections),
            Experiment = _random.Chance(0.2) ? _random.Pick(["A", "B"]) : null,
            Remaining = _random.Geometric(agent.IsBot ? 8 : 4.5),
        };
    }

    private byte[] Event(Session session, DateTimeOffset time)
    {
        var page = _pages.Pick(_random);
        var status = Status(session, page);
        var (tti, ttar) = Timings(session, page, status);
        var first = !session.Started;
        session.Started = true;

        var w = _json.Begin();
        w.WriteString("event_id", _random.Uuid());
        w.WriteString("timestamp", JsonEvents.Timestamp(time, session.LocalTime ? session.Country.Offset : null));
        w.WriteString("page_url", Url(session, page, first));
        w.WriteNumber("tti_ms", tti);
        if (ttar is { } t) w.WriteNumber("ttar_ms", t);
        else w.WriteNull("ttar_ms");
        w.WriteNumber("status", status);
        w.WriteString("session_id", session.Id);
        if (_random.Chance(0.004)) w.WriteNull("user_agent");
        else w.WriteString("user_agent", session.Agent.Text);
        if (session.CountryText is null) w.WriteNull("country");
        else w.WriteString("country", session.CountryText);
        w.WriteStartObject("attrs");
        if (session.Agent.IsBot)
        {
            w.WriteBoolean("bot", true);
        }
        else
        {
            w.WriteString("referrer", first ? session.Referrer : session.LastPage!.Canonical);
            w.WriteString("viewport", session.Viewport);
            w.WriteString("connection", session.Connection);
            w.WriteString("release", (time - _clock.Start).TotalDays < 1.5 ? "2024.04.7" : "2024.05.1");
            if (session.Experiment is { } arm)
            {
                w.WriteStartObject("experiment");
                w.WriteString("name", "checkout_v2");
                w.WriteString("arm", arm);
                w.WriteEndObject();
            }
            if (_random.Chance(0.1)) w.WriteBoolean("consent", _random.Chance(0.8));
        }
        w.WriteEndObject();
        session.LastPage = page;
        return _json.End();
    }

    private int Status(Session session, Page page)
    {
        var u = _random.NextDouble();
        if (session.Agent.IsBot) return u < 0.08 ? 404 : u < 0.11 ? 301 : 200;
        if (u < page.ServerErrorRate) return _random.Pick([500, 500, 502, 503, 504]);
        u -= page.ServerErrorRate;
        return u < 0.015 ? 404 : u < 0.03 ? 304 : u < 0.033 ? 403 : 200;
    }

    private (double Tti, double? Ttar) Timings(Session session, Page page, int status)
    {
        var device = session.Agent.Device switch { "mobile" => 1.6, "tablet" => 1.3, "bot" => 0.6, _ => 1.0 };
        var median = status switch { >= 500 => 900, 404 or 403 => 700, 304 => page.TtiMedianMs * 0.6, _ => page.TtiMedianMs };
        var tti = _random.LogNormal(median * device * session.Country.NetworkFactor, 0.55);
        if (_random.Chance(0.02)) tti *= _random.Uniform(3, 12); // the heavy tail: stalls, third-party scripts
        tti = Math.Round(Math.Clamp(tti, 40, MaxTimingMs), 1);
        if (session.Agent.IsBot ? _random.Chance(0.7) : _random.Chance(0.07)) return (tti, null);
        var ttar = Math.Round(Math.Min(tti * (1.05 + _random.LogNormal(0.35, 0.6)), MaxTimingMs), 1);
        return (tti, ttar);
    }

    /// <summary>The page's URL as a browser sends it: scheme and host case, default port, parameter order, tracking parameters, fragment.</summary>
    private string Url(Session session, Page page, bool landing)
    {
        var sb = new StringBuilder(160);
        var scheme = _random.NextDouble() switch { < 0.01 => "HTTPS", < 0.05 => "http", _ => "https" };
        sb.Append(scheme).Append("://").Append(_random.NextDouble() switch
        {
            < 0.06 => page.Host.ToUpperInvariant(),
            < 0.15 => MixedCase(page.Host),
            _ => page.Host,
        });
        if (_random.Chance(0.03)) sb.Append(scheme.Equals("http", StringComparison.OrdinalIgnoreCase) ? ":80" : ":443");
        sb.Append(page.Path);

        var parameters = new List<string>(page.Parameters);
        if (parameters.Count > 1 && _random.Chance(0.3)) parameters.Reverse();
        if (landing && session.Campaign is { } campaign)
        {
            if (_random.Chance(0.2)) parameters.Insert(0, campaign);
            else parameters.Add(campaign);
        }
        else if (!session.Agent.IsBot && _random.Chance(0.03))
        {
            parameters.Add("fbclid=" + ClickId(_random, 60)); // a shared link, clicked again
        }
        if (parameters.Count > 0) sb.Append('?').AppendJoin('&', parameters);
        if (_random.Chance(0.04)) sb.Append('#').Append(_random.Pick(["reviews", "top", "details", "comments"]));
        return sb.ToString();
    }

    private static string MixedCase(string host) =>
        string.Join('.', host.Split('.').Select((part, i) => i == 0 ? part.ToUpperInvariant() : char.ToUpperInvariant(part[0]) + part[1..]));

    private static string ClickId(SimRandom random, int length)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
        var chars = new char[length];
        for (var i = 0; i < length; i++) chars[i] = alphabet[random.Next(alphabet.Length)];
        return new string(chars);
    }

    private sealed class Session
    {
        internal required string Id { get; init; }
        internal required UserAgent Agent { get; init; }
        internal required Country Country { get; init; }
        internal required string? CountryText { get; init; }
        internal required bool LocalTime { get; init; }
        internal required string Referrer { get; init; }
        internal required string? Campaign { get; init; }
        internal required string Viewport { get; init; }
        internal required string Connection { get; init; }
        internal required string? Experiment { get; init; }
        internal int Remaining { get; set; }
        internal bool Started { get; set; }
        internal Page? LastPage { get; set; }
    }
}
