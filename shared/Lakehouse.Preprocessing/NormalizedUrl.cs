namespace Lakehouse.Preprocessing;

/// <summary>A URL after <see cref="UrlNormalizer.Normalize"/>.</summary>
/// <param name="Url">
/// The normalized URL: <c>scheme://host[:port]path[?query]</c> for an absolute URL, <c>//host…</c> for a scheme-relative one,
/// <c>path[?query]</c> for a relative one, or, when the text is not a URL the normalizer understands, the text as sent, trimmed.
/// </param>
/// <param name="Host">The host, lower case (IDN hosts in their ASCII <c>xn--</c> form, IPv6 hosts in brackets); null for a relative URL or text that is not a URL.</param>
/// <param name="Path">The normalized path, never empty for a URL (at least <c>/</c>); the empty string only when the text is not a URL.</param>
/// <param name="Query">The remaining query parameters without the <c>?</c>, sorted; null when none are left.</param>
public sealed record NormalizedUrl(string Url, string? Host, string Path, string? Query)
{
    /// <summary>False when the text was not a URL the normalizer understands and <see cref="Url"/> is the text as sent, trimmed.</summary>
    public bool IsUrl => Path.Length > 0;
}
