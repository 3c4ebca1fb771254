using System.Text.RegularExpressions;

namespace Lakehouse.Bronze.Landing;

/// <summary>
/// The event hub partition a Capture file holds: from its path, which Capture names
/// <c>{Namespace}/{EventHub}/{PartitionId}/{Year}/{Month}/{Day}/{Hour}/{Minute}/{Second}</c> by default, or from
/// <c>--capture-hub</c> when the folders are named otherwise.
/// </summary>
/// <param name="Namespace">The namespace the path names (null when only the option names the hub).</param>
/// <param name="Hub">The event hub: its records share their identity with the live rows whose <c>source</c> is this name.</param>
/// <param name="Partition">The partition.</param>
internal sealed partial record CaptureOrigin(string? Namespace, string Hub, string Partition)
{
    /// <summary>
    /// The origin of the Capture file at <paramref name="location"/>, given <paramref name="captureHub"/> (<c>hub</c> or
    /// <c>namespace/hub</c>, or null). Returns the origin, or null with a problem that refuses the file, or (null, null) when
    /// the file cannot be reconciled (no standard path and no option): it is landed as before, without reconciling.
    /// </summary>
    internal static (CaptureOrigin? Origin, string? Problem) Resolve(string location, string? captureHub)
    {
        ArgumentNullException.ThrowIfNull(location);
        var match = StandardPath().Match(location);
        if (captureHub is null)
            return match.Success ? (new CaptureOrigin(match.Groups["ns"].Value, match.Groups["hub"].Value, match.Groups["partition"].Value), null) : (null, null);
        if (!match.Success)
        {
            return (null, "its path does not end in Capture's {PartitionId}/{Year}/{Month}/{Day}/{Hour}/{Minute}/{Second}[.avro], so its partition " +
                "is unknown and it cannot be reconciled with the live stream of --capture-hub");
        }
        var (ns, hub) = Split(captureHub);
        if (ns is not null)
        {
            // With a namespace the option says the path is Capture's standard one: check that it names this hub.
            var pathNs = match.Groups["ns"].Value;
            var pathHub = match.Groups["hub"].Value;
            if (!string.Equals(pathHub, hub, StringComparison.OrdinalIgnoreCase) || !string.Equals(pathNs, ns, StringComparison.OrdinalIgnoreCase))
            {
                return (null, $"its path names event hub '{pathNs}/{pathHub}', not '{ns}/{hub}' as --capture-hub says; it is another hub's Capture file " +
                    "(give --capture-hub <hub> without the namespace if the folders are named otherwise)");
            }
        }
        return (new CaptureOrigin(ns, hub, match.Groups["partition"].Value), null);
    }

    /// <summary>Checks a <c>--capture-hub</c> value: <c>hub</c> or <c>namespace/hub</c> (a namespace host keeps its first label).</summary>
    internal static string Validate(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var parts = value.Split('/');
        if (parts.Length is < 1 or > 2 || parts.Any(p => !NamePart().IsMatch(p)))
        {
            throw new ArgumentException($"'{value}' is not an event hub: expected <hub> or <namespace>/<hub> (letters, digits, '.', '-', '_'), " +
                "e.g. myns/weblogs as Capture's path {Namespace}/{EventHub}/… names it.");
        }
        return value;
    }

    private static (string? Namespace, string Hub) Split(string value)
    {
        var slash = value.IndexOf('/');
        if (slash < 0) return (null, value);
        var ns = value[..slash];
        var dot = ns.IndexOf('.');
        return (dot > 0 ? ns[..dot] : ns, value[(slash + 1)..]);
    }

    [GeneratedRegex(@"(?:^|/)(?<ns>[^/]+)/(?<hub>[^/]+)/(?<partition>[^/]+)/\d{4}/\d{1,2}/\d{1,2}/\d{1,2}/\d{1,2}/\d{1,2}(?:\.avro)?$", RegexOptions.CultureInvariant)]
    private static partial Regex StandardPath();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]{0,259}$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePart();
}
