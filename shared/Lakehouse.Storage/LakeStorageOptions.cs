using System.Text;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Lakehouse.Storage;

/// <summary>
/// How to reach and authenticate to Azure storage (ADLS Gen2 or Blob storage). Secrets are never logged or printed:
/// <see cref="ToString"/> names the kind of authentication, never a key, a SAS or a token.
/// </summary>
/// <remarks>
/// Authentication is chosen in this order: <see cref="AccountKey"/> (shared key), <see cref="SasToken"/>,
/// <see cref="Credential"/>, and when none is set a <c>DefaultAzureCredential</c> (environment, workload or managed identity,
/// Azure CLI, ...). Every property is validated when it is set.
/// </remarks>
public sealed class LakeStorageOptions
{
    /// <summary>The account name of the storage emulator (Azurite).</summary>
    internal const string DevelopmentAccountName = "devstoreaccount1";

    /// <summary>The published, well-known account key of the storage emulator (Azurite); not a secret.</summary>
    internal const string DevelopmentAccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private const long DefaultBlockUploadThreshold = 64L * 1024 * 1024;
    private const int DefaultBlockSize = 8 * 1024 * 1024;

    private string? _accountName;
    private string? _accountKey;
    private string? _sasToken;
    private Uri? _blobEndpoint;
    private int _maxRetries = 5;
    private TimeSpan _networkTimeout = TimeSpan.FromSeconds(100);
    private string? _cacheDirectory;
    private long _blockUploadThreshold = DefaultBlockUploadThreshold;
    private int _blockSize = DefaultBlockSize;
    private int _listPageSize = 5000;

