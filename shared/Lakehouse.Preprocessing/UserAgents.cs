namespace Lakehouse.Preprocessing;

/// <summary>
/// User agent → browser family, device class and bot flag, by ordered, documented rules (no maintained user agent parser
/// package is served from the project's NuGet feed). A pure, thread-safe function of its input; never throws.
/// </summary>
/// <remarks>
/// <para>Tokens are matched as substrings ignoring ASCII case; the first rule that matches wins. The text is trimmed first as
/// <see cref="TextCleaning.Clean"/> does; null, blank and <c>-</c> give <c>Other</c>, <c>other</c>, not a bot.</para>
/// <para><b>1. Bots</b> (device class <c>bot</c>). A user agent is a bot when it holds a known bot or client token (family in
/// brackets): Googlebot, AdsBot-Google, Mediapartners-Google, bingbot, YandexBot, Baiduspider, DuckDuckBot, Applebot,
/// AhrefsBot, SemrushBot, MJ12bot, DotBot, PetalBot, Bytespider, GPTBot, ClaudeBot, CCBot, Amazonbot, Twitterbot, LinkedInBot,
/// Slackbot, Discordbot, Pinterestbot, facebookexternalhit [FacebookBot], Yahoo! Slurp [Yahoo! Slurp], Chrome-Lighthouse
/// [Lighthouse], HeadlessChrome, PhantomJS, curl, Wget, python-requests [Python Requests], Python-urllib [Python urllib],
/// Go-http-client [Go http client], okhttp [OkHttp], Apache-HttpClient, Java, libwww-perl, Scrapy; or, family <c>Other</c>, when
/// a word (a run of letters) ends in <c>bot</c> or <c>bots</c> (not the phone maker <c>CUBOT</c>) or contains <c>crawl</c>,
/// <c>spider</c> or <c>scraper</c>; or it holds a URL (<c>http://</c>, <c>https://</c>: browsers never do, crawlers name their
/// contact page); or it is <c>Mozilla/5.0 (compatible; …)</c> naming no platform (Windows, Mac, Linux, Android, iPhone, iPad,
/// CrOS, X11) and no MSIE.</para>
/// <para><b>2. Browser family</b>, in this order: <c>Edge Mobile</c> (EdgA/, EdgiOS/, or Edge/ with Mobile), <c>Edge</c> (Edg/,
/// Edge/) before everything built on Chrome; <c>Opera Mini</c>; <c>Opera Mobile</c> (OPR/ with Mobile); <c>Opera</c> (OPR/,
/// Opera); <c>Samsung Internet</c> (SamsungBrowser/); <c>Yandex Browser</c> (YaBrowser/); <c>UC Browser</c> (UCBrowser/);
/// <c>Amazon Silk</c> (Silk/); <c>Facebook</c> (FBAN/, FBAV/); <c>Instagram</c>; <c>Firefox iOS</c> (FxiOS/);
/// <c>Firefox Mobile</c> (Firefox/ on Android or with Mobile); <c>Firefox</c>; <c>Chrome Mobile iOS</c> (CriOS/); <c>Chromium</c>;
/// <c>Chrome Mobile WebView</c> (Chrome/ with <c>; wv)</c>); <c>Chrome Mobile</c> (Chrome/ with Mobile); <c>Chrome</c>; <c>IE</c> (MSIE, Trident/); <c>Mobile Safari</c> (AppleWebKit on iPhone, iPad or iPod); <c>Android</c>
/// (the old stock browser: Android with Version/ and Safari/); <c>Safari</c> (Safari/); else <c>Other</c>.</para>
/// <para><b>3. Device class</b>, in this order: <c>tablet</c> (iPad, Tablet but not "Tablet PC", Kindle, Silk/, PlayBook);
/// <c>mobile</c> (iPhone, iPod, Mobile, Mobi, Windows Phone, Opera Mini, BlackBerry, BB10); <c>tablet</c> (Android without
/// Mobile); <c>other</c> (TVs and consoles: SMART-TV, SmartTV, Tizen TV, Web0S, webOS.TV, HbbTV, CrKey, AppleTV, PlayStation,
/// Xbox, Nintendo); <c>desktop</c> (Windows, Macintosh, Mac OS X, X11, Linux, CrOS); else <c>other</c>.</para>
/// <para>Known limits: iPadOS 13+ Safari sends a Macintosh user agent and counts as <c>desktop</c>; a bot that sends a browser's
/// exact user agent counts as that browser; client hints (Sec-CH-UA) are not seen.</para>
/// </remarks>
public static class UserAgents
{
    private static readonly UserAgentInfo Unknown = new("Other", "other", false);

