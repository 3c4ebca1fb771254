using System.Text;
using Lakehouse.Core;

namespace Lakehouse.Preprocessing.Tests;

public sealed class PageReferenceTests
{
    private const string Table = """
        host,path_prefix,site,section
        *,/,any,fallback
        *,/static/,any,assets
        example.com,/,ex,other
        example.com,/$,ex,home
        example.com,/a,ex,a
        example.com,/a/b,ex,ab
        example.com,/a/b/,ex,below-ab
        example.com,/x/y$,ex,exact-xy
        example.com,/caf%c3%a9,ex,cafe
        EXAMPLE.org,/docs,org,docs
        münchen.de,/,muc,all
        "[2001:db8::1]",/,v6,all
        """;

    private static readonly PageReference Custom = PageReference.Parse(Encoding.UTF8.GetBytes(Table), "custom.csv");

    public static TheoryData<string?, string, string?, string?> Lookups => new()
    {
        { "example.com", "/", "ex", "home" },
        { "EXAMPLE.COM", "/", "ex", "home" },
        { "example.com", "/a", "ex", "a" },
        { "example.com", "/a/", "ex", "a" },
        { "example.com", "/ab", "ex", "other" },
        { "example.com", "/a/b", "ex", "ab" },
        { "example.com", "/a/b/", "ex", "below-ab" },
        { "example.com", "/a/b/c/d", "ex", "below-ab" },
        { "example.com", "/a/bc", "ex", "a" },
        { "example.com", "/x/y", "ex", "exact-xy" },
        { "example.com", "/x/y/z", "ex", "other" },
        { "example.com", "/x", "ex", "other" },
        { "example.com", "/A", "ex", "other" },                 // paths are case-sensitive
        { "example.com", "/caf%C3%A9/menu", "ex", "cafe" },     // prefixes are normalized like paths
        { "example.com", "/static/app.js", "ex", "other" },     // the host's own rows beat *
        { "example.org", "/docs/intro", "org", "docs" },
        { "example.org", "/blog", "any", "fallback" },          // no row of the host matches: * rows
        { "example.org", "/static/x.css", "any", "assets" },
        { null, "/static/x.css", "any", "assets" },
        { null, "/", "any", "fallback" },
        { " ", "/static", "any", "fallback" },
        { "unknown.net", "/x", "any", "fallback" },
        { "xn--mnchen-3ya.de", "/x", "muc", "all" },
        { "[2001:db8::1]", "/", "v6", "all" },
        { "example.com", "", null, null },
        { "example.com", "a", null, null },
    };

    [Theory]
    [MemberData(nameof(Lookups))]
    public void Lookup_Table_ReturnsExpected(string? host, string path, string? site, string? section) =>
        Assert.Equal(site is null ? null : new PageInfo(site, section!), Custom.Lookup(host, path));

    [Fact]
    public void Parse_Custom_KeepsSourceAndCount()
    {
        Assert.Equal("custom.csv", Custom.Source);
        Assert.Equal(12, Custom.Count);
    }

    [Fact]
    public void Lookup_WithoutWildcardRows_UnknownHostIsNull()
    {
        var table = PageReference.Parse("host,path_prefix,site,section\na.com,/,a,all\n"u8, "t.csv");
        Assert.Null(table.Lookup("b.com", "/"));
        Assert.Null(table.Lookup(null, "/"));
        Assert.Equal(new PageInfo("a", "all"), table.Lookup("a.com", "/anything"));
    }

    [Fact]
    public void Default_EveryCatalogPage_GetsItsSiteAndSection()
    {
        var sites = new Dictionary<string, string> { ["www.example-shop.com"] = "shop", ["blog.example-shop.com"] = "blog", ["help.example-shop.com"] = "help" };
        Assert.Equal(2000, Simulator.Pages.Count);
        foreach (var (host, path, section, _) in Simulator.Pages)
            Assert.Equal(new PageInfo(sites[host], section), PageReference.Default.Lookup(host, path));
        Assert.Equal("default", PageReference.Default.Source);
        Assert.Equal(16, PageReference.Default.Count);
    }

