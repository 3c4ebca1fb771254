using System.Globalization;

namespace Lakehouse.Gold.Serving;

/// <summary>How the views reach the lake's storage: the credential of the external data source.</summary>
public enum SynapseCredentialKind
{
    /// <summary>The Synapse workspace's managed identity (<c>IDENTITY = 'Managed Identity'</c>); no secret anywhere. The default.</summary>
    ManagedIdentity,

    /// <summary>
    /// A shared access signature (<c>IDENTITY = 'SHARED ACCESS SIGNATURE'</c>). The script never holds the token: its credential
    /// batch reads it from the parameter <c>@sas_token</c>, which <see cref="SynapseDeployer"/> fills from its options.
    /// </summary>
    SharedAccessSignature,
}

/// <summary>The connection mode the Power BI data source file asks for.</summary>
public enum PowerBiMode
{
    /// <summary>Power BI queries the views at every refresh of a visual: the numbers are always gold's latest. The default.</summary>
    DirectQuery,

    /// <summary>Power BI imports the rows into its model at refresh.</summary>
    Import,

    /// <summary>Power BI Desktop asks the user when the file is opened.</summary>
    Ask,
}

/// <summary>
/// What <see cref="SynapseScript"/> generates: the serverless database, how it reaches the lake, and the Power BI data source.
/// Every property is validated when it is set (<see cref="ArgumentException"/>, with the reason); the script's own quoting then
/// makes any accepted name or value safe to embed.
/// </summary>
public sealed class SynapseScriptOptions
{
    /// <summary>The default database name.</summary>
    public const string DefaultDatabase = "lakehouse";

    private static readonly string[] SystemDatabases = ["master", "model", "msdb", "tempdb"];

    private string _database = DefaultDatabase;
    private Uri? _storageUrl;
    private int? _stringLength;
    private string? _server;

