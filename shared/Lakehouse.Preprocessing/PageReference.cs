using System.Collections.Frozen;
using Lakehouse.Core;

namespace Lakehouse.Preprocessing;

/// <summary>
/// Reference data for enrichment: page (host and path) → site and section, from a CSV table the user can replace. Immutable
/// once built, so one instance serves every thread.
/// </summary>
/// <remarks>
/// <para><b>The table.</b> UTF-8 CSV with the header <c>host,path_prefix,site,section</c> (RFC 4180 quoting; blank lines
/// skipped). <c>host</c> is a host name (any case, IDN in Unicode or <c>xn--</c> form, no port) or <c>*</c> for any host;
/// <c>path_prefix</c> starts with <c>/</c>: <c>/checkout</c> matches <c>/checkout</c> and everything below it
/// (<c>/checkout/payment</c>) but not <c>/checkouts</c> (prefixes end on segment boundaries); <c>/checkout/</c> matches only
/// below it; <c>/</c> matches every path; a trailing <c>$</c> makes the row match that path exactly (<c>/$</c>: the home page
/// only). Prefixes are normalized like <see cref="UrlNormalizer"/> paths. <c>site</c> and <c>section</c> are required.</para>
/// <para><b>Lookup.</b> The host is compared ignoring case; rows of the exact host win over <c>*</c> rows, which are tried only
/// when no row of the host matches. Among the rows of a host, an exact (<c>$</c>) row wins, then the longest matching prefix.
/// Pass the host and path as <see cref="UrlNormalizer.Normalize"/> returns them; a null host (a relative URL) only
/// matches <c>*</c> rows.</para>
/// <para><b>Where silver finds it.</b> A lake's own table is <c>&lt;lake&gt;/_lakehouse/reference/pages.csv</c>
/// (<see cref="LakeRelativePath"/>); without one, silver uses <see cref="Default"/>, the table of the simulator's sites
/// (<c>www.example-shop.com</c> → <c>shop</c>, <c>blog.example-shop.com</c> → <c>blog</c>, <c>help.example-shop.com</c> →
/// <c>help</c>, with their sections).</para>
/// </remarks>
public sealed class PageReference
{
    /// <summary>Where a lake's own table lives, relative to the lake's root.</summary>
    public const string LakeRelativePath = "_lakehouse/reference/pages.csv";

    /// <summary>The header a table must have.</summary>
    public const string Header = "host,path_prefix,site,section";

    private static readonly string[] Columns = ["host", "path_prefix", "site", "section"];
    private static readonly Lazy<PageReference> DefaultTable = new(LoadDefault);

    private readonly FrozenDictionary<string, Rules>.AlternateLookup<ReadOnlySpan<char>> _hosts;
    private readonly Rules? _anyHost;

    private PageReference(string source, int count, FrozenDictionary<string, Rules> hosts, Rules? anyHost)
    {
        Source = source;
        Count = count;
        _hosts = hosts.GetAlternateLookup<ReadOnlySpan<char>>();
        _anyHost = anyHost;
    }

    /// <summary>The table of the simulator's sites, embedded in the assembly.</summary>
    public static PageReference Default => DefaultTable.Value;

    /// <summary>Where the table came from, as given to <see cref="Parse"/> (<c>default</c> for <see cref="Default"/>).</summary>
    public string Source { get; }

    /// <summary>The number of rows.</summary>
    public int Count { get; }

    /// <summary>
    /// Reads a table (format above). A <see cref="LakehouseException"/> (InvalidInput) names <paramref name="source"/>, the line
    /// and the column of the first problem: invalid UTF-8, a missing or wrong header, a wrong number of fields, an empty or
    /// invalid host, a path prefix that does not start with <c>/</c> or holds <c>?</c> or <c>#</c>, an empty site or section, a
    /// bad quote, or a duplicate (host, path_prefix).
    /// </summary>
    public static PageReference Parse(ReadOnlySpan<byte> csv, string source)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(source);
        List<CsvRecord> records;
        try
        {
            records = Csv.Read(csv);
        }
        catch (FormatException e)
        {
            throw Error(source, e.Message);
        }
        if (records.Count == 0) throw Error(source, $"line 1: the table is empty; it needs the header {Header}");
        var header = records[0];
        for (var i = 0; i < Math.Max(header.Fields.Count, Columns.Length); i++)
        {
            if (i >= header.Fields.Count || i >= Columns.Length || !string.Equals(header.Fields[i].Trim(), Columns[i], StringComparison.OrdinalIgnoreCase))
            {
                var column = i < header.Columns.Count ? header.Columns[i] : header.Columns[^1];
                throw Error(source, $"line {header.Line}, column {column}: the first line must be the header {Header}");
            }
        }

