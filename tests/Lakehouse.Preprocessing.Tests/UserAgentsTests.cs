namespace Lakehouse.Preprocessing.Tests;

public sealed class UserAgentsTests
{
    /// <summary>Real-world user agents → family, device class, bot.</summary>
    public static TheoryData<string, string, string, bool> Cases => new()
    {
        // Desktop browsers.
        { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", "Chrome", "desktop", false },
        { "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", "Chrome", "desktop", false },
        { "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", "Chrome", "desktop", false },
        { "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Ubuntu Chromium/79.0.3945.79 Chrome/79.0.3945.79 Safari/537.36", "Chromium", "desktop", false },
        { "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0", "Firefox", "desktop", false },
        { "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:125.0) Gecko/20100101 Firefox/125.0", "Firefox", "desktop", false },
        { "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15", "Safari", "desktop", false },
        { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0", "Edge", "desktop", false },
        { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.19042", "Edge", "desktop", false },
        { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 OPR/109.0.0.0", "Opera", "desktop", false },
        { "Opera/9.80 (Windows NT 6.1; WOW64) Presto/2.12.388 Version/12.18", "Opera", "desktop", false },
        { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 YaBrowser/24.4.0.0 Safari/537.36", "Yandex Browser", "desktop", false },
        { "Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; rv:11.0) like Gecko", "IE", "desktop", false },
        { "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0; .NET CLR 2.0.50727)", "IE", "desktop", false },
        { "Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.2; Trident/6.0; Touch; Tablet PC 2.0)", "IE", "desktop", false },
        // Phones.
        { "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1", "Mobile Safari", "mobile", false },
        { "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1", "Chrome Mobile iOS", "mobile", false },
        { "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/125.0 Mobile/15E148 Safari/605.1.15", "Firefox iOS", "mobile", false },
        { "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 EdgiOS/124.2478.50 Mobile/15E148 Safari/605.1.15", "Edge Mobile", "mobile", false },
        { "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/459.0.0.38.108;FBBV/598335414;FBDV/iPhone14,5;FBMD/iPhone;FBSN/iOS;FBSV/17.4;FBSS/3;FBCR/;FBID/phone;FBLC/en_US;FBOP/5]", "Facebook", "mobile", false },
        { "Mozilla/5.0 (iPod touch; CPU iPhone OS 12_5_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1.2 Mobile/15E148 Safari/604.1", "Mobile Safari", "mobile", false },
        { "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36", "Chrome Mobile", "mobile", false },
        { "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36", "Samsung Internet", "mobile", false },
        { "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36 EdgA/124.0.0.0", "Edge Mobile", "mobile", false },
        { "Mozilla/5.0 (Linux; Android 10; VOG-L29) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36 OPR/81.1.4292.78446", "Opera Mobile", "mobile", false },
        { "Opera/9.80 (Android; Opera Mini/8.0.1807/36.1609; U; en) Presto/2.12.423 Version/12.16", "Opera Mini", "mobile", false },
        { "Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0", "Firefox Mobile", "mobile", false },
        { "Mozilla/5.0 (Linux; Android 13; Pixel 7 Build/TQ3A.230805.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/124.0.6367.82 Mobile Safari/537.36", "Chrome Mobile WebView", "mobile", false },
        { "Mozilla/5.0 (Linux; Android 13; SM-G991B Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/124.0.6367.82 Mobile Safari/537.36 Instagram 330.0.0.40.92 Android (33/13; 480dpi; 1080x2220; samsung; SM-G991B; o1s; exynos2100; en_US; 596227433)", "Instagram", "mobile", false },
        { "Mozilla/5.0 (Linux; U; Android 10; en-US; RMX1911 Build/QKQ1.200209.002) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/78.0.3904.108 UCBrowser/13.4.0.1306 Mobile Safari/537.36", "UC Browser", "mobile", false },
        { "Mozilla/5.0 (Linux; U; Android 4.0.3; ko-kr; LG-L160L Build/IML74K) AppleWebkit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30", "Android", "mobile", false },
        { "Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1; Microsoft; Lumia 950) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/52.0.2743.116 Mobile Safari/537.36 Edge/15.15063", "Edge Mobile", "mobile", false },
        { "Mozilla/5.0 (Linux; Android 10; CUBOT_X30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36", "Chrome Mobile", "mobile", false },
        // Tablets.
        { "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1", "Mobile Safari", "tablet", false },
        { "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", "Chrome", "tablet", false },
        { "Mozilla/5.0 (Android 13; Tablet; rv:125.0) Gecko/125.0 Firefox/125.0", "Firefox Mobile", "tablet", false },
        { "Mozilla/5.0 (Linux; Android 9; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) Silk/124.3.1 like Chrome/124.0.6367.118 Safari/537.36", "Amazon Silk", "tablet", false },
        // TVs and consoles.
        { "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/4.0 Chrome/76.0.3809.146 TV Safari/537.36", "Samsung Internet", "other", false },
        { "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox One) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0", "Edge", "other", false },
        // Bots, crawlers, previewers, tools.
        { "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Googlebot", "bot", true },
        { "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.118 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Googlebot", "bot", true },
        { "Googlebot-Image/1.0", "Googlebot", "bot", true },
        { "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", "bingbot", "bot", true },
        { "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)", "YandexBot", "bot", true },
        { "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)", "Baiduspider", "bot", true },
        { "DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)", "DuckDuckBot", "bot", true },
        { "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)", "Applebot", "bot", true },
        { "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", "AhrefsBot", "bot", true },
        { "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)", "SemrushBot", "bot", true },
        { "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.0; +https://openai.com/gptbot)", "GPTBot", "bot", true },
        { "Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)", "Yahoo! Slurp", "bot", true },
        { "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", "FacebookBot", "bot", true },
        { "Twitterbot/1.0", "Twitterbot", "bot", true },
        { "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", "Slackbot", "bot", true },
        { "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.6367.60 Safari/537.36", "HeadlessChrome", "bot", true },
        { "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse", "Lighthouse", "bot", true },
        { "curl/8.5.0", "curl", "bot", true },
        { "Wget/1.21.3", "Wget", "bot", true },
        { "python-requests/2.31.0", "Python Requests", "bot", true },
        { "Python-urllib/3.11", "Python urllib", "bot", true },
        { "Go-http-client/1.1", "Go http client", "bot", true },
        { "okhttp/4.12.0", "OkHttp", "bot", true },
        { "Apache-HttpClient/4.5.14 (Java/17.0.9)", "Apache-HttpClient", "bot", true },
        { "Java/1.8.0_392", "Java", "bot", true },
        { "Mozilla/5.0 (compatible; \"SiteAuditor\"/2.1)", "Other", "bot", true },
        { "Mozilla/5.0 (compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)", "Other", "bot", true },
        { "Sogou web spider/4.0(+http://www.sogou.com/docs/help/webmasters.htm#07)", "Other", "bot", true },
        { "my-crawler 0.1", "Other", "bot", true },
        { "SomeFeedReader/1.0 (+https://reader.example/about)", "Other", "bot", true },
        // Nothing to go by.
        { "-", "Other", "other", false },
        { "Mozilla/5.0", "Other", "other", false },
        { "Dalvik/2.1.0 (Linux; U; Android 13; SM-A536B Build/TP1A.220624.014)", "Other", "tablet", false },
        { "Mozilla/5.0 (compatible; Konqueror/4.5; Linux) KHTML/4.5.5 (like Gecko)", "Other", "desktop", false },
        { "  Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\r\n", "Chrome", "desktop", false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Classify_RealWorldAgents_ReturnsExpected(string userAgent, string family, string device, bool isBot) =>
        Assert.Equal(new UserAgentInfo(family, device, isBot), UserAgents.Classify(userAgent));

    [Fact]
    public void Classify_Table_HasEnoughCases() => Assert.True(Cases.Count >= 30);

    [Fact]
    public void Classify_SimulatorVocabulary_MatchesItsDeviceAndBotFlag()
    {
        Assert.Equal(20, Simulator.UserAgents.Count);
        foreach (var (text, device, isBot) in Simulator.UserAgents)
        {
            var info = UserAgents.Classify(text);
            Assert.True(device == info.DeviceClass && isBot == info.IsBot, $"{text}: expected {device}/{isBot}, got {info}");
            Assert.NotEqual("Other", info.BrowserFamily);
        }
        var families = Simulator.UserAgents.Select(a => UserAgents.Classify(a.Text).BrowserFamily).ToList();
        Assert.Equal(
            ["Chrome", "Chrome", "Safari", "Firefox", "Firefox", "Edge", "Opera", "Mobile Safari", "Chrome Mobile", "Samsung Internet",
             "Chrome Mobile iOS", "Mobile Safari", "Googlebot", "Googlebot", "bingbot", "YandexBot", "AhrefsBot", "FacebookBot", "curl", "Python Requests"],
            families);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(" \t ")]
    [InlineData("\0")]
    public void Classify_NullOrBlank_ReturnsOther(string? userAgent) => Assert.Equal(new UserAgentInfo("Other", "other", false), UserAgents.Classify(userAgent));

    [Fact]
    public void Classify_HostileInput_NeverThrows()
    {
        string[] hostile =
        [
            new string('a', 100_000),
            string.Concat(Enumerable.Repeat("Mozilla/5.0 (", 10_000)),
            "Mozilla/5.0 (iPhone\0; \uD800) Safari/\uDFFF",
            new string('\uD800', 100_000),
            "Chrome/" + new string('9', 100_000),
            new string('b', 50_000) + "ot",
        ];
        foreach (var ua in hostile) Assert.NotNull(UserAgents.Classify(ua).BrowserFamily);
        Assert.Equal(new UserAgentInfo("Other", "other", false), UserAgents.Classify(new string('a', 100_000)));
        Assert.Equal(new UserAgentInfo("Mobile Safari", "mobile", false), UserAgents.Classify("Mozilla/5.0 (iPhone\0; \uD800) AppleWebKit Safari/\uDFFF"));
        Assert.True(UserAgents.Classify(new string('b', 50_000) + "ot").IsBot);
    }
}
