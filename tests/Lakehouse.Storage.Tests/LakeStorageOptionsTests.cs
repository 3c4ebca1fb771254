using Azure.Identity;
using Lakehouse.Core;

namespace Lakehouse.Storage.Tests;

public sealed class LakeStorageOptionsTests
{
    private const string Key = "c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seS0xMjM0NTY3ODkwYWJjZGVmZ2hpams=";

    [Fact]
    public void FromConnectionString_KeyAndEndpoint_SetsAccountKeyAndEndpoint()
    {
        var options = LakeStorageOptions.FromConnectionString(
            $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={Key};BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1/;");

        Assert.Equal("devstoreaccount1", options.AccountName);
        Assert.Equal(Key, options.AccountKey);
        Assert.Equal(new Uri("http://127.0.0.1:10000/devstoreaccount1"), options.BlobEndpoint);
        Assert.Equal("SharedKey", options.AuthenticationKind);
    }

    [Fact]
    public void FromConnectionString_EndpointSuffix_DerivesTheBlobEndpoint()
    {
        var options = LakeStorageOptions.FromConnectionString($"DefaultEndpointsProtocol=https;AccountName=myacct;AccountKey={Key};EndpointSuffix=core.chinacloudapi.cn");

        Assert.Equal(new Uri("https://myacct.blob.core.chinacloudapi.cn"), options.BlobEndpoint);
    }

    [Fact]
    public void FromConnectionString_DevelopmentStorage_PointsAtAzuriteDefaults()
    {
        var options = LakeStorageOptions.FromConnectionString("UseDevelopmentStorage=true");

        Assert.Equal("devstoreaccount1", options.AccountName);
        Assert.Equal(LakeStorageOptions.DevelopmentAccountKey, options.AccountKey);
        Assert.Equal(new Uri("http://127.0.0.1:10000/devstoreaccount1"), options.BlobEndpoint);
    }

    [Fact]
    public void FromConnectionString_SharedAccessSignature_SetsSasWithoutQuestionMark()
    {
        var options = LakeStorageOptions.FromConnectionString("BlobEndpoint=https://myacct.blob.core.windows.net;SharedAccessSignature=?sv=2021-08-06&sp=rl&sig=abc%2Bdef");

        Assert.Equal("sv=2021-08-06&sp=rl&sig=abc%2Bdef", options.SasToken);
        Assert.Equal("SAS", options.AuthenticationKind);
    }

    [Theory]
    [InlineData("AccountName=myacct;AccountKey")]
    [InlineData("AccountName=myacct;AccountKey=not base64 at all!")]
    [InlineData("BlobEndpoint=not a uri")]
    [InlineData("DefaultEndpointsProtocol=ftp;AccountName=myacct")]
    public void FromConnectionString_Malformed_ThrowsArgumentExceptionWithoutValues(string connectionString)
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => LakeStorageOptions.FromConnectionString(connectionString));