    [Fact]
    public void Default_SimulatedPageUrls_AfterNormalization_MatchTheCatalog()
    {
        var sections = Simulator.Pages.DistinctBy(p => p.Host + p.Path).ToDictionary(p => p.Host + p.Path, p => p.Section);
        var catalog = Simulator.Pages.Select(p => UrlNormalizer.Normalize(p.Canonical)!.Url).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(2000, catalog.Count);
        var urls = Simulator.DistinctWebLogValues("page_url", 5_000);
        Assert.True(urls.Count > 1_000);
        foreach (var raw in urls)
        {
            var url = UrlNormalizer.Normalize(raw)!;
            Assert.True(url.IsUrl, raw);
            // Every variant the simulator sends (scheme and host case, ports, parameter order, tracking parameters,
            // fragments) collapses onto its catalog page; only the scheme stays as sent (http or https).
            var https = url.Url.StartsWith("http://", StringComparison.Ordinal) ? "https://" + url.Url["http://".Length..] : url.Url;
            Assert.True(catalog.Contains(https), $"{raw} → {url.Url}");
            Assert.Equal(sections[url.Host + url.Path], PageReference.Default.Lookup(url.Host, url.Path)!.Section);
        }
    }

    [Fact]
    public void Default_OtherPathsOnKnownHosts_AreSectionOther()
    {
        Assert.Equal(new PageInfo("shop", "other"), PageReference.Default.Lookup("www.example-shop.com", "/robots.txt"));
        Assert.Equal(new PageInfo("shop", "other"), PageReference.Default.Lookup("www.example-shop.com", "/checkouts"));
        Assert.Equal(new PageInfo("shop", "checkout"), PageReference.Default.Lookup("www.example-shop.com", "/checkout"));
        Assert.Equal(new PageInfo("blog", "home"), PageReference.Default.Lookup("BLOG.example-shop.com", "/"));
        Assert.Null(PageReference.Default.Lookup("www.example.com", "/"));
        Assert.Null(PageReference.Default.Lookup(null, "/cart"));
    }

    public static TheoryData<string, string> BadTables => new()
    {
        { "", "Page reference table t.csv, line 1: the table is empty; it needs the header host,path_prefix,site,section." },
        { "\n\n", "Page reference table t.csv, line 1: the table is empty; it needs the header host,path_prefix,site,section." },
        { "host,path,site,section\n", "Page reference table t.csv, line 1, column 6: the first line must be the header host,path_prefix,site,section." },
        { "host,path_prefix,site\n", "Page reference table t.csv, line 1, column 18: the first line must be the header host,path_prefix,site,section." },
        { "host,path_prefix,site,section,extra\n", "Page reference table t.csv, line 1, column 31: the first line must be the header host,path_prefix,site,section." },
        { "a.com,/,s,x\n", "Page reference table t.csv, line 1, column 1: the first line must be the header host,path_prefix,site,section." },
        { "host,path_prefix,site,section\na.com,/,s\n", "Page reference table t.csv, line 2, column 9: 3 field(s), expected 4 (host,path_prefix,site,section)." },
        { "host,path_prefix,site,section\n\na.com,/,s,x,y\n", "Page reference table t.csv, line 3, column 13: 5 field(s), expected 4 (host,path_prefix,site,section)." },
        { "host,path_prefix,site,section\na.com,/,,x\n", "Page reference table t.csv, line 2, column 9 (site): empty." },
        { "host,path_prefix,site,section\na.com,/,s, \t\n", "Page reference table t.csv, line 2, column 11 (section): empty." },
        { "host,path_prefix,site,section\n,/,s,x\n", "Page reference table t.csv, line 2, column 1 (host): empty." },
        { "host,path_prefix,site,section\nhttp://a.com,/,s,x\n", "Page reference table t.csv, line 2, column 1 (host): 'http://a.com' is not a host name (no scheme, port or path) or *." },
        { "host,path_prefix,site,section\na.com:8080,/,s,x\n", "Page reference table t.csv, line 2, column 1 (host): 'a.com:8080' is not a host name (no scheme, port or path) or *." },
        { "host,path_prefix,site,section\na com,/,s,x\n", "Page reference table t.csv, line 2, column 1 (host): 'a com' is not a host name (no scheme, port or path) or *." },
        { "host,path_prefix,site,section\na.com,x,s,x\n", "Page reference table t.csv, line 2, column 7 (path_prefix): 'x' must start with / and hold no ? or #." },
        { "host,path_prefix,site,section\na.com,/a?b=1,s,x\n", "Page reference table t.csv, line 2, column 7 (path_prefix): '/a?b=1' must start with / and hold no ? or #." },
        { "host,path_prefix,site,section\na.com,/x,s,1\nA.COM,/x,s,2\n", "Page reference table t.csv, line 3, column 1: host a.com and path_prefix /x repeat line 2." },
        { "host,path_prefix,site,section\na.com,/x/./,s,1\na.com,/x/,s,2\n", "Page reference table t.csv, line 3, column 1: host a.com and path_prefix /x/ repeat line 2." },
        { "host,path_prefix,site,section\na.com,/x,\"s,1\n", "Page reference table t.csv, line 2, column 10: a quoted field is not closed on its line." },
        { "host,path_prefix,site,section\na.com,/x,\"s\"x,1\n", "Page reference table t.csv, line 2, column 13: a quoted field must end at a comma or the end of the line." },
        { "host,path_prefix,site,section\na.com,/x,s\"1,1\n", "Page reference table t.csv, line 2, column 11: a quote inside an unquoted field (quote the whole field and double the quote)." },
    };

