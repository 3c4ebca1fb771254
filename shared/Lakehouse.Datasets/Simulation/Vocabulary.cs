namespace Lakehouse.Datasets.Simulation;

/// <summary>A user agent the simulator sends, with what silver should derive from it.</summary>
internal sealed record UserAgent(string Text, string Device, bool IsBot, double Weight);

/// <summary>A country: its code, how often visitors come from it, how slow its networks are, and its UTC offset in May.</summary>
internal sealed record Country(string Alpha2, string Alpha3, double Weight, double NetworkFactor, TimeSpan Offset);

/// <summary>The fixed vocabulary of simulated traffic: user agents, countries and words for URLs.</summary>
internal static class Vocabulary
{
    internal static IReadOnlyList<UserAgent> UserAgents { get; } =
    [
        new("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", "desktop", false, 24),
        new("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", "desktop", false, 8),
        new("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15", "desktop", false, 6),
        new("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0", "desktop", false, 4),
        new("Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0", "desktop", false, 1),
        new("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0", "desktop", false, 6),
        new("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 OPR/109.0.0.0", "desktop", false, 1),
        new("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1", "mobile", false, 18),
        new("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36", "mobile", false, 14),
        new("Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36", "mobile", false, 3),
        new("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1", "mobile", false, 2),
        new("Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1", "tablet", false, 3),
        new("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "bot", true, 3),
        new("Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.118 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "bot", true, 1),
        new("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", "bot", true, 1.5),
        new("Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)", "bot", true, 0.5),
        new("Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", "bot", true, 1),
        new("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", "bot", true, 0.5),
        new("curl/8.5.0", "bot", true, 0.3),
        new("python-requests/2.31.0", "bot", true, 0.3),
    ];

    internal static IReadOnlyList<Country> Countries { get; } =
    [
        new("US", "USA", 30, 1.0, TimeSpan.FromHours(-4)), new("GB", "GBR", 8, 0.95, TimeSpan.FromHours(1)),
        new("DE", "DEU", 8, 0.95, TimeSpan.FromHours(2)), new("FR", "FRA", 6, 1.0, TimeSpan.FromHours(2)),
        new("IN", "IND", 8, 1.6, new TimeSpan(5, 30, 0)), new("BR", "BRA", 5, 1.4, TimeSpan.FromHours(-3)),
        new("JP", "JPN", 4, 0.85, TimeSpan.FromHours(9)), new("CA", "CAN", 4, 1.0, TimeSpan.FromHours(-4)),
        new("NL", "NLD", 3, 0.9, TimeSpan.FromHours(2)), new("ES", "ESP", 3, 1.05, TimeSpan.FromHours(2)),
        new("IT", "ITA", 3, 1.1, TimeSpan.FromHours(2)), new("AU", "AUS", 3, 1.2, TimeSpan.FromHours(10)),
        new("MX", "MEX", 2, 1.35, TimeSpan.FromHours(-6)), new("PL", "POL", 2, 1.05, TimeSpan.FromHours(2)),
        new("SE", "SWE", 2, 0.9, TimeSpan.FromHours(2)), new("KR", "KOR", 2, 0.8, TimeSpan.FromHours(9)),
        new("CN", "CHN", 1, 1.8, TimeSpan.FromHours(8)), new("ZA", "ZAF", 1, 1.5, TimeSpan.FromHours(2)),
        new("NG", "NGA", 1, 2.2, TimeSpan.FromHours(1)), new("AR", "ARG", 1, 1.4, TimeSpan.FromHours(-3)),
    ];

    internal static readonly string[] Adjectives =
    [
        "classic", "urban", "trail", "light", "pro", "everyday", "premium", "vintage", "slim", "cozy", "rugged", "sport", "organic",
        "waterproof", "wireless", "compact", "ultra", "soft", "bold", "smart", "eco", "retro", "travel", "studio", "outdoor",
    ];

    internal static readonly string[] Nouns =
    [
        "running-shoes", "backpack", "jacket", "headphones", "t-shirt", "hoodie", "sneakers", "watch", "sunglasses", "water-bottle",
        "yoga-mat", "desk-lamp", "coffee-mug", "notebook", "umbrella", "wallet", "scarf", "beanie", "socks", "jeans", "chair", "kettle",
        "blender", "speaker", "charger", "keyboard", "mouse", "tent", "sleeping-bag", "bike-helmet",
    ];

    internal static readonly string[] Colors = ["black", "white", "navy", "red", "green", "grey", "olive", "sand", "blue", "pink"];

    internal static readonly string[] Categories =
    [
        "shoes", "bags", "outerwear", "audio", "tops", "accessories", "home", "kitchen", "office", "outdoor", "fitness", "electronics",
        "kids", "sale", "new-arrivals", "gifts", "travel", "beauty", "sports", "garden",
    ];

    internal static readonly string[] SearchTerms =
    [
        "running shoes", "rain jacket", "gift for dad", "wireless headphones", "yoga", "backpack 30l", "black hoodie", "usb-c charger",
        "camping", "coffee", "desk lamp", "kids shoes", "sale", "winter hat", "water bottle", "bluetooth speaker", "size guide",
        "return policy", "gift card", "student discount", "tent 2 person", "sunglasses polarized", "mechanical keyboard", "linen shirt",
        "trail runners", "office chair", "kettle", "blender", "notebook a5", "umbrella",
    ];

    internal static readonly string[] BlogWords =
    [
        "how", "to", "choose", "the", "best", "guide", "care", "for", "your", "summer", "winter", "packing", "list", "tips", "trail",
        "city", "weekend", "gear", "review", "sustainable", "materials", "behind", "design", "story", "new", "collection", "style",
    ];

    internal static readonly string[] Referrers =
    [
        "https://www.google.com/", "https://www.bing.com/", "https://www.facebook.com/", "https://t.co/", "https://duckduckgo.com/",
        "https://news.ycombinator.com/", "https://www.instagram.com/", "",
    ];

    internal static readonly string[] Viewports = ["1920x1080", "1536x864", "1440x900", "2560x1440", "1366x768"];

    internal static readonly string[] MobileViewports = ["390x844", "393x873", "412x915", "360x800", "430x932"];

    internal static readonly string[] TabletViewports = ["820x1180", "768x1024", "1024x1366"];

    internal static readonly string[] Connections = ["wifi", "4g", "wifi", "5g", "4g", "3g", "ethernet"];

    internal static readonly string[] Campaigns = ["spring_sale", "may_newsletter", "brand_search", "retargeting", "new_arrivals", "free_shipping"];
}