        Assert.DoesNotContain("base64 at all", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("not a uri", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToString_WithKeyAndSas_NamesNoSecret()
    {
        var options = new LakeStorageOptions { AccountName = "myacct", AccountKey = Key, SasToken = "sv=1&sig=SIGNATUREVALUE" };

        var text = options.ToString();

        Assert.DoesNotContain(Key, text, StringComparison.Ordinal);
        Assert.DoesNotContain("SIGNATUREVALUE", text, StringComparison.Ordinal);
        Assert.Contains("SharedKey", text, StringComparison.Ordinal);
        Assert.Contains("myacct", text, StringComparison.Ordinal);
    }

    [Fact]
    public void AuthenticationKind_Precedence_KeyThenSasThenCredentialThenDefault()
    {
        var options = new LakeStorageOptions();
        Assert.Equal("DefaultAzureCredential", options.AuthenticationKind);

        options.Credential = new AzureCliCredential();
        Assert.Equal(nameof(AzureCliCredential), options.AuthenticationKind);

        options.SasToken = "sv=1&sig=x";
        Assert.Equal("SAS", options.AuthenticationKind);

        options.AccountKey = Key;
        Assert.Equal("SharedKey", options.AuthenticationKind);
    }

    [Fact]
    public void Properties_InvalidValues_ThrowWhenSet()
    {
        var options = new LakeStorageOptions();

        Assert.Throws<ArgumentException>(() => options.AccountKey = "%%%");
        Assert.Throws<ArgumentException>(() => options.SasToken = "sv=2021-08-06&sp=r");
        Assert.Throws<ArgumentException>(() => options.AccountName = "Has_Upper");
        Assert.Throws<ArgumentException>(() => options.BlobEndpoint = new Uri("ftp://host/x"));
        Assert.Throws<ArgumentException>(() => options.BlobEndpoint = new Uri("https://host/x?sig=1"));
        Assert.Throws<ArgumentOutOfRangeException>(() => options.MaxRetries = -1);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.MaxRetries = 21);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.NetworkTimeout = TimeSpan.Zero);
        Assert.Throws<ArgumentException>(() => options.CacheDirectory = " ");
        Assert.Throws<ArgumentOutOfRangeException>(() => options.BlockSize = 1024);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.ListPageSize = 5001);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.CacheSizeLimit = 1024 * 1024 - 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.CacheInUseWindow = TimeSpan.FromSeconds(-1));
        Assert.Equal(5, options.MaxRetries);
        Assert.Null(options.AccountKey);
    }

    [Fact]
    public void FromEnvironment_Variables_OverrideTheConnectionString()
    {
        var environment = new Dictionary<string, string>
        {
            ["AZURE_STORAGE_CONNECTION_STRING"] = $"AccountName=myacct;AccountKey={LakeStorageOptions.DevelopmentAccountKey}",
            ["AZURE_STORAGE_KEY"] = Key,
            ["AZURE_STORAGE_SAS_TOKEN"] = "?sv=1&sig=abc",
            ["LAKEHOUSE_BLOB_ENDPOINT"] = "http://127.0.0.1:10000/myacct",
        };

        var options = LakeStorageOptions.FromEnvironment(environment.GetValueOrDefault);

        Assert.Equal("myacct", options.AccountName);
        Assert.Equal(Key, options.AccountKey);
        Assert.Equal("sv=1&sig=abc", options.SasToken);
        Assert.Equal(new Uri("http://127.0.0.1:10000/myacct"), options.BlobEndpoint);
    }

    [Fact]
    public void FromConnectionString_AccountAndKeyOnly_LeavesTheEndpointToTheLocation()
    {
        var options = LakeStorageOptions.FromConnectionString($"AccountName=myacct;AccountKey={Key}");

        Assert.Null(options.BlobEndpoint);
        Assert.Equal("myacct", options.AccountName);
        Assert.Equal(Key, options.AccountKey);
    }

    [Fact]
    public void CacheOptions_Defaults_AreFourGibibytesUnderTheUserCacheFolder()
    {
        var options = new LakeStorageOptions();

        Assert.Equal(4L * 1024 * 1024 * 1024, options.CacheSizeLimit);
        Assert.Null(options.CacheDirectory);
        Assert.EndsWith(Path.Combine("lakehouse", "blobs"), LakeStorageOptions.DefaultCacheDirectory, StringComparison.Ordinal);
        Assert.DoesNotContain(Path.GetTempPath(), LakeStorageOptions.DefaultCacheDirectory, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1048576", 1024L * 1024)]
    [InlineData("512MiB", 512L * 1024 * 1024)]
    [InlineData(" 2 GiB ", 2L * 1024 * 1024 * 1024)]
    [InlineData("1.5g", 3L * 512 * 1024 * 1024)]
    public void FromEnvironment_CacheVariables_SetTheCache(string size, long bytes)
    {
        var environment = new Dictionary<string, string> { ["LAKEHOUSE_CACHE_SIZE"] = size, ["LAKEHOUSE_CACHE_DIR"] = "/var/cache/lake" };

        var options = LakeStorageOptions.FromEnvironment(environment.GetValueOrDefault);

        Assert.Equal(bytes, options.CacheSizeLimit);
        Assert.Equal("/var/cache/lake", options.CacheDirectory);
    }

    /// <summary>The probe's reproductions (issue 7): each used to end the CLI with an unhandled ArgumentException (exit 134).</summary>
    [Theory]
    [InlineData("AZURE_STORAGE_KEY", "not-base64!!", "The environment variable AZURE_STORAGE_KEY is not valid base64.")]
    [InlineData("AZURE_STORAGE_CONNECTION_STRING", "AccountName=myacct;AccountKey=" + Key + ";Garbage",
        "The environment variable AZURE_STORAGE_CONNECTION_STRING has a part (number 3) that is not 'Name=value'.")]
    [InlineData("AZURE_STORAGE_CONNECTION_STRING", "AccountName=myacct;AccountKey=" + Key + ";BlobEndpoint=https://myacct.blob.core.windows.net/?sv=2021-08-06&sig=SECRETSIG",
        "The environment variable AZURE_STORAGE_CONNECTION_STRING has a BlobEndpoint that has a query string; a SAS goes into AZURE_STORAGE_SAS_TOKEN or the connection string's SharedAccessSignature.")]
    [InlineData("LAKEHOUSE_BLOB_ENDPOINT", "https://myacct.blob.core.windows.net/?sv=2021-08-06&sig=SECRETSIG",
        "The environment variable LAKEHOUSE_BLOB_ENDPOINT has a query string; a SAS goes into AZURE_STORAGE_SAS_TOKEN or the connection string's SharedAccessSignature.")]
    [InlineData("AZURE_STORAGE_CONNECTION_STRING", "AccountName=myacct;AccountKey=not base64!!", "The environment variable AZURE_STORAGE_CONNECTION_STRING has an AccountKey that is not valid base64.")]
    [InlineData("AZURE_STORAGE_CONNECTION_STRING", "AccountName=myacct;Bogus=SECRETSIG;AccountKey=" + Key,
        "The environment variable AZURE_STORAGE_CONNECTION_STRING is not one the Azure SDK accepts: it needs AccountName with AccountKey, or BlobEndpoint with SharedAccessSignature, or UseDevelopmentStorage=true, and DefaultEndpointsProtocol is http or https.")]
    [InlineData("AZURE_STORAGE_SAS_TOKEN", "sv=2021-08-06&sp=rl&SECRETSIG", "The environment variable AZURE_STORAGE_SAS_TOKEN has no signature ('sig=').")]
    [InlineData("AZURE_STORAGE_ACCOUNT", "Not_An_Account", "The environment variable AZURE_STORAGE_ACCOUNT is not an account name (3 to 24 lower-case letters and digits).")]
    [InlineData("LAKEHOUSE_BLOB_ENDPOINT", "not a uri", "The environment variable LAKEHOUSE_BLOB_ENDPOINT is not an absolute http or https URI.")]
    [InlineData("LAKEHOUSE_CACHE_SIZE", "lots", "The environment variable LAKEHOUSE_CACHE_SIZE is not a size of at least 1 MiB (bytes, or a number with KiB, MiB, GiB or TiB).")]
    [InlineData("LAKEHOUSE_CACHE_DIR", "relative/cache", "The environment variable LAKEHOUSE_CACHE_DIR is not an absolute path.")]
    public void FromEnvironment_MalformedVariable_ThrowsInvalidInputNamingItWithoutTheValue(string name, string value, string message)
    {
        var environment = new Dictionary<string, string> { [name] = value };

        var e = Assert.Throws<LakehouseException>(() => LakeStorageOptions.FromEnvironment(environment.GetValueOrDefault));

        Assert.Equal(LakehouseErrorReason.InvalidInput, e.Reason);
        Assert.Equal(message, e.Message);
        Assert.DoesNotContain(Key, e.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("SECRETSIG", e.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("Garbage", e.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("base64!!", e.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("Not_An_Account", e.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void FromEnvironment_Nothing_FallsBackToDefaultAzureCredential()
    {
        var options = LakeStorageOptions.FromEnvironment(_ => "  ");

        Assert.Null(options.AccountKey);
        Assert.Null(options.SasToken);
        Assert.Null(options.BlobEndpoint);
        Assert.Equal("DefaultAzureCredential", options.AuthenticationKind);
    }

    [Fact]
    public void Open_DefaultCredential_BuildsStorageWithoutSendingAnything()
    {
        var storage = LakeStorage.Open("abfss://lake@myacct.dfs.core.windows.net/x", new LakeStorageOptions());

        Assert.Equal("abfss://lake@myacct.dfs.core.windows.net/x", storage.Location);
    }
}
