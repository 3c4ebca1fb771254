using Lakehouse.Core;

namespace Lakehouse.Storage;

/// <summary>
/// A parsed Azure lake location: the account, the container, the folder inside it, the account's blob endpoint,
/// and how to print the location again (in the form it was given).
/// </summary>
/// <param name="AccountName">The storage account.</param>
/// <param name="Container">The container (ADLS Gen2: the file system).</param>
/// <param name="Root">The folder inside the container, normalised, without leading or trailing '/'; empty for the container itself.</param>
/// <param name="AccountEndpoint">The account's blob endpoint, e.g. https://account.blob.core.windows.net or http://127.0.0.1:10000/devstoreaccount1.</param>
/// <param name="DisplayPrefix">The location up to and including the container, in the form it was given (abfss:// or https://).</param>
internal sealed record AzureBlobLocation(string AccountName, string Container, string Root, Uri AccountEndpoint, string DisplayPrefix)
{
    /// <summary>The location as a string: <see cref="DisplayPrefix"/> and the root folder.</summary>
    public string Display => Root.Length == 0 ? DisplayPrefix : DisplayPrefix + "/" + Root;

    /// <summary>True for the location forms Azure storage understands: abfs://, abfss://, http:// and https://.</summary>
    public static bool IsAzure(string location) =>
        location.StartsWith("abfss://", StringComparison.OrdinalIgnoreCase)
        || location.StartsWith("abfs://", StringComparison.OrdinalIgnoreCase)
        || location.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
        || location.StartsWith("http://", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Parses <c>abfss://container@account.dfs.core.windows.net/path</c> (also <c>abfs://</c>, and a bare account name as host),
    /// <c>https://account.blob.core.windows.net/container/path</c> (or <c>.dfs.</c>), and the path-style
    /// <c>http://127.0.0.1:10000/account/container/path</c> of the emulator. <paramref name="endpointOverride"/> replaces the derived endpoint.
    /// </summary>
    public static AzureBlobLocation Parse(string location, Uri? endpointOverride = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(location);
        var schemeEnd = location.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd < 0 || !IsAzure(location))
            throw Invalid(location, "use abfss://container@account.dfs.core.windows.net/path or https://account.blob.core.windows.net/container/path");
        var scheme = location[..schemeEnd].ToLowerInvariant();
        var rest = location[(schemeEnd + 3)..];
        if (rest.IndexOfAny(['?', '#']) >= 0)
            throw Invalid(location, "a location may not carry a query string: give a SAS in the AZURE_STORAGE_SAS_TOKEN environment variable (or, from code, LakeStorageOptions.SasToken)");

        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var authority = slash < 0 ? rest : rest[..slash];
        var path = slash < 0 ? "" : rest[(slash + 1)..];
        string account, container, root, prefix;
        Uri endpoint;
        if (scheme is "abfs" or "abfss")
        {
            var at = authority.IndexOf('@', StringComparison.Ordinal);
            if (at <= 0 || at == authority.Length - 1)
                throw Invalid(location, "expected abfss://container@account.dfs.core.windows.net/path");
            container = authority[..at];
            var host = authority[(at + 1)..].ToLowerInvariant();
            account = AccountOfHost(location, host);
            endpoint = new Uri("https://" + (host.Contains('.', StringComparison.Ordinal) ? BlobHost(location, host) : account + ".blob.core.windows.net"));
            root = path;
            prefix = $"{scheme}://{container}@{host}";
        }
        else
        {
            if (!Uri.TryCreate(scheme + "://" + authority, UriKind.Absolute, out var server) || authority.Contains('@', StringComparison.Ordinal))
                throw Invalid(location, "the host is not valid");
            var pathStyle = server.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6 || server.IsLoopback;
            if (pathStyle)
            {
                // The emulator's path-style URL: http://host:port/account/container/path.
                var accountAndRest = path.Split('/', 3);
                if (accountAndRest.Length < 2 || accountAndRest[0].Length == 0)
                    throw Invalid(location, "expected http://host:port/account/container/path");
                account = accountAndRest[0];
                container = accountAndRest[1];
                root = accountAndRest.Length > 2 ? accountAndRest[2] : "";
                endpoint = new Uri($"{scheme}://{authority}/{account}");
                prefix = $"{scheme}://{authority}/{account}/{container}";
            }
            else
            {
                var host = server.Host.ToLowerInvariant();
                var segments = path.Split('/', 2);
                account = AccountOfHost(location, host);
                container = segments[0];
                root = segments.Length > 1 ? segments[1] : "";
                var blobHost = BlobHost(location, host);
                endpoint = new Uri($"{scheme}://{(server.IsDefaultPort ? blobHost : blobHost + ":" + server.Port)}");
                prefix = $"{scheme}://{authority.ToLowerInvariant()}/{container}";
            }
        }

        if (!IsValidContainer(container))
            throw Invalid(location, $"'{container}' is not a valid container name (3 to 63 lower-case letters, digits and single hyphens)");
        if (account.Length is 0 or > 24 || !account.All(char.IsAsciiLetterOrDigit))
            throw Invalid(location, $"'{account}' is not a valid storage account name");
        root = LakePath.Normalize(Uri.UnescapeDataString(root)).TrimEnd('/');
        return new AzureBlobLocation(account.ToLowerInvariant(), container, root, endpointOverride ?? endpoint, prefix);
    }

    /// <summary>The same account and container with the root moved to a sub-folder.</summary>
    public AzureBlobLocation WithRoot(string root) => this with { Root = root };

    private static string AccountOfHost(string location, string host)
    {
        var dot = host.IndexOf('.', StringComparison.Ordinal);
        var account = dot < 0 ? host : host[..dot];
        return account.Length > 0 ? account : throw Invalid(location, "no account name in the host");
    }

    private static string BlobHost(string location, string host)
    {
        var labels = host.Split('.');
        if (labels.Length >= 3 && labels[1] is "dfs" or "blob")
            return labels[0] + ".blob." + string.Join('.', labels[2..]);
        throw Invalid(location, $"host '{host}' is not an account's blob or dfs endpoint (account.dfs.core.windows.net, or account.dfs.<suffix> in another cloud); the storage emulator is http://host:port/account/container/path");
    }

    private static bool IsValidContainer(string name) =>
        name == "$root"
        || (name.Length is >= 3 and <= 63
            && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')
            && name[0] != '-' && name[^1] != '-' && !name.Contains("--", StringComparison.Ordinal));

    private static LakehouseException Invalid(string location, string why)
    {
        // Never echo a query string: it may hold a SAS.
        var cut = location.IndexOfAny(['?', '#']);
        var shown = cut < 0 ? location : location[..cut] + "?<redacted>";
        return new LakehouseException(LakehouseErrorReason.InvalidInput, $"Unsupported Azure lake location '{shown}': {why}.");
    }
}