    [Theory]
    [MemberData(nameof(BadTables))]
    public void Parse_BadTable_ThrowsNamingSourceLineAndColumn(string csv, string message)
    {
        var e = Assert.Throws<LakehouseException>(() => PageReference.Parse(Encoding.UTF8.GetBytes(csv), "t.csv"));
        Assert.Equal(LakehouseErrorReason.InvalidInput, e.Reason);
        Assert.False(e.IsTransient);
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Parse_InvalidUtf8_NamesLineAndColumn()
    {
        byte[] csv = [.. "host,path_prefix,site,section\na.com,/x,s"u8, 0xFF, .. ",x\n"u8];
        var e = Assert.Throws<LakehouseException>(() => PageReference.Parse(csv, "pages.csv"));
        Assert.Equal("Page reference table pages.csv, line 2, column 11: not valid UTF-8.", e.Message);
    }

    [Fact]
    public void Parse_BomCrLfQuotesAndSpaces_AreRead()
    {
        var csv = "\uFEFFHost , Path_Prefix,SITE,section\r\n\r\n a.com ,\"/x\",\"Shop, Inc.\",\"Sec \"\"1\"\"\"\r\n*,/x/y$,any,exact\r\n"u8;
        var table = PageReference.Parse(csv, "t.csv");
        Assert.Equal(2, table.Count);
        Assert.Equal(new PageInfo("Shop, Inc.", "Sec \"1\""), table.Lookup("a.com", "/x/z"));
        Assert.Equal(new PageInfo("any", "exact"), table.Lookup("b.com", "/x/y"));
        Assert.Null(table.Lookup("b.com", "/x/y/z"));
    }

    [Fact]
    public void Parse_HeaderOnly_MatchesNothing()
    {
        var table = PageReference.Parse("host,path_prefix,site,section\n"u8, "t.csv");
        Assert.Equal(0, table.Count);
        Assert.Null(table.Lookup("a.com", "/"));
    }

    [Fact]
    public void Parse_HostileBytes_ThrowsOnlyLakehouseException()
    {
        var random = new Random(7);
        for (var i = 0; i < 500; i++)
        {
            var bytes = new byte[random.Next(0, 200)];
            random.NextBytes(bytes);
            byte[] csv = [.. "host,path_prefix,site,section\n"u8, .. bytes];
            try
            {
                PageReference.Parse(csv, "fuzz.csv");
            }
            catch (LakehouseException e)
            {
                Assert.StartsWith("Page reference table fuzz.csv, line ", e.Message, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void Lookup_HostileInput_NeverThrows()
    {
        Assert.Equal(new PageInfo("ex", "other"), Custom.Lookup("example.com", "/" + new string('/', 100_000)));
        Assert.Equal(new PageInfo("ex", "a"), Custom.Lookup("example.com", "/a/" + string.Concat(Enumerable.Repeat("x/", 50_000))));
        Assert.Equal(new PageInfo("any", "fallback"), Custom.Lookup(new string('h', 100_000), "/\0\uD800"));
        Assert.Equal(new PageInfo("any", "fallback"), Custom.Lookup("\0", "/"));
        Assert.Null(Custom.Lookup("example.com", "\uDC00/"));
    }
}
