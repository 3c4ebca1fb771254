using Azure.Identity;

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
