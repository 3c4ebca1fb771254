namespace Lakehouse.Preprocessing.Tests;

public sealed class UrlNormalizerTests
{
    /// <summary>Input → normalized URL, host, path, query (null host: relative or not a URL; empty path: not a URL).</summary>
    public static TheoryData<string, string, string?, string, string?> Cases => new()
    {
        // Scheme, host case, default ports, fragments: what the simulator sends.
        { "https://www.example-shop.com/", "https://www.example-shop.com/", "www.example-shop.com", "/", null },
        { "HTTPS://WWW.EXAMPLE-SHOP.COM/c/shoes", "https://www.example-shop.com/c/shoes", "www.example-shop.com", "/c/shoes", null },
        { "https://WWW.Example-shop.Com/cart", "https://www.example-shop.com/cart", "www.example-shop.com", "/cart", null },
        { "http://blog.example-shop.com:80/page/2", "http://blog.example-shop.com/page/2", "blog.example-shop.com", "/page/2", null },
        { "https://help.example-shop.com:443/", "https://help.example-shop.com/", "help.example-shop.com", "/", null },
        { "HTTPS://www.example-shop.com:443/p/x-1", "https://www.example-shop.com/p/x-1", "www.example-shop.com", "/p/x-1", null },
        { "https://www.example-shop.com/p/x-1#reviews", "https://www.example-shop.com/p/x-1", "www.example-shop.com", "/p/x-1", null },
        { "https://www.example-shop.com", "https://www.example-shop.com/", "www.example-shop.com", "/", null },
        { "https://www.example-shop.com#top", "https://www.example-shop.com/", "www.example-shop.com", "/", null },
        { "https://www.example-shop.com?", "https://www.example-shop.com/", "www.example-shop.com", "/", null },
        // Non-default ports are kept (leading zeros go); an empty port is the default.
        { "http://example.com:8080/a", "http://example.com:8080/a", "example.com", "/a", null },
        { "https://example.com:80/a", "https://example.com:80/a", "example.com", "/a", null },
        { "http://example.com:443/a", "http://example.com:443/a", "example.com", "/a", null },
        { "http://example.com:0080/a", "http://example.com/a", "example.com", "/a", null },
        { "http://example.com:/a", "http://example.com/a", "example.com", "/a", null },
        { "wss://chat.example.com:443/socket", "wss://chat.example.com/socket", "chat.example.com", "/socket", null },
        { "ftp://files.example.com:21/x", "ftp://files.example.com:21/x", "files.example.com", "/x", null },
        // Tracking parameters, sorting, repeated names, empty values, empty parameters.
        { "https://www.example-shop.com/c/shoes?sort=price_asc&page=2", "https://www.example-shop.com/c/shoes?page=2&sort=price_asc", "www.example-shop.com", "/c/shoes", "page=2&sort=price_asc" },
        { "https://www.example-shop.com/search?q=rain+jacket&utm_source=google&utm_medium=cpc&utm_campaign=spring_sale&gclid=AbC-12_x", "https://www.example-shop.com/search?q=rain+jacket", "www.example-shop.com", "/search", "q=rain+jacket" },
        { "https://www.example-shop.com/?utm_source=newsletter&utm_medium=email", "https://www.example-shop.com/", "www.example-shop.com", "/", null },
        { "https://x.com/?UTM_Source=a&Utm_term=b&GCLID=c&FbClid=d&msclkid=e&dclid=f&gbraid=g&wbraid=h&mc_cid=i&mc_eid=j&_ga=k&yclid=l&igshid=m&keep=1", "https://x.com/?keep=1", "x.com", "/", "keep=1" },
        { "https://x.com/?utm=1&utm-source=2&gclid_x=3&_gac=4", "https://x.com/?_gac=4&gclid_x=3&utm=1&utm-source=2", "x.com", "/", "_gac=4&gclid_x=3&utm=1&utm-source=2" },
        { "https://x.com/?utm%5Fsource=a&b=1", "https://x.com/?b=1", "x.com", "/", "b=1" },
        { "https://x.com/a?b=2&a=1&b=1&a=2", "https://x.com/a?a=1&a=2&b=2&b=1", "x.com", "/a", "a=1&a=2&b=2&b=1" },
        { "https://x.com/a?flag&empty=&z=", "https://x.com/a?empty=&flag&z=", "x.com", "/a", "empty=&flag&z=" },
        { "https://x.com/a?&&", "https://x.com/a", "x.com", "/a", null },
        { "https://x.com/a?&&b=1&&a=2&", "https://x.com/a?a=2&b=1", "x.com", "/a", "a=2&b=1" },
        { "https://x.com/a?B=1&a=1&_=2&Z=3", "https://x.com/a?B=1&Z=3&_=2&a=1", "x.com", "/a", "B=1&Z=3&_=2&a=1" },
        { "https://x.com/a?=v&a=1", "https://x.com/a?=v&a=1", "x.com", "/a", "=v&a=1" },
        { "https://x.com/a?x=1=2&x", "https://x.com/a?x=1=2&x", "x.com", "/a", "x=1=2&x" },
        { "https://x.com/a?next=/b?c=d", "https://x.com/a?next=/b?c=d", "x.com", "/a", "next=/b?c=d" },
        // Percent-encoding: unreserved decoded, hex upper-cased, the rest kept encoded; characters a URI may not hold encoded.
        { "https://x.com/%7Euser/%41%62c%2d%2E%5f", "https://x.com/~user/Abc-._", "x.com", "/~user/Abc-._", null },
        { "https://x.com/caf%c3%a9?q=%e2%82%ac%2f%2B", "https://x.com/caf%C3%A9?q=%E2%82%AC%2F%2B", "x.com", "/caf%C3%A9", "q=%E2%82%AC%2F%2B" },
        { "https://x.com/a%2Fb", "https://x.com/a%2Fb", "x.com", "/a%2Fb", null },
        { "https://x.com/café menu?q=naïve café", "https://x.com/caf%C3%A9%20menu?q=na%C3%AFve%20caf%C3%A9", "x.com", "/caf%C3%A9%20menu", "q=na%C3%AFve%20caf%C3%A9" },
        { "https://x.com/100%/a%zz", "https://x.com/100%25/a%25zz", "x.com", "/100%25/a%25zz", null },
        { "https://x.com/a|b\"c<d>`{}^\\", "https://x.com/a%7Cb%22c%3Cd%3E%60%7B%7D%5E%5C", "x.com", "/a%7Cb%22c%3Cd%3E%60%7B%7D%5E%5C", null },
        { "https://x.com/😀", "https://x.com/%F0%9F%98%80", "x.com", "/%F0%9F%98%80", null },
        { "https://x.com/a?q=a%26b&r=%3D", "https://x.com/a?q=a%26b&r=%3D", "x.com", "/a", "q=a%26b&r=%3D" },
        // Paths: case kept, dot segments resolved, encoded dots too, empty segments kept.
        { "https://x.com/A/B/c.HTML", "https://x.com/A/B/c.HTML", "x.com", "/A/B/c.HTML", null },
        { "https://x.com/a/./b/../c", "https://x.com/a/c", "x.com", "/a/c", null },
        { "https://x.com/a/b/..", "https://x.com/a/", "x.com", "/a/", null },
        { "https://x.com/a/b/.", "https://x.com/a/b/", "x.com", "/a/b/", null },
        { "https://x.com/../../etc/passwd", "https://x.com/etc/passwd", "x.com", "/etc/passwd", null },
        { "https://x.com/a/%2e%2E/b", "https://x.com/b", "x.com", "/b", null },
        { "https://x.com/a/.../b", "https://x.com/a/.../b", "x.com", "/a/.../b", null },
        { "https://x.com//a//b/", "https://x.com//a//b/", "x.com", "//a//b/", null },
        { "https://x.com/.", "https://x.com/", "x.com", "/", null },
        // Hosts: user information removed, IPv4, IPv6, IDN, trailing dot.
        { "https://user:secret@x.com/a", "https://x.com/a", "x.com", "/a", null },
        { "https://user@X.com:8443/a", "https://x.com:8443/a", "x.com", "/a", null },
        { "http://a@b@x.com/", "http://x.com/", "x.com", "/", null },
        { "http://192.168.0.1:80/a", "http://192.168.0.1/a", "192.168.0.1", "/a", null },
        { "http://[2001:DB8:0:0:0:0:0:1]:8080/a", "http://[2001:db8::1]:8080/a", "[2001:db8::1]", "/a", null },
        { "https://[::1]/", "https://[::1]/", "[::1]", "/", null },
        { "http://[::FFFF:192.0.2.1]:80", "http://[::ffff:192.0.2.1]/", "[::ffff:192.0.2.1]", "/", null },
        { "https://MÜNCHEN.de/straße", "https://xn--mnchen-3ya.de/stra%C3%9Fe", "xn--mnchen-3ya.de", "/stra%C3%9Fe", null },
        { "https://XN--MNCHEN-3YA.DE/", "https://xn--mnchen-3ya.de/", "xn--mnchen-3ya.de", "/", null },
        { "https://例え.テスト/", "https://xn--r8jz45g.xn--zckzah/", "xn--r8jz45g.xn--zckzah", "/", null },
        { "https://example.com./a", "https://example.com./a", "example.com.", "/a", null },
        { "http://under_score.example.com/", "http://under_score.example.com/", "under_score.example.com", "/", null },
        // Scheme-relative and relative URLs.
        { "//CDN.example.com:443/x?b=1&a=2", "//cdn.example.com:443/x?a=2&b=1", "cdn.example.com", "/x", "a=2&b=1" },
        { "/account?x=1", "/account?x=1", null, "/account", "x=1" },
        { "/search?q=usb-c%20charger&limit=24&utm_source=newsletter", "/search?limit=24&q=usb-c%20charger", null, "/search", "limit=24&q=usb-c%20charger" },
        { "/", "/", null, "/", null },
        { "/a/../b?", "/b", null, "/b", null },
        { "  \t/robots.txt\r\n", "/robots.txt", null, "/robots.txt", null },
        // Trimming.
        { " \u00A0https://x.com/a \u200B", "https://x.com/a", "x.com", "/a", null },
        // Not URLs: kept as sent, trimmed.
        { "www.example.com/a", "www.example.com/a", null, "", null },
        { "mailto:someone@example.com", "mailto:someone@example.com", null, "", null },
        { "javascript:void(0)", "javascript:void(0)", null, "", null },
        { "-", "-", null, "", null },
        { "*", "*", null, "", null },
        { "not a url", "not a url", null, "", null },
        { "  https://exa mple.com/  ", "https://exa mple.com/", null, "", null },
        { "https://", "https://", null, "", null },
        { "https:///path", "https:///path", null, "", null },
        { "https://x.com:99999/", "https://x.com:99999/", null, "", null },
        { "https://x.com:8o/", "https://x.com:8o/", null, "", null },
        { "http://[::1/", "http://[::1/", null, "", null },
        { "http://[1.2.3.4]/", "http://[1.2.3.4]/", null, "", null },
        { "http://[fe80::1%25eth0]/", "http://[fe80::1%25eth0]/", null, "", null },
        { "http://x%41.com/", "http://x%41.com/", null, "", null },
        { "http:/x.com/", "http:/x.com/", null, "", null },
        { "?a=1", "?a=1", null, "", null },
        { "#top", "#top", null, "", null },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Normalize_Table_ReturnsExpected(string input, string url, string? host, string path, string? query)
    {
        var result = UrlNormalizer.Normalize(input);
        Assert.NotNull(result);
        Assert.Equal(new NormalizedUrl(url, host, path, query), result);
        Assert.Equal(path.Length > 0, result.IsUrl);
    }

    [Fact]
    public void Normalize_Table_HasEnoughCases() => Assert.True(Cases.Count >= 40);

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\0\t\u00A0")]
    public void Normalize_NullOrBlank_ReturnsNull(string? input) => Assert.Null(UrlNormalizer.Normalize(input));

    [Fact]
    public void Normalize_IsIdempotent_OnTheTable()
    {
        foreach (var row in Cases)
        {
            var once = UrlNormalizer.Normalize((string)row[0]!)!;
            var twice = UrlNormalizer.Normalize(once.Url)!;
            if (once.IsUrl) Assert.Equal(once, twice);
        }
    }

    [Fact]
    public void Normalize_VeryLongUrl_KeepsEveryCharacter()
    {
        var path = "/" + string.Concat(Enumerable.Repeat("segment/", 4000)); // 32 KB
        var query = string.Join('&', Enumerable.Range(0, 2000).Select(i => $"p{i:D5}=v")) + "&utm_source=x";
        var result = UrlNormalizer.Normalize("HTTPS://X.COM" + path + "?" + query)!;
        Assert.Equal("x.com", result.Host);
        Assert.Equal(path, result.Path);
        Assert.Equal(2000, result.Query!.Split('&').Length);
        Assert.StartsWith("p00000=v&p00001=v&", result.Query, StringComparison.Ordinal);
        Assert.Equal("https://x.com" + path + "?" + result.Query, result.Url);
    }

    [Fact]
    public void Normalize_HostileInput_NeverThrows()
    {
        var hostile = new[]
        {
            new string('a', 100_000),
            "https://" + new string('a', 100_000) + ".com/",
            "https://x.com/" + new string('%', 100_000),
            "https://x.com/?" + new string('&', 100_000),
            "https://x.com/" + string.Concat(Enumerable.Repeat("../", 30_000)),
            "https://" + new string('ü', 100_000) + "/",
            "https://x.com/\0a\0?\0=\0",
            "https://x\0.com/",
            "https://x.com/\uD800a\uDC00?q=\uDFFF",
            "https://\uD800.com/",
            "https://[" + new string(':', 100_000) + "]/",
            "https://x.com:" + new string('9', 100_000) + "/",
            "https://" + new string('@', 100_000),
            "\uFFFF\uFFFE",
            "%",
            "//",
            "///",
            "[",
            "http://[]/",
            ":",
            "https://x.com/%",
            "https://x.com/%4",
        };
        foreach (var input in hostile)
        {
            var result = UrlNormalizer.Normalize(input);
            Assert.NotNull(result);
            Assert.False(string.IsNullOrEmpty(result.Url));
        }
        Assert.Equal("https://x.com/%EF%BF%BDa%EF%BF%BD?q=%EF%BF%BD", UrlNormalizer.Normalize("https://x.com/\uD800a\uDC00?q=\uDFFF")!.Url);
        Assert.Equal("https://x.com/%00a%00?%00=", UrlNormalizer.Normalize("https://x.com/\0a\0?\0=\0")!.Url); // the last NUL is trimmed
        Assert.False(UrlNormalizer.Normalize("https://x\0.com/")!.IsUrl);
        Assert.False(UrlNormalizer.Normalize("https://\uD800.com/")!.IsUrl);
        Assert.Equal("https://x.com/%25", UrlNormalizer.Normalize("https://x.com/%")!.Url);
        Assert.Equal("https://x.com/%254", UrlNormalizer.Normalize("https://x.com/%4")!.Url);
    }

    [Fact]
    public void TrackingParameters_AreTheDocumentedList()
    {
        Assert.Equal("utm_", UrlNormalizer.TrackingParameterPrefix);
        Assert.Equal(["gclid", "fbclid", "msclkid", "dclid", "gbraid", "wbraid", "mc_cid", "mc_eid", "_ga", "yclid", "igshid"], UrlNormalizer.TrackingParameters);
        Assert.True(UrlNormalizer.IsTrackingParameter("UTM_anything"));
        Assert.False(UrlNormalizer.IsTrackingParameter("utm"));
    }
}
