using Lakehouse.Core;

namespace Lakehouse.Storage.Tests;

public sealed class AzureBlobLocationTests
{
    [Theory]
    [InlineData("abfss://lake@myacct.dfs.core.windows.net/bronze/weblogs", "myacct", "lake", "bronze/weblogs", "https://myacct.blob.core.windows.net/")]
    [InlineData("abfs://lake@myacct.dfs.core.windows.net/bronze/", "myacct", "lake", "bronze", "https://myacct.blob.core.windows.net/")]
    [InlineData("ABFSS://lake@MyAcct.dfs.core.windows.net", "myacct", "lake", "", "https://myacct.blob.core.windows.net/")]
    [InlineData("abfss://lake@myacct/x", "myacct", "lake", "x", "https://myacct.blob.core.windows.net/")]
    [InlineData("abfss://lake@myacct.dfs.core.chinacloudapi.cn/x", "myacct", "lake", "x", "https://myacct.blob.core.chinacloudapi.cn/")]
    [InlineData("https://myacct.blob.core.windows.net/lake/silver/weblogs", "myacct", "lake", "silver/weblogs", "https://myacct.blob.core.windows.net/")]
    [InlineData("https://myacct.dfs.core.windows.net/lake/a%20b/c", "myacct", "lake", "a b/c", "https://myacct.blob.core.windows.net/")]
    [InlineData("http://127.0.0.1:10000/devstoreaccount1/lake/gold", "devstoreaccount1", "lake", "gold", "http://127.0.0.1:10000/devstoreaccount1")]
    [InlineData("http://localhost:10000/devstoreaccount1/lake", "devstoreaccount1", "lake", "", "http://localhost:10000/devstoreaccount1")]
    public void Parse_SupportedForms_FindsAccountContainerRootAndEndpoint(string location, string account, string container, string root, string endpoint)
    {
        var parsed = AzureBlobLocation.Parse(location);

        Assert.Equal(account, parsed.AccountName);
        Assert.Equal(container, parsed.Container);
        Assert.Equal(root, parsed.Root);
        Assert.Equal(new Uri(endpoint), parsed.AccountEndpoint);
    }

    [Theory]
    [InlineData("abfss://lake@myacct.dfs.core.windows.net/bronze/weblogs", "abfss://lake@myacct.dfs.core.windows.net/bronze/weblogs")]
    [InlineData("abfss://lake@myacct.dfs.core.windows.net/bronze//weblogs/", "abfss://lake@myacct.dfs.core.windows.net/bronze/weblogs")]
    [InlineData("abfss://lake@myacct.dfs.core.windows.net/", "abfss://lake@myacct.dfs.core.windows.net")]
    [InlineData("https://myacct.blob.core.windows.net/lake/x", "https://myacct.blob.core.windows.net/lake/x")]
    [InlineData("http://127.0.0.1:10000/devstoreaccount1/lake/gold", "http://127.0.0.1:10000/devstoreaccount1/lake/gold")]
    public void Display_ParsedLocation_IsTheGivenFormNormalised(string location, string expected)
    {
        Assert.Equal(expected, AzureBlobLocation.Parse(location).Display);
    }

    [Fact]
    public void Parse_EndpointOverride_ReplacesTheDerivedEndpoint()
    {
        var endpoint = new Uri("http://127.0.0.1:12345/devstoreaccount1");

        var parsed = AzureBlobLocation.Parse("abfss://lake@devstoreaccount1.dfs.core.windows.net/x", endpoint);

        Assert.Equal(endpoint, parsed.AccountEndpoint);
        Assert.Equal("abfss://lake@devstoreaccount1.dfs.core.windows.net/x", parsed.Display);
    }

    [Theory]
    [InlineData("abfss://myacct.dfs.core.windows.net/x")]
    [InlineData("abfss://@myacct.dfs.core.windows.net/x")]
    [InlineData("abfss://Bad_Name@myacct.dfs.core.windows.net/x")]
    [InlineData("abfss://ab@myacct.dfs.core.windows.net/x")]
    [InlineData("abfss://lake@myacct.example.com/x")]
    [InlineData("abfss://lake@myacct.dfs.core.windows.net/../x")]
    [InlineData("abfss://lake@myacct.dfs.core.windows.net/a\\b")]
    [InlineData("https://myacct.blob.core.windows.net")]
    [InlineData("http://127.0.0.1:10000/devstoreaccount1")]
    [InlineData("s3://bucket/x")]
    public void Parse_MalformedLocation_ThrowsInvalidInput(string location)
    {
        var e = Assert.Throws<LakehouseException>(() => AzureBlobLocation.Parse(location));

        Assert.Equal(LakehouseErrorReason.InvalidInput, e.Reason);
    }

    [Fact]
    public void Parse_QueryString_RefusedWithoutEchoingIt()
    {
        var e = Assert.Throws<LakehouseException>(() => AzureBlobLocation.Parse("https://myacct.blob.core.windows.net/lake/x?sv=2021-08-06&sig=SECRETSIGNATURE"));

        Assert.Equal(LakehouseErrorReason.InvalidInput, e.Reason);
        Assert.DoesNotContain("SECRETSIGNATURE", e.Message, StringComparison.Ordinal);
        Assert.Contains("https://myacct.blob.core.windows.net/lake/x?<redacted>", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_AbfssLocation_ReturnsAzureStorageWithoutSendingAnything()
    {
        var options = new LakeStorageOptions { AccountKey = LakeStorageOptions.DevelopmentAccountKey };

        var storage = LakeStorage.Open("abfss://lake@myacct.dfs.core.windows.net/gold", options);

        Assert.IsType<AzureBlobLakeStorage>(storage);
        Assert.Equal("abfss://lake@myacct.dfs.core.windows.net/gold", storage.Location);
        Assert.Equal("abfss://lake@myacct.dfs.core.windows.net/gold/page_performance_daily", storage.Scope("page_performance_daily").Location);
        Assert.Null(storage.LocalPathOrNull("x"));
    }

    [Fact]
    public void Open_UnknownScheme_ThrowsInvalidInput()
    {
        var e = Assert.Throws<LakehouseException>(() => LakeStorage.Open("s3://bucket/lake?token=SECRET"));

        Assert.Equal(LakehouseErrorReason.InvalidInput, e.Reason);
        Assert.DoesNotContain("SECRET", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_OptionsForAnotherAccount_ThrowsInvalidInput()
    {
        var options = LakeStorageOptions.FromConnectionString($"AccountName=otheracct;AccountKey={LakeStorageOptions.DevelopmentAccountKey}");

        var e = Assert.Throws<LakehouseException>(() => LakeStorage.Open("abfss://lake@myacct.dfs.core.windows.net/gold", options));

        Assert.Equal(LakehouseErrorReason.InvalidInput, e.Reason);
        Assert.Contains("otheracct", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(LakeStorageOptions.DevelopmentAccountKey, e.Message, StringComparison.Ordinal);
    }
}
