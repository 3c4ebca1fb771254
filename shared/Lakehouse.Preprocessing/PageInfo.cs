namespace Lakehouse.Preprocessing;

/// <summary>What the page reference table says about a page.</summary>
/// <param name="Site">The site the page belongs to (e.g. <c>shop</c>).</param>
/// <param name="Section">The section of the site (e.g. <c>checkout</c>).</param>
public sealed record PageInfo(string Site, string Section);