    /// <summary>
    /// The storage account name. Optional: the account comes from the lake location; when this is set as well,
    /// the two must agree (a key for one account cannot sign for another). 3–24 lower-case letters and digits.
    /// </summary>
    public string? AccountName
    {
        get => _accountName;
        set
        {
            if (value is not null && (value.Length is < 3 or > 24 || !value.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9'))))
                throw new ArgumentException("An account name has 3 to 24 lower-case letters and digits.", nameof(value));
            _accountName = value;
        }
    }

    /// <summary>The storage account key (base64) for shared-key authentication; null for none. Never printed.</summary>
    public string? AccountKey
    {
        get => _accountKey;
        set
        {
            if (value is not null)
            {
                value = value.Trim();
                var buffer = new byte[value.Length];
                if (value.Length == 0 || !Convert.TryFromBase64String(value, buffer, out _))
                    throw new ArgumentException("The account key is not valid base64.", nameof(value));
            }
            _accountKey = value;
        }
    }

    /// <summary>
    /// A shared access signature (account, service or user-delegation SAS), as the query string it is,
    /// with or without the leading '?'; null for none. It must carry a signature (<c>sig=</c>). Never printed.
    /// </summary>
    public string? SasToken
    {
        get => _sasToken;
        set
        {
            if (value is not null)
            {
                value = value.Trim().TrimStart('?');
                if (!value.Split('&').Any(p => p.StartsWith("sig=", StringComparison.Ordinal) && p.Length > 4))
                    throw new ArgumentException("The SAS token has no signature ('sig=').", nameof(value));
            }
            _sasToken = value;
        }
    }

    /// <summary>
    /// A token credential for Microsoft Entra ID authentication (scope <c>https://storage.azure.com/.default</c>);
    /// null to use <c>DefaultAzureCredential</c> when neither a key nor a SAS is set.
    /// </summary>
    public TokenCredential? Credential { get; set; }

    /// <summary>
    /// The account's blob endpoint, overriding the one derived from the location
    /// (<c>https://ACCOUNT.blob.core.windows.net</c>). For Azurite: <c>http://127.0.0.1:10000/devstoreaccount1</c>.
    /// Absolute http or https, without a query string.
    /// </summary>
    public Uri? BlobEndpoint
    {
        get => _blobEndpoint;
        set
        {
            if (value is not null && (!value.IsAbsoluteUri || (value.Scheme != Uri.UriSchemeHttp && value.Scheme != Uri.UriSchemeHttps)
                || value.Query.Length > 0 || value.Fragment.Length > 0))
                throw new ArgumentException("The blob endpoint must be an absolute http or https URI without a query string.", nameof(value));
            _blobEndpoint = value;
        }
    }

    /// <summary>How many times a request that failed transiently (network, throttling, 5xx) is retried, with exponential back-off. 0–20; default 5.</summary>
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
    /// <c>lakehouse-cache/blobs</c> under the temp path.
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

    /// <summary>Files larger than this are uploaded in blocks (Put Block + Put Block List); smaller ones in one Put Blob. Default 64 MiB.</summary>
    internal long BlockUploadThreshold
    {
        get => _blockUploadThreshold;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            _blockUploadThreshold = value;
        }
    }

    /// <summary>The size of one block of a block upload. 64 KiB – 100 MiB; default 8 MiB.</summary>
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

    /// <summary>The HTTP transport of the pipeline; null for Azure.Core's default. Tests put a fault-injecting one here.</summary>
    internal HttpPipelineTransport? Transport { get; set; }

    /// <summary>The kind of authentication these options lead to: SharedKey, SAS, the credential's type name, or DefaultAzureCredential.</summary>
    internal string AuthenticationKind =>
        AccountKey is not null ? "SharedKey"
        : SasToken is not null ? "SAS"
        : Credential is not null ? Credential.GetType().Name
        : "DefaultAzureCredential";

    /// <summary>
    /// Options from a storage connection string: <c>DefaultEndpointsProtocol</c>, <c>AccountName</c>, <c>AccountKey</c>,
    /// <c>BlobEndpoint</c>, <c>EndpointSuffix</c>, <c>SharedAccessSignature</c>, or <c>UseDevelopmentStorage=true</c> for Azurite
    /// on its default port.
    /// </summary>
    /// <exception cref="ArgumentException">The string is malformed; the message names the part, never its value.</exception>
    public static LakeStorageOptions FromConnectionString(string connectionString)
    {
        var options = new LakeStorageOptions();
        options.ApplyConnectionString(connectionString);
        return options;
    }

    /// <summary>
    /// Options from the standard environment variables: <c>AZURE_STORAGE_CONNECTION_STRING</c>, then
    /// <c>AZURE_STORAGE_ACCOUNT</c>, <c>AZURE_STORAGE_KEY</c>, <c>AZURE_STORAGE_SAS_TOKEN</c> and <c>LAKEHOUSE_BLOB_ENDPOINT</c>
    /// (each overriding the connection string's part). With none of them, authentication falls back to <c>DefaultAzureCredential</c>.
    /// </summary>
    public static LakeStorageOptions FromEnvironment() => FromEnvironment(Environment.GetEnvironmentVariable);

    /// <summary>Options from environment variables read through <paramref name="variable"/> (tests pass a dictionary).</summary>
    internal static LakeStorageOptions FromEnvironment(Func<string, string?> variable)
    {
        var options = new LakeStorageOptions();
        if (Get("AZURE_STORAGE_CONNECTION_STRING") is { } connectionString)
            options.ApplyConnectionString(connectionString);
        if (Get("AZURE_STORAGE_ACCOUNT") is { } account)
            options.AccountName = account;
        if (Get("AZURE_STORAGE_KEY") is { } key)
            options.AccountKey = key;
        if (Get("AZURE_STORAGE_SAS_TOKEN") is { } sas)
            options.SasToken = sas;
        if (Get("LAKEHOUSE_BLOB_ENDPOINT") is { } endpoint)
            options.BlobEndpoint = Uri.TryCreate(endpoint.Trim(), UriKind.Absolute, out var uri)
                ? uri
                : throw new ArgumentException("LAKEHOUSE_BLOB_ENDPOINT is not an absolute URI.", nameof(variable));
        return options;

        string? Get(string name) => variable(name) is { } value && value.Trim().Length > 0 ? value : null;
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

    private void ApplyConnectionString(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var parts = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var index = 0;
        foreach (var part in connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            index++;
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
                throw new ArgumentException($"Part {index} of the storage connection string is not 'Name=value'.", nameof(connectionString));
            parts[part[..eq].Trim()] = part[(eq + 1)..].Trim();
        }

        if (parts.TryGetValue("UseDevelopmentStorage", out var development) && development.Equals("true", StringComparison.OrdinalIgnoreCase))
        {
            AccountName = DevelopmentAccountName;
            AccountKey = DevelopmentAccountKey;
            BlobEndpoint = new Uri("http://127.0.0.1:10000/" + DevelopmentAccountName);
        }

        if (parts.TryGetValue("AccountName", out var accountName)) AccountName = accountName;
        if (parts.TryGetValue("AccountKey", out var accountKey)) AccountKey = accountKey;
        if (parts.TryGetValue("SharedAccessSignature", out var sas)) SasToken = sas;
        if (parts.TryGetValue("BlobEndpoint", out var blobEndpoint))
        {
            BlobEndpoint = Uri.TryCreate(blobEndpoint.TrimEnd('/'), UriKind.Absolute, out var uri)
                ? uri
                : throw new ArgumentException("BlobEndpoint in the storage connection string is not an absolute URI.", nameof(connectionString));
        }
        else if (AccountName is not null && (parts.ContainsKey("DefaultEndpointsProtocol") || parts.ContainsKey("EndpointSuffix")))
        {
            var protocol = parts.GetValueOrDefault("DefaultEndpointsProtocol", "https").ToLowerInvariant();
            var suffix = parts.GetValueOrDefault("EndpointSuffix", "core.windows.net");
            if (protocol is not ("http" or "https"))
                throw new ArgumentException("DefaultEndpointsProtocol in the storage connection string must be http or https.", nameof(connectionString));
            BlobEndpoint = new Uri($"{protocol}://{AccountName}.blob.{suffix}");
        }
    }
}
