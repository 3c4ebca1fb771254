using System.Buffers;
using System.Collections.Frozen;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Lakehouse.Preprocessing;

/// <summary>
/// URL normalization, so one page has one URL whatever the browser, the campaign or the server wrote: the same rules on every
/// path silver takes. A pure, thread-safe function of its input.
/// </summary>
/// <remarks>
/// <para>For <c>scheme://authority/path?query#fragment</c> (and scheme-relative <c>//authority/…</c>):</para>
/// <list type="number">
/// <item>The text is trimmed as <see cref="TextCleaning.Clean"/> does; blank → null.</item>
/// <item>Scheme and host are lower-cased. A non-ASCII (IDN) host is lower-cased and written in its ASCII form
/// (<c>münchen.de</c> → <c>xn--mnchen-3ya.de</c>), as browsers send it in the HTTP Host header and in <c>location.href</c>.
/// An IPv6 host is written in its canonical compressed form in brackets (<c>[2001:DB8:0::1]</c> → <c>[2001:db8::1]</c>).</item>
/// <item>User information (<c>user:password@</c>) is removed: it never identifies a page and must not be kept in tables.</item>
/// <item>The port is removed when it is the scheme's default (80 for http and ws, 443 for https and wss) or empty; leading zeros go.</item>
/// <item>The fragment is removed.</item>
/// <item>Path: case kept; empty → <c>/</c>; percent-encoded unreserved characters (<c>A–Z a–z 0–9 - . _ ~</c>) decoded, other
/// percent-encodings upper-cased (RFC 3986 §6.2.2); characters a URI may not contain (space, <c>"</c>, <c>&lt;</c>, <c>|</c>,
/// controls, non-ASCII as UTF-8, a <c>%</c> not followed by two hex digits) percent-encoded; dot segments resolved (§5.2.4).</item>
/// <item>Query: split on <c>&amp;</c>; empty parameters dropped (<c>?&amp;&amp;a=1</c> → <c>?a=1</c>); each parameter's
/// percent-encoding normalized as in the path, its encoding otherwise kept (<c>+</c> stays <c>+</c>, <c>a</c> and <c>a=</c> differ);
/// tracking parameters removed (<see cref="TrackingParameters"/>, names compared ignoring ASCII case after decoding); the rest
/// sorted by name (ordinal), repeated names in their original order; no parameter left → no <c>?</c>.</item>
/// </list>
/// <para>A relative URL starting with <c>/</c> (<c>/account?x=1</c>, as access logs write requests) gets the path and query rules
/// and a null <see cref="NormalizedUrl.Host"/>.</para>
/// <para>Anything else is not a URL this normalizer understands: an opaque URL (<c>mailto:</c>, <c>javascript:</c>), a URL without
/// a scheme (<c>www.example.com/</c>), an invalid authority (a space or <c>%</c> in the host, an empty host, a port that is not a
/// number up to 65535, an unclosed or invalid IPv6 literal, a zone id), or plain garbage. Then the result keeps the text as sent,
/// trimmed, with a null host, an empty path and a null query (<see cref="NormalizedUrl.IsUrl"/> false). The normalizer never throws.</para>
/// </remarks>
public static class UrlNormalizer
{
    /// <summary>Query parameters whose name starts with this (ignoring ASCII case) are tracking parameters: <c>utm_source</c>, <c>UTM_Medium</c>, ….</summary>
    public const string TrackingParameterPrefix = "utm_";

    /// <summary>
    /// The other tracking parameters removed (names, compared ignoring ASCII case): click ids of Google Ads (<c>gclid</c>,
    /// <c>dclid</c>, <c>gbraid</c>, <c>wbraid</c>), Meta (<c>fbclid</c>), Microsoft Ads (<c>msclkid</c>), Yandex (<c>yclid</c>),
    /// Instagram shares (<c>igshid</c>), Mailchimp (<c>mc_cid</c>, <c>mc_eid</c>) and Google Analytics cross-domain linking (<c>_ga</c>).
    /// </summary>
    public static IReadOnlyList<string> TrackingParameters { get; } =
        ["gclid", "fbclid", "msclkid", "dclid", "gbraid", "wbraid", "mc_cid", "mc_eid", "_ga", "yclid", "igshid"];

    private static readonly FrozenSet<string> Tracking = TrackingParameters.ToFrozenSet(StringComparer.OrdinalIgnoreCase);
    private static readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> TrackingLookup = Tracking.GetAlternateLookup<ReadOnlySpan<char>>();