        var builders = new Dictionary<string, RulesBuilder>(StringComparer.Ordinal);
        var seen = new Dictionary<(string Host, string Prefix, bool Exact), int>();
        foreach (var record in records.Skip(1))
        {
            if (record.Fields.Count != Columns.Length)
            {
                var column = record.Fields.Count > Columns.Length ? record.Columns[Columns.Length] : record.Columns[^1];
                throw Error(source, $"line {record.Line}, column {column}: {record.Fields.Count} field(s), expected {Columns.Length} ({Header})");
            }
            string Field(int i) => TextCleaning.Clean(record.Fields[i]) ?? throw Error(source, $"line {record.Line}, column {record.Columns[i]} ({Columns[i]}): empty");
            var host = Host(Field(0)) ?? throw Error(source, $"line {record.Line}, column {record.Columns[0]} (host): '{record.Fields[0]}' is not a host name (no scheme, port or path) or *");
            var rawPrefix = Field(1);
            var exact = rawPrefix.EndsWith('$');
            var prefix = Prefix(exact ? rawPrefix[..^1] : rawPrefix)
                ?? throw Error(source, $"line {record.Line}, column {record.Columns[1]} (path_prefix): '{rawPrefix}' must start with / and hold no ? or #");
            var info = new PageInfo(Field(2), Field(3));
            if (!seen.TryAdd((host, prefix, exact), record.Line))
                throw Error(source, $"line {record.Line}, column {record.Columns[0]}: host {host} and path_prefix {rawPrefix} repeat line {seen[(host, prefix, exact)]}");
            if (!builders.TryGetValue(host, out var builder)) builders[host] = builder = new RulesBuilder();
            (exact ? builder.Exact : builder.Prefix)[prefix] = info;
        }

        var hosts = builders.Where(b => b.Key != "*").ToFrozenDictionary(b => b.Key, b => b.Value.Build(), StringComparer.OrdinalIgnoreCase);
        return new PageReference(source, records.Count - 1, hosts, builders.GetValueOrDefault("*")?.Build());
    }

    /// <summary>
    /// The site and section of the page at <paramref name="host"/> and <paramref name="path"/>; null when no row matches (an
    /// unknown host without a matching <c>*</c> row, or a path that does not start with <c>/</c>). Never throws.
    /// </summary>
    public PageInfo? Lookup(string? host, string path)
    {
        if (string.IsNullOrEmpty(path) || path[0] != '/') return null;
        var hostText = TextCleaning.Clean(host);
        if (hostText is not null && _hosts.TryGetValue(hostText, out var rules) && rules.Match(path) is { } found)
            return found;
        return _anyHost?.Match(path);
    }

    private static LakehouseException Error(string source, string message) =>
        new(LakehouseErrorReason.InvalidInput, $"Page reference table {source}, {message}.");

    /// <summary>The host as the URL normalizer writes it, or <c>*</c>; null when it is not a bare host.</summary>
    private static string? Host(string text)
    {
        if (text == "*") return text;
        if (text.AsSpan().IndexOfAny("/?#@\\") >= 0 || (text.Contains(':', StringComparison.Ordinal) && !(text.StartsWith('[') && text.EndsWith(']')))) return null;
        return UrlNormalizer.Normalize("http://" + text + "/") is { Host: { } host } ? host : null;
    }

    /// <summary>The prefix as the URL normalizer writes paths; null when it does not start with / or holds ? or #.</summary>
    private static string? Prefix(string text)
    {
        if (!text.StartsWith('/') || text.AsSpan().IndexOfAny('?', '#') >= 0 || text.StartsWith("//", StringComparison.Ordinal)) return null;
        return UrlNormalizer.Normalize(text) is { IsUrl: true, Host: null } url ? url.Path : null;
    }

    private static PageReference LoadDefault()
    {
        using var stream = typeof(PageReference).Assembly.GetManifestResourceStream("Lakehouse.Preprocessing.pages.csv")
            ?? throw new InvalidOperationException("The embedded page reference table is missing from the assembly.");
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return Parse(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), "default");
    }

    private sealed class RulesBuilder
    {
        internal Dictionary<string, PageInfo> Exact { get; } = new(StringComparer.Ordinal);

        internal Dictionary<string, PageInfo> Prefix { get; } = new(StringComparer.Ordinal);

        internal Rules Build() => new(Exact.ToFrozenDictionary(StringComparer.Ordinal), Prefix.ToFrozenDictionary(StringComparer.Ordinal));
    }

    /// <summary>The rows of one host: exact paths, and prefixes tried from the longest candidate down.</summary>
    private sealed class Rules(FrozenDictionary<string, PageInfo> exact, FrozenDictionary<string, PageInfo> prefix)
    {
        private readonly FrozenDictionary<string, PageInfo>.AlternateLookup<ReadOnlySpan<char>> _exact = exact.GetAlternateLookup<ReadOnlySpan<char>>();
        private readonly FrozenDictionary<string, PageInfo>.AlternateLookup<ReadOnlySpan<char>> _prefix = prefix.GetAlternateLookup<ReadOnlySpan<char>>();

        internal PageInfo? Match(ReadOnlySpan<char> path)
        {
            if (_exact.TryGetValue(path, out var info) || _prefix.TryGetValue(path, out info)) return info;
            // Shorter candidates on segment boundaries: "/a/b/c" tries "/a/b/", "/a/b", "/a/", "/a", "/".
            for (var slash = path.LastIndexOf('/'); slash >= 0; slash = path[..slash].LastIndexOf('/'))
            {
                if (slash + 1 < path.Length && _prefix.TryGetValue(path[..(slash + 1)], out info)) return info;
                if (slash > 0 && _prefix.TryGetValue(path[..slash], out info)) return info;
            }
            return null;
        }
    }
}