    /// <summary>
    /// The serverless database that holds the views (created when missing, with the UTF-8 collation); default
    /// <see cref="DefaultDatabase"/>. Any SQL name (1–128 characters, no control characters, no white space at either end),
    /// except the system databases: external data sources live only in user databases.
    /// </summary>
    public string Database
    {
        get => _database;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            if (TSqlText.NameProblem(value) is { } problem)
                throw new ArgumentException($"The database name '{TSqlText.Printable(value)}' is not valid: it {problem}.", nameof(value));
            if (SystemDatabases.Contains(value, StringComparer.OrdinalIgnoreCase))
                throw new ArgumentException($"The database name '{value}' is a system database; the views need a user database (external data sources exist only there).", nameof(value));
            _database = value;
        }
    }

    /// <summary>
    /// The lake's root in ADLS Gen2, <c>https://&lt;account&gt;.dfs.core.windows.net/&lt;container&gt;/&lt;path&gt;</c> (or the account's
    /// <c>.blob.</c> endpoint): the external data source's location, under which every view reads <c>silver/&lt;table&gt;</c> or
    /// <c>gold/&lt;table&gt;</c>. Required. https only, without a query string (a SAS goes into the credential, never into the URL).
    /// <see cref="StorageUrlOfLake"/> derives it from an <c>abfss://</c> lake location.
    /// </summary>
    public Uri? StorageUrl
    {
        get => _storageUrl;
        set => _storageUrl = value is null ? null : CheckStorageUrl(value);
    }

    /// <summary>How the data source authenticates to storage; default <see cref="SynapseCredentialKind.ManagedIdentity"/>.</summary>
    public SynapseCredentialKind Credential { get; set; } = SynapseCredentialKind.ManagedIdentity;

    /// <summary>
    /// The length of string columns, <c>VARCHAR(n)</c> in bytes of UTF-8: 1 to 8000; null (the default) for <c>VARCHAR(MAX)</c>,
    /// which holds every value (silver keeps strings of up to a payload's 1 MiB). A length is faster in serverless, but a longer
    /// value in the data then no longer reads: give one only for data known to fit.
    /// </summary>
    public int? StringLength
    {
        get => _stringLength;
        set
        {
            if (value is { } n)
            {
                ArgumentOutOfRangeException.ThrowIfLessThan(n, 1, nameof(value));
                ArgumentOutOfRangeException.ThrowIfGreaterThan(n, 8000, nameof(value));
            }
            _stringLength = value;
        }
    }

    /// <summary>
    /// The serverless SQL endpoint, <c>&lt;workspace&gt;-ondemand.sql.azuresynapse.net</c>, optionally with <c>,port</c>: the server of
    /// the Power BI data source file. Null when not known (no .pbids then). A host name or IPv4 address, port 1–65535.
    /// </summary>
    public string? Server
    {
        get => _server;
        set => _server = value is null ? null : SqlServerAddress.Parse(value).Display;
    }

    /// <summary>The mode the Power BI data source file asks for; default <see cref="PowerBiMode.DirectQuery"/>.</summary>
    public PowerBiMode PowerBiMode { get; set; } = PowerBiMode.DirectQuery;

    /// <summary>
    /// The storage URL of a lake at <paramref name="lakeLocation"/>: <c>abfss://container@account.dfs.core.windows.net/path</c>
    /// becomes <c>https://account.dfs.core.windows.net/container/path</c>; an https location is taken as it is. Null for a local folder
    /// or an address that is not Azure storage's (the emulator's, for one).
    /// </summary>
    public static Uri? StorageUrlOfLake(string lakeLocation)
    {
        ArgumentNullException.ThrowIfNull(lakeLocation);
        var location = lakeLocation.Trim();
        string? url = null;
        if (location.StartsWith("abfss://", StringComparison.OrdinalIgnoreCase) || location.StartsWith("abfs://", StringComparison.OrdinalIgnoreCase))
        {
            var rest = location[(location.IndexOf("://", StringComparison.Ordinal) + 3)..];
            var slash = rest.IndexOf('/', StringComparison.Ordinal);
            var authority = slash < 0 ? rest : rest[..slash];
            var path = slash < 0 ? "" : rest[slash..];
            var at = authority.IndexOf('@', StringComparison.Ordinal);
            if (at > 0 && at < authority.Length - 1) url = $"https://{authority[(at + 1)..]}/{authority[..at]}{path}";
        }
        else if (location.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            url = location;
        }
        if (url is null || !Uri.TryCreate(url, UriKind.Absolute, out var uri)) return null;
        try
        {
            return CheckStorageUrl(uri);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    /// <summary>Checks that the script can be generated: a storage URL is set.</summary>
    internal void Validate()
    {
        if (StorageUrl is null)
            throw new ArgumentException("The storage URL of the lake is not set: give https://<account>.dfs.core.windows.net/<container>/<path> (a local lake has no URL Synapse could read).");
    }

    /// <summary>The URL, checked and normalised: https, an account host, a container, no query or fragment, ending in '/'.</summary>
    private static Uri CheckStorageUrl(Uri value)
    {
        var text = value.IsAbsoluteUri ? value.OriginalString : value.ToString();
        // Shown without its user information, query and fragment: a SAS or a password in a URL given by mistake stays out of the message.
        var shown = !value.IsAbsoluteUri || (value.UserInfo.Length == 0 && value.Query.Length == 0 && value.Fragment.Length == 0) ? text
            : value.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped) + (value.Query.Length > 0 || value.Fragment.Length > 0 ? "?<redacted>" : "");
        string Problem(string why) => $"The storage URL '{TSqlText.Printable(shown)}' is not valid: {why}.";
        if (!value.IsAbsoluteUri || value.Scheme != Uri.UriSchemeHttps)
            throw new ArgumentException(Problem("use https://<account>.dfs.core.windows.net/<container>/<path>"), nameof(value));
        if (TSqlText.TextProblem(text) is { } textProblem) throw new ArgumentException(Problem("it " + textProblem), nameof(value));
        if (value.Query.Length > 0 || value.Fragment.Length > 0)
            throw new ArgumentException(Problem("it has a query string or fragment; a SAS goes into the credential (--credential sas), never into the URL"), nameof(value));
        if (value.UserInfo.Length > 0 || !value.IsDefaultPort)
            throw new ArgumentException(Problem("it carries a user name or a port"), nameof(value));
        var account = value.Host.Split('.')[0];
        if (value.HostNameType != UriHostNameType.Dns || !value.Host.Contains('.', StringComparison.Ordinal)
            || account.Length is < 3 or > 24 || !account.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c)))
            throw new ArgumentException(Problem("the host is not a storage account's (<account>.dfs.core.windows.net, the account 3 to 24 lower-case letters and digits)"), nameof(value));
        var segments = value.AbsolutePath.Trim('/').Split('/');
        var container = segments[0];
        if (container.Length is < 3 or > 63 || !container.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')
            || container[0] == '-' || container[^1] == '-' || container.Contains("--", StringComparison.Ordinal))
            throw new ArgumentException(Problem("the path must start with a container (3 to 63 lower-case letters, digits and single hyphens)"), nameof(value));
        if (segments.Skip(1).Any(s => s.Length == 0 || s is "." or ".."))
            throw new ArgumentException(Problem("the path has an empty, '.' or '..' folder"), nameof(value));
        var normalized = value.GetLeftPart(UriPartial.Path);
        return new Uri(normalized.EndsWith('/') ? normalized : normalized + "/");
    }
}

