using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Azure.Core;
using Azure.Identity;
using Lakehouse.Core;
using Lakehouse.Gold.Serving;
using Lakehouse.Testing;
using Microsoft.Data.SqlClient;

namespace Lakehouse.Gold.Tests.Synapse;

/// <summary>
/// What <see cref="SynapseDeployer"/> does without a Synapse endpoint (none can run here): the connection string, token and SAS
/// handling, and its errors for an endpoint that cannot be reached, all without the token or the SAS in any message.
/// A real deploy is not tested here (see the README).
/// </summary>
public sealed class SynapseDeployerTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    private const string Token = "eyJ0eXAiOiJKV1QiLCJhbGciOi.SECRET-TOKEN-VALUE.sig";
    private const string Sas = "sv=2024-11-04&ss=b&srt=co&sp=rl&se=2030-01-01T00:00:00Z&sig=SECRETSIGNATURE%3D";

    private static TokenCredential FixedToken(string token = Token) =>
        DelegatedTokenCredential.Create((_, _) => new AccessToken(token, DateTimeOffset.UtcNow.AddHours(1)));

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task<SynapseScript> ScriptAsync(SynapseCredentialKind credential = SynapseCredentialKind.ManagedIdentity)
    {
        using var lake = await new SynapseTestLake(fixture.Engine).WithStandardTablesAsync();
        var options = SynapseTestLake.Options();
        options.Credential = credential;
        return await SynapseScript.FromLakeAsync(lake.Root, lake.Engine, options);
    }

    [Fact]
    public async Task DeployAsync_NothingListensOnThePort_ClearErrorAtOnceWithoutTheToken()
    {
        var script = await ScriptAsync();
        var port = FreePort();
        var clock = Stopwatch.StartNew();

        var e = await Assert.ThrowsAsync<LakehouseException>(() => SynapseDeployer.DeployAsync(script,
            new SynapseDeployOptions { Server = $"127.0.0.1,{port}", Credential = FixedToken(), ConnectTimeout = TimeSpan.FromSeconds(20) }));

        Assert.Equal(LakehouseErrorReason.Storage, e.Reason);
        Assert.True(e.IsTransient);
        Assert.Equal($"Cannot reach the Synapse SQL endpoint 127.0.0.1,{port}: the connection was refused (nothing listens on port {port}). " +
            $"Check the server name (<workspace>-ondemand.sql.azuresynapse.net), the network path to port {port} and the workspace's firewall. None of the 7 batches ran.", e.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        Assert.DoesNotContain("SECRET", e.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeployAsync_ThisProcessIsGlobalizationInvariant_ClearErrorNamingIcu()
    {
        // The test projects run in globalization-invariant mode (Directory.Build.props), where SqlClient refuses to connect; the
        // lakehouse CLI does not (Lakehouse.Cli.csproj). A listening port gets the deploy past the TCP probe to SqlClient's open.
        Assert.True(AppContext.TryGetSwitch("System.Globalization.Invariant", out var invariant) && invariant);
        var script = await ScriptAsync();
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        var e = await Assert.ThrowsAsync<LakehouseException>(() => SynapseDeployer.DeployAsync(script,
            new SynapseDeployOptions { Server = $"127.0.0.1,{port}", Credential = FixedToken() }));

        Assert.Equal(LakehouseErrorReason.UnsupportedFeature, e.Reason);
        Assert.StartsWith("Cannot connect to Synapse from this process: Microsoft.Data.SqlClient needs ICU, and the process runs in globalization-invariant mode", e.Message, StringComparison.Ordinal);
        Assert.EndsWith("None of the 7 batches ran.", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET", e.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeployAsync_CredentialWithoutToken_InvalidInputSayingHowToSignIn()
    {
        var script = await ScriptAsync();
        var credential = DelegatedTokenCredential.Create((_, _) => throw new CredentialUnavailableException("no identity here"));

        var e = await Assert.ThrowsAsync<LakehouseException>(() => SynapseDeployer.DeployAsync(script,
            new SynapseDeployOptions { Server = "127.0.0.1,1", Credential = credential }));

        Assert.Equal(LakehouseErrorReason.InvalidInput, e.Reason);
        Assert.StartsWith("No Microsoft Entra token for Synapse SQL could be obtained from ", e.Message, StringComparison.Ordinal);
        Assert.Contains("(CredentialUnavailableException). Sign in (az login)", e.Message, StringComparison.Ordinal);
        Assert.EndsWith("or set LAKEHOUSE_SYNAPSE_ACCESS_TOKEN to a token for https://database.windows.net/.", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeployAsync_SasScriptWithoutSasToken_RefusedBeforeAnyConnection()
    {
        var script = await ScriptAsync(SynapseCredentialKind.SharedAccessSignature);

        var e = await Assert.ThrowsAsync<LakehouseException>(() => SynapseDeployer.DeployAsync(script,
            new SynapseDeployOptions { Server = "127.0.0.1,1", Credential = FixedToken() }));

        Assert.Equal("The script's credential is a SAS, but no SAS token is configured: set LAKEHOUSE_SYNAPSE_SAS_TOKEN (or AZURE_STORAGE_SAS_TOKEN) to a SAS with read and list permissions on the lake's container.", e.Message);
    }

    [Fact]
    public void ConnectionString_Endpoint_TlsRequiredNoPoolingNoSecret()
    {
        var options = new SynapseDeployOptions { Server = "LakeWS-ondemand.sql.azuresynapse.net", SasToken = "?" + Sas };

        var builder = new SqlConnectionStringBuilder(SynapseDeployer.ConnectionString(SqlServerAddress.Parse(options.Server), "sales", options));

        Assert.Equal("tcp:lakews-ondemand.sql.azuresynapse.net", builder.DataSource);
        Assert.Equal("sales", builder.InitialCatalog);
        Assert.Equal(SqlConnectionEncryptOption.Mandatory, builder.Encrypt);
        Assert.False(builder.TrustServerCertificate);
        Assert.False(builder.Pooling);
        Assert.Equal(30, builder.ConnectTimeout);
        Assert.Equal("", builder.Password);
        Assert.Equal(Sas, options.SasToken);
        Assert.Equal("SynapseDeployOptions { Server = lakews-ondemand.sql.azuresynapse.net, Credential = DefaultAzureCredential, SasToken = set }", options.ToString());
    }

    [Fact]
    public void FromEnvironment_TokenAndSasVariables_TakenWithoutPrintingThem()
    {
        var variables = new Dictionary<string, string>
        {
            ["LAKEHOUSE_SYNAPSE_ACCESS_TOKEN"] = Token,
            ["LAKEHOUSE_SYNAPSE_SAS_TOKEN"] = "?" + Sas,
            ["AZURE_STORAGE_SAS_TOKEN"] = "sv=1&sig=OTHER",
        };

        var options = SynapseDeployOptions.FromEnvironment("ws-ondemand.sql.azuresynapse.net,1433", n => variables.GetValueOrDefault(n));

        Assert.Equal("ws-ondemand.sql.azuresynapse.net,1433", options.Server);
        Assert.Equal(Sas, options.SasToken);
        Assert.Equal(Token, options.Credential!.GetToken(new TokenRequestContext([SynapseDeployOptions.TokenScope]), default).Token);
        Assert.Equal("SynapseDeployOptions { Server = ws-ondemand.sql.azuresynapse.net,1433, Credential = LAKEHOUSE_SYNAPSE_ACCESS_TOKEN, SasToken = set }", options.ToString());
        variables.Remove("LAKEHOUSE_SYNAPSE_SAS_TOKEN");
        Assert.Equal("sv=1&sig=OTHER", SynapseDeployOptions.FromEnvironment("ws", n => variables.GetValueOrDefault(n)).SasToken);
    }

    [Theory]
    [InlineData("LAKEHOUSE_SYNAPSE_SAS_TOKEN", "sv=2024&sp=rl", "The environment variable LAKEHOUSE_SYNAPSE_SAS_TOKEN has no signature ('sig=').")]
    [InlineData("LAKEHOUSE_SYNAPSE_ACCESS_TOKEN", "Bearer SECRET", "The environment variable LAKEHOUSE_SYNAPSE_ACCESS_TOKEN holds white space or control characters; it must be the bare token.")]
    public void FromEnvironment_MalformedVariable_MessageNamesItNotItsValue(string name, string value, string message)
    {
        var e = Assert.Throws<LakehouseException>(() => SynapseDeployOptions.FromEnvironment("ws", n => n == name ? value : null));

        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Redacted_ServerMessageQuotingTheSas_TokenAndSignatureReplaced()
    {
        var options = new SynapseDeployOptions { Server = "ws", SasToken = Sas };

        Assert.Equal("bad secret '<SAS token>' near '<signature>'", SynapseDeployer.Redacted($"bad secret '{Sas}' near 'SECRETSIGNATURE%3D'", options));
    }

    [Theory]
    [InlineData("ws-ondemand.sql.azuresynapse.net", "ws-ondemand.sql.azuresynapse.net")]
    [InlineData("tcp:WS-ondemand.sql.azuresynapse.net,1433", "ws-ondemand.sql.azuresynapse.net,1433")]
    [InlineData("127.0.0.1:14330", "127.0.0.1,14330")]
    public void Server_Forms_Normalized(string text, string display) => Assert.Equal(display, new SynapseDeployOptions { Server = text }.Server);

    [Theory]
    [InlineData("ws;Password=x", "give only the host name of the serverless SQL endpoint")]
    [InlineData("sqladmin:Hunter2@ws-ondemand.sql.azuresynapse.net", "give only the host name of the serverless SQL endpoint")]
    [InlineData("Server=ws;User ID=a;Password=Hunter2", "give only the host name of the serverless SQL endpoint")]
    [InlineData("https://ws-ondemand.sql.azuresynapse.net", "without a scheme (no https://)")]
    [InlineData("ws,0", "the port after the host must be a number from 1 to 65535")]
    [InlineData("ws,70000", "the port after the host must be a number from 1 to 65535")]
    [InlineData("ws'--", "give the host name of the serverless SQL endpoint")]
    [InlineData("", "give the host name of the serverless SQL endpoint")]
    public void Server_Malformed_Refused(string text, string why)
    {
        var e = Assert.Throws<ArgumentException>(() => new SynapseDeployOptions { Server = text });

        Assert.Contains(why, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Password=x", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Hunter2", e.Message, StringComparison.Ordinal);
    }
}

/// <summary>The storage URL: checked, normalised, and derived from an abfss:// lake.</summary>
public sealed class SynapseStorageUrlTests
{
    [Theory]
    [InlineData("abfss://lake@acct.dfs.core.windows.net/prod", "https://acct.dfs.core.windows.net/lake/prod/")]
    [InlineData("abfss://lake@acct.dfs.core.windows.net", "https://acct.dfs.core.windows.net/lake/")]
    [InlineData("https://acct.blob.core.windows.net/lake/a/b/", "https://acct.blob.core.windows.net/lake/a/b/")]
    public void StorageUrlOfLake_AzureLocation_HttpsUrlOfTheRoot(string lake, string url) =>
        Assert.Equal(url, SynapseScriptOptions.StorageUrlOfLake(lake)!.AbsoluteUri);

    [Theory]
    [InlineData("./lake")]
    [InlineData("/data/lake")]
    [InlineData("http://127.0.0.1:10000/devstoreaccount1/lake")]
    public void StorageUrlOfLake_NotAzureStorage_Null(string lake) => Assert.Null(SynapseScriptOptions.StorageUrlOfLake(lake));

    [Theory]
    [InlineData("http://acct.dfs.core.windows.net/lake", "use https://<account>.dfs.core.windows.net/<container>/<path>")]
    [InlineData("https://acct.dfs.core.windows.net/lake/p?sv=1&sig=abc", "it has a query string or fragment; a SAS goes into the credential (--credential sas), never into the URL", "https://acct.dfs.core.windows.net/lake/p?<redacted>")]
    [InlineData("https://acct.dfs.core.windows.net", "the path must start with a container (3 to 63 lower-case letters, digits and single hyphens)")]
    [InlineData("https://acct.dfs.core.windows.net/Lake", "the path must start with a container (3 to 63 lower-case letters, digits and single hyphens)")]
    [InlineData("https://ACCOUNT_x.dfs.core.windows.net/lake", "the host is not a storage account's (<account>.dfs.core.windows.net, the account 3 to 24 lower-case letters and digits)")]
    [InlineData("https://user:s3cr3t@acct.dfs.core.windows.net/lake", "it carries a user name or a port", "https://acct.dfs.core.windows.net/lake")]
    [InlineData("https://acct.dfs.core.windows.net/lake/a//b", "the path has an empty, '.' or '..' folder")]
    public void StorageUrl_Invalid_RefusedSayingWhyWithoutASecretOfTheUrl(string url, string why, string? shown = null)
    {
        var e = Assert.Throws<ArgumentException>(() => new SynapseScriptOptions { StorageUrl = new Uri(url) });

        Assert.Equal($"The storage URL '{shown ?? url}' is not valid: {why}. (Parameter 'value')", e.Message);
    }
}
