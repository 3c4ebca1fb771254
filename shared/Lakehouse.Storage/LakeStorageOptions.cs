using System.Globalization;
using System.Text;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Storage.Blobs;
using Lakehouse.Core;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Storage;

/// <summary>
/// How to reach and authenticate to Azure storage (ADLS Gen2 or Blob storage), and where downloaded copies are cached.
/// Secrets are never logged or printed: <see cref="ToString"/> names the kind of authentication, never a key, a SAS or a token.
/// </summary>
/// <remarks>
/// Authentication is chosen in this order: <see cref="AccountKey"/> (shared key), <see cref="SasToken"/>,
/// <see cref="Credential"/>, and when none is set a <c>DefaultAzureCredential</c> (environment, workload or managed identity,
/// Azure CLI, ...). Every property is validated when it is set (<see cref="ArgumentException"/>);
/// <see cref="FromEnvironment()"/> turns a bad variable into a <see cref="LakehouseException"/> that names it.
/// </remarks>
public sealed class LakeStorageOptions
{
    /// <summary>The account name of the storage emulator (Azurite).</summary>
    internal const string DevelopmentAccountName = "devstoreaccount1";

    /// <summary>The published, well-known account key of the storage emulator (Azurite); not a secret.</summary>
    internal const string DevelopmentAccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    /// <summary>The default of <see cref="CacheSizeLimit"/>: 4 GiB.</summary>
    public const long DefaultCacheSizeLimit = 4L * 1024 * 1024 * 1024;

    private string? _accountName;
    private string? _accountKey;
    private string? _sasToken;
    private Uri? _blobEndpoint;
    private int _maxRetries = 5;
    private TimeSpan _networkTimeout = TimeSpan.FromSeconds(100);
    private string? _cacheDirectory;
    private long _cacheSizeLimit = DefaultCacheSizeLimit;
    private TimeSpan _cacheInUseWindow = TimeSpan.FromMinutes(10);
    private long _blockUploadThreshold = 64L * 1024 * 1024;
    private int _blockSize = 8 * 1024 * 1024;
    private int _listPageSize = 5000;

    /// <summary>
    /// The storage account name. Optional: the account comes from the lake location; when this is set as well,
    /// the two must agree (a key for one account cannot sign for another). 3–24 lower-case letters and digits.
    /// </summary>
    public string? AccountName
    {
        get => _accountName;
        set => _accountName = Check(value, AccountNameProblem, "The account name");
    }

    /// <summary>The storage account key (base64) for shared-key authentication; null for none. Never printed.</summary>
    public string? AccountKey
    {
        get => _accountKey;
        set => _accountKey = Check(value?.Trim(), AccountKeyProblem, "The account key");
    }

    /// <summary>
    /// A shared access signature (account, service or user-delegation SAS), as the query string it is,
    /// with or without the leading '?'; null for none. It must carry a signature (<c>sig=</c>). Never printed.
    /// </summary>
    public string? SasToken
    {
        get => _sasToken;
        set => _sasToken = Check(value?.Trim().TrimStart('?'), SasProblem, "The SAS token");
    }

    /// <summary>
    /// A token credential for Microsoft Entra ID authentication (scope <c>https://storage.azure.com/.default</c>);
    /// null to use <c>DefaultAzureCredential</c> when neither a key nor a SAS is set.
    /// </summary>
    public TokenCredential? Credential { get; set; }

    /// <summary>
    /// The account's blob endpoint, overriding the one derived from the location
    /// (<c>https://ACCOUNT.blob.core.windows.net</c>). For Azurite: <c>http://127.0.0.1:10000/devstoreaccount1</c>.
    /// Absolute http or https, without a query string (a SAS goes into <see cref="SasToken"/>).
    /// </summary>
    public Uri? BlobEndpoint
    {
        get => _blobEndpoint;
        set => _blobEndpoint = Check(value, EndpointProblem, "The blob endpoint");
    }