/// <summary>A SQL endpoint as a connection string's <c>Server</c> takes it: a host and an optional port (<c>host,port</c>).</summary>
internal sealed record SqlServerAddress(string Host, int? Port)
{
    /// <summary>host or host,port, as Power BI and SQL tools show it.</summary>
    internal string Display => Port is { } port ? string.Create(CultureInfo.InvariantCulture, $"{Host},{port}") : Host;

    /// <summary>
    /// Parses <c>host</c>, <c>host,port</c>, <c>host:port</c> or <c>tcp:host,port</c>; the host is a DNS name (letters, digits, '-' and '.')
    /// or an IPv4 address.
    /// </summary>
    /// <exception cref="ArgumentException">Not a server address; the message says why.</exception>
    internal static SqlServerAddress Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim();
        string Problem(string why) => $"The server '{TSqlText.Printable(text)}' is not valid: {why}.";
        // A user and password (user:pw@host) or a connection string (host;Password=…) is not shown: it may hold a secret.
        if (t.IndexOfAny(['@', ';', '=']) >= 0)
            throw new ArgumentException(
                "The server is not valid: it holds '@', ';' or '=', as a user and password or a connection string would (not shown here, as it may hold a " +
                "secret); give only the host name of the serverless SQL endpoint, <workspace>-ondemand.sql.azuresynapse.net, optionally with ,port. " +
                "Credentials come from the environment (see lakehouse synapse deploy --help).", nameof(text));
        if (t.Contains("://", StringComparison.Ordinal))
            throw new ArgumentException(Problem("give the host name of the serverless SQL endpoint without a scheme (no https://), <workspace>-ondemand.sql.azuresynapse.net, optionally with ,port"), nameof(text));
        if (t.StartsWith("tcp:", StringComparison.OrdinalIgnoreCase)) t = t[4..];
        var separator = t.LastIndexOfAny([',', ':']);
        int? port = null;
        if (separator >= 0)
        {
            if (!int.TryParse(t[(separator + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var p) || p is < 1 or > 65535)
                throw new ArgumentException(Problem("the port after the host must be a number from 1 to 65535"), nameof(text));
            port = p;
            t = t[..separator];
        }
        var labels = t.Split('.');
        if (t.Length is 0 or > 253 || labels.Any(l => l.Length is 0 or > 63 || l[0] == '-' || l[^1] == '-' || !l.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')))
            throw new ArgumentException(Problem("give the host name of the serverless SQL endpoint, <workspace>-ondemand.sql.azuresynapse.net, optionally with ,port"), nameof(text));
        return new SqlServerAddress(t.ToLowerInvariant(), port);
    }
}
