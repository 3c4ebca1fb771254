using System.Globalization;

namespace Lakehouse.Datasets.Simulation;

/// <summary>One page of the simulated sites: host, path, its own query parameters (part of what the page is), and how it behaves.</summary>
internal sealed record Page(string Host, string Path, IReadOnlyList<KeyValuePair<string, string>> Query, string Section, double TtiMedianMs, double ServerErrorRate)
{
    /// <summary>The path and the page's own parameters, in catalog order.</summary>
    internal string PathAndQuery { get; } = Query.Count == 0 ? Path : Path + "?" + string.Join('&', Query.Select(q => q.Key + "=" + q.Value));

    /// <summary>The canonical URL: https, lower-case host, no port, parameters in catalog order, no tracking parameters or fragment.</summary>
    internal string Canonical => "https://" + Host + PathAndQuery;

    /// <summary>The parameters as key=value texts.</summary>
    internal string[] Parameters { get; } = [.. Query.Select(q => q.Key + "=" + q.Value)];
}

/// <summary>
/// The simulated sites' pages: exactly <see cref="Size"/> of them on three hosts (shop, blog, help), the same for every seed (a site
/// does not change its pages between runs), visited with a Zipf-like popularity so a few pages get most of the traffic.
/// </summary>
internal sealed class PageCatalog
{
    internal const int Size = 2000;
    internal const string ShopHost = "www.example-shop.com";
    internal const string BlogHost = "blog.example-shop.com";
    internal const string HelpHost = "help.example-shop.com";

    private readonly WeightedChoice<Page> _popularity;
    private readonly WeightedChoice<Page>[] _byHost;

    private PageCatalog(IReadOnlyList<Page> pages)
    {
        Pages = pages;
        var order = new SimRandom(0x5EED_0001);
        var ranked = pages.OrderBy(p => p.Path == "/" ? 0 : p.Section is "cart" or "checkout" or "search" ? 1 : 2).ThenBy(_ => order.NextUInt64()).ToList();
        _popularity = new WeightedChoice<Page>(ranked.Select((p, rank) => (p, 1.0 / Math.Pow(rank + 1, 0.9))));
        _byHost = [.. new[] { ShopHost, BlogHost, HelpHost }.Select(h => new WeightedChoice<Page>(ranked.Where(p => p.Host == h).Select((p, rank) => (p, 1.0 / Math.Pow(rank + 1, 0.9)))))];
    }

    internal static PageCatalog Instance { get; } = Build();

    internal IReadOnlyList<Page> Pages { get; }

    /// <summary>A page by popularity over all hosts.</summary>
    internal Page Pick(SimRandom random) => _popularity.Pick(random);

    /// <summary>A page of <paramref name="host"/> by popularity.</summary>
    internal Page PickOn(string host, SimRandom random) => _byHost[host == ShopHost ? 0 : host == BlogHost ? 1 : 2].Pick(random);

    private static PageCatalog Build()
    {
        var r = new SimRandom(0x5EED_0000);
        var pages = new List<Page>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        void Add(string host, string path, string section, double median, double errors = 0.004, params (string Key, string Value)[] query)
        {
            var page = new Page(host, path, [.. query.Select(q => KeyValuePair.Create(q.Key, q.Value))], section, median * r.LogNormal(1, 0.3), errors);
            if (seen.Add(page.Canonical)) pages.Add(page);
        }
        static string Slug(string text) => text.Replace(' ', '+');
        static string N(int n) => n.ToString(CultureInfo.InvariantCulture);

        // The shop.
        Add(ShopHost, "/", "home", 1400);
        foreach (var c in Vocabulary.Categories)
        {
            Add(ShopHost, "/c/" + c, "category", 1800);
            Add(ShopHost, "/c/" + c, "category", 1900, query: [("sort", "price_asc"), ("page", "2")]);
            Add(ShopHost, "/c/" + c, "category", 1900, query: [("sort", "newest")]);
            Add(ShopHost, "/c/" + c, "category", 2000, query: [("page", "3")]);
        }
        foreach (var t in Vocabulary.SearchTerms)
        {
            Add(ShopHost, "/search", "search", 1600, 0.01, ("q", Slug(t)));
            Add(ShopHost, "/search", "search", 1700, 0.01, ("q", Slug(t)), ("page", "2"));
        }
        foreach (var (path, section, median, errors) in new[]
        {
            ("/cart", "cart", 1200.0, 0.006), ("/checkout/shipping", "checkout", 2000, 0.01), ("/checkout/payment", "checkout", 2400, 0.03),
            ("/checkout/review", "checkout", 1900, 0.01), ("/checkout/confirmation", "checkout", 1600, 0.005), ("/account", "account", 1500, 0.004),
            ("/account/orders", "account", 1800, 0.004), ("/account/settings", "account", 1400, 0.004), ("/account/addresses", "account", 1400, 0.004),
            ("/wishlist", "account", 1500, 0.004), ("/stores", "stores", 1300, 0.004), ("/about", "about", 900, 0.002), ("/contact", "about", 900, 0.002),
        })
        {
            Add(ShopHost, path, section, median, errors);
        }

        // The blog.
        Add(BlogHost, "/", "home", 1100);
        for (var i = 1; i <= 20; i++) Add(BlogHost, "/page/" + N(i), "blog", 1200);
        for (var i = 0; i < 40; i++) Add(BlogHost, "/tag/" + Vocabulary.BlogWords[i % Vocabulary.BlogWords.Length] + (i < Vocabulary.BlogWords.Length ? "" : "-" + N(i)), "blog", 1200);
        for (var i = 0; i < 420; i++)
        {
            var words = string.Join('-', Enumerable.Range(0, 4 + (i % 3)).Select(_ => r.Pick(Vocabulary.BlogWords)));
            Add(BlogHost, $"/{2021 + (i % 4)}/{1 + (i % 12):00}/{words}-{N(i)}", "blog", 1300);
        }

        // The help center.
        Add(HelpHost, "/", "home", 800);
        for (var i = 0; i < 20; i++) Add(HelpHost, "/categories/" + N(100 + i), "help", 900);
        for (var i = 0; i < 15; i++)
        {
            Add(HelpHost, "/search", "help", 1000, 0.004, ("q", Slug(Vocabulary.SearchTerms[i])), ("locale", "en-US"));
            Add(HelpHost, "/search", "help", 1000, 0.004, ("q", Slug(Vocabulary.SearchTerms[i + 15])), ("locale", "de-DE"));
        }
        for (var i = 0; i < 250; i++)
            Add(HelpHost, $"/articles/{N(360000 + (i * 37))}-{r.Pick(Vocabulary.BlogWords)}-{r.Pick(Vocabulary.BlogWords)}", "help", 900);

        // Products fill the catalog up to its size; some are pages of one variant.
        var id = 10_000;
        while (pages.Count < Size)
        {
            id += 1 + r.Next(40);
            var path = $"/p/{r.Pick(Vocabulary.Adjectives)}-{r.Pick(Vocabulary.Nouns)}-{N(id)}";
            if (r.Chance(0.15)) Add(ShopHost, path, "product", 2200, 0.004, ("variant", r.Pick(Vocabulary.Colors)), ("size", r.Pick(["s", "m", "l", "xl"])));
            else Add(ShopHost, path, "product", 2200);
        }
        return new PageCatalog(pages);
    }
}
