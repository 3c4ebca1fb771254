namespace Lakehouse.Preprocessing;

/// <summary>What <see cref="UserAgents.Classify"/> derives from a user agent.</summary>
/// <param name="BrowserFamily">
/// The browser or client family (<c>Chrome</c>, <c>Chrome Mobile</c>, <c>Mobile Safari</c>, <c>Googlebot</c>, <c>curl</c>, …, see
/// <see cref="UserAgents"/>); <c>Other</c> when no rule matches.
/// </param>
/// <param name="DeviceClass">One of <c>desktop</c>, <c>mobile</c>, <c>tablet</c>, <c>bot</c>, <c>other</c>.</param>
/// <param name="IsBot">True for crawlers, monitors, link previewers, HTTP libraries and command-line clients.</param>
public sealed record UserAgentInfo(string BrowserFamily, string DeviceClass, bool IsBot);