    // RFC 3986: unreserved, sub-delims, and what else a path segment (pchar) or a query may hold unencoded.
    private const string Unreserved = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
    private const string SubDelims = "!$&'()*+,;=";
    private static readonly SearchValues<char> UnreservedSet = SearchValues.Create(Unreserved);
    private static readonly SearchValues<char> PathSet = SearchValues.Create(Unreserved + SubDelims + ":@/");
    private static readonly SearchValues<char> QuerySet = SearchValues.Create(Unreserved + SubDelims + ":@/?");
    private static readonly SearchValues<char> HostSet = SearchValues.Create(Unreserved + SubDelims);
    private static readonly SearchValues<char> SchemeSet = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+-.");

    /// <summary>Normalizes <paramref name="url"/> by the rules above. Null or blank → null; never throws.</summary>
    public static NormalizedUrl? Normalize(string? url)
    {
        var text = TextCleaning.Clean(url);
        if (text is null) return null;
        try
        {
            return Parse(text) ?? NotAUrl(text);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
        {
            return NotAUrl(text); // a defensive net: the parser returns null for what it rejects and is not expected to throw
        }
    }

    /// <summary>True when a query parameter of this name is removed as a tracking parameter.</summary>
    internal static bool IsTrackingParameter(ReadOnlySpan<char> name) =>
        name.StartsWith(TrackingParameterPrefix, StringComparison.OrdinalIgnoreCase) || TrackingLookup.Contains(name);

    private static NormalizedUrl NotAUrl(string text) => new(text, null, "", null);

    private static NormalizedUrl? Parse(string text)
    {
        var s = text.AsSpan();
        var hash = s.IndexOf('#');
        if (hash >= 0) s = s[..hash];

        string? scheme = null;
        var colon = s.IndexOf(':');
        if (colon > 0 && char.IsAsciiLetter(s[0]) && !s[..colon].ContainsAnyExcept(SchemeSet))
        {
            if (!s[(colon + 1)..].StartsWith("//", StringComparison.Ordinal)) return null; // opaque (mailto:, javascript:) or scheme:path
            scheme = s[..colon].ToString().ToLowerInvariant();
            s = s[(colon + 1)..];
        }

        var sb = new StringBuilder(s.Length + 16);
        string? host = null;
        if (s.StartsWith("//", StringComparison.Ordinal))
        {
            s = s[2..];
            var end = s.IndexOfAny('/', '?');
            var authority = end < 0 ? s : s[..end];
            s = end < 0 ? [] : s[end..];
            if (!Authority(authority, scheme, out host, out var port)) return null;
            if (scheme is not null) sb.Append(scheme).Append(':');
            sb.Append("//").Append(host);
            if (port is not null) sb.Append(':').Append(port);
        }
        else if (scheme is not null || s.IsEmpty || s[0] != '/')
        {
            return null;
        }

        var question = s.IndexOf('?');
        var rawPath = question < 0 ? s : s[..question];
        var path = rawPath.IsEmpty ? "/" : RemoveDotSegments(Encode(rawPath, PathSet));
        sb.Append(path);
        var query = question < 0 ? null : Query(s[(question + 1)..]);
        if (query is not null) sb.Append('?').Append(query);
        return new NormalizedUrl(sb.ToString(), host, path, query);
    }

    /// <summary>Splits <c>[userinfo@]host[:port]</c>, drops the user information, normalizes the host and the port.</summary>
    private static bool Authority(ReadOnlySpan<char> authority, string? scheme, out string? host, out string? port)
    {
        host = null;
        port = null;
        var at = authority.LastIndexOf('@');
        if (at >= 0) authority = authority[(at + 1)..];

        ReadOnlySpan<char> portText;
        if (authority.StartsWith('['))
        {
            var close = authority.IndexOf(']');
            if (close < 0) return false;
            var literal = authority[1..close];
            var rest = authority[(close + 1)..];
            if (!rest.IsEmpty && rest[0] != ':') return false;
            portText = rest.IsEmpty ? [] : rest[1..];
            if (literal.IsEmpty || literal.Contains('%') || !IPAddress.TryParse(literal, out var address) || address.AddressFamily != AddressFamily.InterNetworkV6)
                return false;
            host = "[" + address + "]";
        }
        else
        {
            var colon = authority.LastIndexOf(':');
            portText = colon < 0 ? [] : authority[(colon + 1)..];
            var name = colon < 0 ? authority : authority[..colon];
            if (name.IsEmpty) return false;
            host = HostName(name);
            if (host is null) return false;
        }

        if (portText.IsEmpty) return true;
        if (portText.ContainsAnyExceptInRange('0', '9')) return false;
        portText = portText.TrimStart('0');
        if (portText.Length > 5) return false;
        var number = portText.IsEmpty ? 0 : int.Parse(portText, NumberStyles.None, CultureInfo.InvariantCulture);
        if (number > 65535) return false;
        var isDefault = (number == 80 && scheme is "http" or "ws") || (number == 443 && scheme is "https" or "wss");
        if (!isDefault) port = number.ToString(CultureInfo.InvariantCulture);
        return true;
    }

    /// <summary>A registered name, lower case, IDN in ASCII form; null when it holds a character a host may not.</summary>
    private static string? HostName(ReadOnlySpan<char> name)
    {
        var ascii = true;
        foreach (var c in name)
        {
            if (c < 0x80)
            {
                if (!HostSet.Contains(c)) return null;
            }
            else if (TextCleaning.IsTrimmed(c))
            {
                return null;
            }
            else
            {
                ascii = false;
            }
        }
        var lower = name.ToString().ToLowerInvariant();
        if (ascii) return lower;
        try
        {
            return new IdnMapping().GetAscii(lower).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            return null; // a label too long, empty or holding an invalid surrogate
        }
    }

    /// <summary>Normalizes the query: empty and tracking parameters dropped, the rest sorted by name, stable.</summary>
    private static string? Query(ReadOnlySpan<char> query)
    {
        List<(string Name, string Text, int Order)>? kept = null;
        var order = 0;
        foreach (var range in query.Split('&'))
        {
            var part = query[range];
            if (part.IsEmpty) continue;
            var text = Encode(part, QuerySet);
            var eq = text.IndexOf('=', StringComparison.Ordinal);
            var name = eq < 0 ? text : text[..eq];
            if (IsTrackingParameter(name)) continue;
            (kept ??= []).Add((name, text, order++));
        }
        if (kept is null) return null;
        kept.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name) is var c && c != 0 ? c : a.Order.CompareTo(b.Order));
        return string.Join('&', kept.Select(p => p.Text));
    }

    /// <summary>
    /// Percent-encoding normalized: encoded unreserved characters decoded, hex upper case, characters outside
    /// <paramref name="allowed"/> encoded as UTF-8 (an invalid surrogate as U+FFFD), a stray <c>%</c> as <c>%25</c>.
    /// </summary>
    private static string Encode(ReadOnlySpan<char> part, SearchValues<char> allowed)
    {
        if (!part.ContainsAnyExcept(allowed) && !part.Contains('%')) return part.ToString();
        var sb = new StringBuilder(part.Length + 8);
        Span<byte> utf8 = stackalloc byte[4];
        var i = 0;
        while (i < part.Length)
        {
            var c = part[i];
            if (c == '%' && i + 2 < part.Length && char.IsAsciiHexDigit(part[i + 1]) && char.IsAsciiHexDigit(part[i + 2]))
            {
                var value = (char)((HexValue(part[i + 1]) << 4) | HexValue(part[i + 2]));
                if (UnreservedSet.Contains(value)) sb.Append(value);
                else sb.Append('%').Append(char.ToUpperInvariant(part[i + 1])).Append(char.ToUpperInvariant(part[i + 2]));
                i += 3;
            }
            else if (c != '%' && allowed.Contains(c))
            {
                sb.Append(c);
                i++;
            }
            else
            {
                Rune.DecodeFromUtf16(part[i..], out var rune, out var used);
                var length = rune.EncodeToUtf8(utf8);
                foreach (var b in utf8[..length]) sb.Append('%').Append(HexDigit(b >> 4)).Append(HexDigit(b & 0xF));
                i += used;
            }
        }
        return sb.ToString();
    }

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;

    private static char HexDigit(int n) => (char)(n < 10 ? '0' + n : 'A' + n - 10);

    /// <summary>RFC 3986 §5.2.4 for an absolute path: <c>.</c> segments removed, <c>..</c> removes the segment before it.</summary>
    private static string RemoveDotSegments(string path)
    {
        if (!path.Contains("/.", StringComparison.Ordinal)) return path;
        var segments = new List<string>();
        var trailingSlash = false;
        foreach (var segment in path[1..].Split('/'))
        {
            trailingSlash = segment is "." or "..";
            if (segment == "..")
            {
                if (segments.Count > 0) segments.RemoveAt(segments.Count - 1);
            }
            else if (segment != ".")
            {
                segments.Add(segment);
            }
        }
        if (segments.Count == 0) return "/";
        return "/" + string.Join('/', segments) + (trailingSlash ? "/" : "");
    }
}