    /// <summary>
    /// How many times a request that failed transiently (network, throttling, 5xx) is retried, with exponential back-off
    /// (the SDK's retry policy; each retry is logged, event 2000). 0–20; default 5.
    /// </summary>
    public int MaxRetries
    {
        get => _maxRetries;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 20);
            _maxRetries = value;
        }
    }

    /// <summary>How long one try of a request may wait on the network before it is retried. Positive; default 100 seconds.</summary>
    public TimeSpan NetworkTimeout
    {
        get => _networkTimeout;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(value, TimeSpan.Zero);
            _networkTimeout = value;
        }
    }

    /// <summary>
    /// The folder where <see cref="ILakeStorage.GetLocalCopyAsync"/> keeps downloaded blobs; null (the default) for
    /// <see cref="DefaultCacheDirectory"/>. Several processes may share it.
    /// </summary>
    public string? CacheDirectory
    {
        get => _cacheDirectory;
        set
        {
            if (value is not null && value.Trim().Length == 0)
                throw new ArgumentException("The cache directory may not be blank.", nameof(value));
            _cacheDirectory = value;
        }
    }

    /// <summary>
    /// The most bytes the download cache keeps. After a download takes it over the limit, the least recently used copies
    /// are deleted until it fits again. Copies used in the last 10 minutes are not deleted: a scan fetches all its files
    /// before the engine reads them, so a query over more than the limit holds what it needs while it runs (the folder is
    /// over the limit meanwhile, and shrinks at the next download after). At least 1 MiB; default
    /// <see cref="DefaultCacheSizeLimit"/> (4 GiB).
    /// </summary>
    public long CacheSizeLimit
    {
        get => _cacheSizeLimit;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1024L * 1024);
            _cacheSizeLimit = value;
        }
    }

    /// <summary>How recently a cached copy must have been used to be safe from eviction (see <see cref="CacheSizeLimit"/>). Default 10 minutes; tests set zero.</summary>
    internal TimeSpan CacheInUseWindow
    {
        get => _cacheInUseWindow;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            _cacheInUseWindow = value;
        }
    }

    /// <summary>Where storage logs (retries: event 2000; cache eviction: 2001); null for no logging.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>
    /// The default download cache: <c>lakehouse/blobs</c> under the user's cache folder (<c>$XDG_CACHE_HOME</c>, else
    /// <c>~/.cache</c>; the local application data folder on Windows), or under the temp path when there is no home folder.
    /// Not the temp path by default: it is often a RAM-backed tmpfs, is cleared at reboot, and a folder there created by
    /// one user cannot be written by the next.
    /// </summary>
    public static string DefaultCacheDirectory
    {
        get
        {
            var root = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { } xdg && Path.IsPathFullyQualified(xdg)
                ? xdg
                : OperatingSystem.IsWindows()
                    ? Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData)
                    : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile) is { Length: > 0 } home ? Path.Combine(home, ".cache") : "";
            return Path.Combine(root.Length > 0 ? root : Path.GetTempPath(), "lakehouse", "blobs");
        }
    }

    /// <summary>Files larger than this are uploaded in blocks, several at once; smaller ones in one request. Default 64 MiB.</summary>
    internal long BlockUploadThreshold
    {
        get => _blockUploadThreshold;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            _blockUploadThreshold = value;
        }
    }

    /// <summary>The size of one block of a block upload or one range of a parallel download. 64 KiB – 100 MiB; default 8 MiB.</summary>
    internal int BlockSize
    {
        get => _blockSize;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 64 * 1024);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 100 * 1024 * 1024);
            _blockSize = value;
        }
    }

    /// <summary>How many blobs one List Blobs request asks for. 1–5000; default 5000 (the service's maximum).</summary>
    internal int ListPageSize
    {
        get => _listPageSize;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 5000);
            _listPageSize = value;
        }
    }

    /// <summary>The HTTP transport of the SDK's pipeline; null for the default. Tests put a fault-injecting one here.</summary>
    internal HttpPipelineTransport? Transport { get; set; }

    /// <summary>The kind of authentication these options lead to: SharedKey, SAS, the credential's type name, or DefaultAzureCredential.</summary>
    internal string AuthenticationKind =>
        AccountKey is not null ? "SharedKey"
        : SasToken is not null ? "SAS"
        : Credential is not null ? Credential.GetType().Name
        : "DefaultAzureCredential";

    /// <summary>
    /// Options from a storage connection string, read by the Azure SDK: <c>DefaultEndpointsProtocol</c>, <c>AccountName</c>,
    /// <c>AccountKey</c>, <c>BlobEndpoint</c>, <c>EndpointSuffix</c>, <c>SharedAccessSignature</c>, or
    /// <c>UseDevelopmentStorage=true</c> for Azurite on its default port.
    /// </summary>
    /// <exception cref="ArgumentException">The string is malformed; the message names the part, never its value.</exception>
    public static LakeStorageOptions FromConnectionString(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var options = new LakeStorageOptions();
        if (options.ApplyConnectionString(connectionString) is { } problem)
            throw new ArgumentException($"The storage connection string {problem}.", nameof(connectionString));
        return options;
    }

    /// <summary>
    /// Options from the standard environment variables: <c>AZURE_STORAGE_CONNECTION_STRING</c>, then
    /// <c>AZURE_STORAGE_ACCOUNT</c>, <c>AZURE_STORAGE_KEY</c>, <c>AZURE_STORAGE_SAS_TOKEN</c> and <c>LAKEHOUSE_BLOB_ENDPOINT</c>
    /// (each overriding the connection string's part), and for the download cache <c>LAKEHOUSE_CACHE_DIR</c> and
    /// <c>LAKEHOUSE_CACHE_SIZE</c> (bytes, or a number with KiB, MiB, GiB or TiB). With no key, SAS or connection string,
    /// authentication falls back to <c>DefaultAzureCredential</c>.
    /// </summary>
    /// <exception cref="LakehouseException">A variable is malformed (reason InvalidInput); the message names it, never its value.</exception>
    public static LakeStorageOptions FromEnvironment() => FromEnvironment(Environment.GetEnvironmentVariable);

    /// <summary>Options from environment variables read through <paramref name="variable"/> (tests pass a dictionary).</summary>
    internal static LakeStorageOptions FromEnvironment(Func<string, string?> variable)
    {
        var options = new LakeStorageOptions();
        if (Get("AZURE_STORAGE_CONNECTION_STRING") is { } connectionString && options.ApplyConnectionString(connectionString) is { } problem)
            throw Invalid("AZURE_STORAGE_CONNECTION_STRING", problem);
        if (Get("AZURE_STORAGE_ACCOUNT") is { } account)
            options._accountName = AccountNameProblem(account) is { } p ? throw Invalid("AZURE_STORAGE_ACCOUNT", p) : account;
        if (Get("AZURE_STORAGE_KEY")?.Trim() is { } key)
            options._accountKey = AccountKeyProblem(key) is { } p ? throw Invalid("AZURE_STORAGE_KEY", p) : key;
        if (Get("AZURE_STORAGE_SAS_TOKEN")?.Trim().TrimStart('?') is { } sas)
            options._sasToken = SasProblem(sas) is { } p ? throw Invalid("AZURE_STORAGE_SAS_TOKEN", p) : sas;
        if (Get("LAKEHOUSE_BLOB_ENDPOINT") is { } endpoint)
        {
            var uri = Uri.TryCreate(endpoint.Trim(), UriKind.Absolute, out var u) ? u : null;
            options._blobEndpoint = EndpointProblem(uri) is { } p ? throw Invalid("LAKEHOUSE_BLOB_ENDPOINT", p) : uri;
        }
        if (Get("LAKEHOUSE_CACHE_DIR") is { } cache)
            options._cacheDirectory = Path.IsPathFullyQualified(cache.Trim()) ? cache.Trim() : throw Invalid("LAKEHOUSE_CACHE_DIR", "is not an absolute path");
        if (Get("LAKEHOUSE_CACHE_SIZE") is { } size)
        {
            options._cacheSizeLimit = ParseSize(size) is { } bytes and >= 1024 * 1024
                ? bytes
                : throw Invalid("LAKEHOUSE_CACHE_SIZE", "is not a size of at least 1 MiB (bytes, or a number with KiB, MiB, GiB or TiB)");
        }
        return options;

        string? Get(string name) => variable(name) is { } value && value.Trim().Length > 0 ? value : null;

        static LakehouseException Invalid(string name, string problem) =>
            new(LakehouseErrorReason.InvalidInput, $"The environment variable {name} {problem}.");
    }

    /// <summary>Copies these options, so a storage keeps the values it was opened with.</summary>
    internal LakeStorageOptions Clone() => (LakeStorageOptions)MemberwiseClone();

    /// <summary>Describes the options without any secret: the kind of authentication, the account and the endpoint.</summary>
    public override string ToString()
    {
        var text = new StringBuilder("LakeStorageOptions { Authentication = ").Append(AuthenticationKind);
        if (AccountName is not null) text.Append(", AccountName = ").Append(AccountName);
        if (BlobEndpoint is not null) text.Append(", BlobEndpoint = ").Append(BlobEndpoint.GetLeftPart(UriPartial.Path));
        text.Append(", MaxRetries = ").Append(MaxRetries).Append(", NetworkTimeout = ").Append(NetworkTimeout).Append(" }");
        return text.ToString();
    }

    /// <summary>
    /// Reads a connection string into these options, or returns what is wrong with it (naming the part, never a value).
    /// Each part is checked here so the message can name it; the SDK then reads the whole string and derives the endpoint
    /// (protocol, suffix, development storage). The key and the SAS are taken from their parts: the SDK does not give them back.
    /// </summary>
    private string? ApplyConnectionString(string connectionString)
    {
        var parts = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var index = 0;
        foreach (var part in connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            index++;
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) return $"has a part (number {index}) that is not 'Name=value'";
            parts[part[..eq].Trim()] = part[(eq + 1)..].Trim();
        }

        if (parts.TryGetValue("AccountName", out var name) && AccountNameProblem(name) is { } nameProblem) return "has an AccountName that " + nameProblem;
        if (parts.TryGetValue("AccountKey", out var key) && AccountKeyProblem(key) is { } keyProblem) return "has an AccountKey that " + keyProblem;
        if (parts.TryGetValue("SharedAccessSignature", out var sas) && SasProblem(sas.TrimStart('?')) is { } sasProblem) return "has a SharedAccessSignature that " + sasProblem;
        if (parts.TryGetValue("BlobEndpoint", out var endpoint)
            && EndpointProblem(Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) ? uri : null) is { } endpointProblem)
            return "has a BlobEndpoint that " + endpointProblem;

        BlobServiceClient service;
        try
        {
            service = new BlobServiceClient(connectionString);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or UriFormatException)
        {
            return "is not one the Azure SDK accepts: it needs AccountName with AccountKey, or BlobEndpoint with SharedAccessSignature, "
                + "or UseDevelopmentStorage=true, and DefaultEndpointsProtocol is http or https";
        }

        var development = parts.ContainsKey("UseDevelopmentStorage");
        if (name is not null || development) _accountName = name ?? DevelopmentAccountName;
        if (key is not null || development) _accountKey = key ?? DevelopmentAccountKey;
        if (sas is not null) _sasToken = sas.TrimStart('?');
        // Without a part that places the endpoint, the lake location's host says where the account is (its cloud, too).
        if (endpoint is not null || development || parts.ContainsKey("EndpointSuffix") || parts.ContainsKey("DefaultEndpointsProtocol"))
            _blobEndpoint = new Uri(service.Uri.GetLeftPart(UriPartial.Path).TrimEnd('/'));
        return null;
    }

    private static T? Check<T>(T? value, Func<T, string?> problem, string what)
        where T : class =>
        value is not null && problem(value) is { } text ? throw new ArgumentException($"{what} {text}.", nameof(value)) : value;

    private static string? AccountNameProblem(string value) =>
        value.Length is >= 3 and <= 24 && value.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c))
            ? null
            : "is not an account name (3 to 24 lower-case letters and digits)";

    private static string? AccountKeyProblem(string value) =>
        value.Length > 0 && Convert.TryFromBase64String(value, new byte[value.Length], out _) ? null : "is not valid base64";

    private static string? SasProblem(string value) =>
        value.Split('&').Any(p => p.StartsWith("sig=", StringComparison.Ordinal) && p.Length > 4) ? null : "has no signature ('sig=')";

    private static string? EndpointProblem(Uri? value) =>
        value is null || !value.IsAbsoluteUri || (value.Scheme != Uri.UriSchemeHttp && value.Scheme != Uri.UriSchemeHttps)
            ? "is not an absolute http or https URI"
            : value.Query.Length > 0 || value.Fragment.Length > 0
                ? "has a query string; a SAS goes into AZURE_STORAGE_SAS_TOKEN or the connection string's SharedAccessSignature"
                : null;

    /// <summary>Bytes, or a number followed by KiB, MiB, GiB or TiB (also KB, MB, GB, TB, meaning the same); null when malformed.</summary>
    private static long? ParseSize(string text)
    {
        text = text.Trim();
        var digits = text.TakeWhile(c => char.IsAsciiDigit(c) || c == '.').Count();
        if (digits == 0 || !double.TryParse(text[..digits], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number)) return null;
        var scale = text[digits..].Trim().ToUpperInvariant() switch
        {
            "" or "B" => 1L,
            "K" or "KB" or "KIB" => 1L << 10,
            "M" or "MB" or "MIB" => 1L << 20,
            "G" or "GB" or "GIB" => 1L << 30,
            "T" or "TB" or "TIB" => 1L << 40,
            _ => 0L,
        };
        var bytes = number * scale;
        return scale == 0 || bytes > long.MaxValue ? null : (long)bytes;
    }
}