    // Tokens are lower case: they are searched in the ASCII-lower-cased user agent.
    private static readonly (string Token, string Family)[] BotTokens = Lower(
    [
        ("Googlebot", "Googlebot"), ("AdsBot-Google", "AdsBot-Google"), ("Mediapartners-Google", "Mediapartners-Google"),
        ("bingbot", "bingbot"), ("YandexBot", "YandexBot"), ("Baiduspider", "Baiduspider"), ("DuckDuckBot", "DuckDuckBot"),
        ("Applebot", "Applebot"), ("AhrefsBot", "AhrefsBot"), ("SemrushBot", "SemrushBot"), ("MJ12bot", "MJ12bot"), ("DotBot", "DotBot"),
        ("PetalBot", "PetalBot"), ("Bytespider", "Bytespider"), ("GPTBot", "GPTBot"), ("ClaudeBot", "ClaudeBot"), ("CCBot", "CCBot"),
        ("Amazonbot", "Amazonbot"), ("Twitterbot", "Twitterbot"), ("LinkedInBot", "LinkedInBot"), ("Slackbot", "Slackbot"),
        ("Discordbot", "Discordbot"), ("Pinterestbot", "Pinterestbot"), ("facebookexternalhit", "FacebookBot"),
        ("Yahoo! Slurp", "Yahoo! Slurp"), ("Chrome-Lighthouse", "Lighthouse"), ("HeadlessChrome", "HeadlessChrome"),
        ("PhantomJS", "PhantomJS"), ("curl/", "curl"), ("Wget/", "Wget"), ("python-requests", "Python Requests"),
        ("Python-urllib", "Python urllib"), ("Go-http-client", "Go http client"), ("okhttp", "OkHttp"),
        ("Apache-HttpClient", "Apache-HttpClient"), ("Java/", "Java"), ("libwww-perl", "libwww-perl"), ("Scrapy", "Scrapy"),
    ]);

    private static readonly string[] Platforms = ["windows", "macintosh", "mac os", "linux", "android", "iphone", "ipad", "cros", "x11"];
    private static readonly string[] Tablets = ["ipad", "kindle", "silk/", "playbook"];
    private static readonly string[] Phones = ["iphone", "ipod", "mobile", "mobi", "windows phone", "opera mini", "blackberry", "bb10"];
    private static readonly string[] Screens = ["smart-tv", "smarttv", "tizen tv", "web0s", "webos.tv", "hbbtv", "crkey", "appletv", "playstation", "xbox", "nintendo"];
    private static readonly string[] Desktops = ["windows", "macintosh", "mac os x", "x11", "linux", "cros"];

    private static (string, string)[] Lower((string Token, string Family)[] tokens) => [.. tokens.Select(t => (t.Token.ToLowerInvariant(), t.Family))];

    /// <summary>Classifies <paramref name="userAgent"/> by the rules above. Never throws.</summary>
    public static UserAgentInfo Classify(string? userAgent)
    {
        var ua = TextCleaning.Clean(userAgent);
        if (ua is null || ua == "-") return Unknown;
        ua = AsciiLower(ua);
        if (BotFamily(ua) is { } bot) return new UserAgentInfo(bot, "bot", true);
        return new UserAgentInfo(Family(ua), Device(ua), false);
    }

    /// <summary>Searches the ASCII-lower-cased text for a lower-case token: an ordinal, vectorized search.</summary>
    private static bool Has(string ua, string token) => ua.Contains(token, StringComparison.Ordinal);

    /// <summary>The text with ASCII letters lower-cased and every other character as it is.</summary>
    private static string AsciiLower(string s) => string.Create(s.Length, s, static (span, source) =>
    {
        for (var i = 0; i < span.Length; i++)
        {
            var c = source[i];
            span[i] = char.IsAsciiLetterUpper(c) ? (char)(c | 0x20) : c;
        }
    });

    private static bool HasAny(string ua, string[] tokens)
    {
        foreach (var token in tokens)
            if (Has(ua, token)) return true;
        return false;
    }

    /// <summary>The bot's family when <paramref name="ua"/> is a bot, else null.</summary>
    private static string? BotFamily(string ua)
    {
        foreach (var (token, family) in BotTokens)
            if (Has(ua, token)) return family;
        if (HasBotWord(ua) || Has(ua, "http://") || Has(ua, "https://")) return "Other";
        var compatible = ua.StartsWith("mozilla/5.0 (compatible;", StringComparison.Ordinal);
        if (compatible && !Has(ua, "msie") && !HasAny(ua, Platforms)) return "Other";
        return null;
    }

    /// <summary>In the lower-cased text, a run of ASCII letters that ends in bot(s) (not CUBOT) or contains crawl, spider or scraper.</summary>
    private static bool HasBotWord(string ua)
    {
        var span = ua.AsSpan();
        var i = 0;
        while (i < span.Length)
        {
            if (!char.IsAsciiLetter(span[i]))
            {
                i++;
                continue;
            }
            var start = i;
            while (i < span.Length && char.IsAsciiLetter(span[i])) i++;
            var word = span[start..i];
            if ((word.EndsWith("bot", StringComparison.Ordinal) && !word.SequenceEqual("cubot")) || word.EndsWith("bots", StringComparison.Ordinal)) return true;
            if (word.Contains("crawl", StringComparison.Ordinal) || word.Contains("spider", StringComparison.Ordinal) || word.Contains("scraper", StringComparison.Ordinal))
                return true;
        }
        return false;
    }

    private static string Family(string ua)
    {
        var mobile = Has(ua, "mobile");
        if (Has(ua, "edga/") || Has(ua, "edgios/") || (Has(ua, "edge/") && mobile)) return "Edge Mobile";
        if (Has(ua, "edg/") || Has(ua, "edge/")) return "Edge";
        if (Has(ua, "opera mini")) return "Opera Mini";
        if (Has(ua, "opr/") && mobile) return "Opera Mobile";
        if (Has(ua, "opr/") || Has(ua, "opera")) return "Opera";
        if (Has(ua, "samsungbrowser/")) return "Samsung Internet";
        if (Has(ua, "yabrowser/")) return "Yandex Browser";
        if (Has(ua, "ucbrowser/")) return "UC Browser";
        if (Has(ua, "silk/")) return "Amazon Silk";
        if (Has(ua, "fban/") || Has(ua, "fbav/")) return "Facebook";
        if (Has(ua, "instagram")) return "Instagram";
        if (Has(ua, "fxios/")) return "Firefox iOS";
        if (Has(ua, "firefox/")) return Has(ua, "android") || mobile ? "Firefox Mobile" : "Firefox";
        if (Has(ua, "crios/")) return "Chrome Mobile iOS";
        if (Has(ua, "chromium/")) return "Chromium";
        if (Has(ua, "chrome/"))
        {
            if (Has(ua, "; wv)")) return "Chrome Mobile WebView";
            return mobile ? "Chrome Mobile" : "Chrome";
        }
        if (Has(ua, "msie ") || Has(ua, "trident/")) return "IE";
        if (Has(ua, "applewebkit") && (Has(ua, "iphone") || Has(ua, "ipad") || Has(ua, "ipod"))) return "Mobile Safari";
        if (Has(ua, "android") && Has(ua, "version/") && Has(ua, "safari/")) return "Android";
        if (Has(ua, "safari/")) return "Safari";
        return "Other";
    }

    private static string Device(string ua)
    {
        if (HasAny(ua, Tablets) || (Has(ua, "tablet") && !Has(ua, "tablet pc"))) return "tablet";
        if (HasAny(ua, Phones)) return "mobile";
        if (Has(ua, "android")) return "tablet";
        if (HasAny(ua, Screens)) return "other";
        if (HasAny(ua, Desktops)) return "desktop";
        return "other";
    }
}
