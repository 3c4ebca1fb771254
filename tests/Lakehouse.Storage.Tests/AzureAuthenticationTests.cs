using System.Diagnostics.Tracing;
using System.Net;
using System.Net.Sockets;
using Azure.Core;
using Azure.Core.Diagnostics;
using Azure.Core.Pipeline;
using Azure.Storage;
using Azure.Storage.Sas;
using Lakehouse.Core;
using Lakehouse.Testing;

namespace Lakehouse.Storage.Tests;

/// <summary>
/// Shared key, SAS and connection strings against a real Azurite through Azure.Storage.Blobs, token credentials through the
/// SDK's pipeline (Azurite takes no bearer token over http), and secrets kept out of every error and log line.
/// </summary>
public sealed class AzureAuthenticationTests(AzuriteServer azurite) : IClassFixture<AzuriteServer>, IAsyncLifetime
{
    private AzuriteContainer? _container;

    private AzuriteContainer Container => _container ?? throw new InvalidOperationException("Not initialised.");

    public async Task InitializeAsync() => _container = await azurite.CreateContainerAsync("auth");

    public async Task DisposeAsync()
    {
        if (_container is not null) await _container.DisposeAsync();
    }

    [Fact]
    public async Task SharedKey_FromConnectionString_ReadsAndWrites()
    {
        var options = LakeStorageOptions.FromConnectionString(azurite.ConnectionString);
        var storage = Container.Open("lake", options);

        await storage.PutIfAbsentAsync("_delta_log/00000000000000000000.json", "{}"u8.ToArray());

        Assert.Equal("SharedKey", options.AuthenticationKind);
        Assert.Equal("{}"u8.ToArray(), await storage.ReadAsync("_delta_log/00000000000000000000.json"));
        Assert.Equal(["_delta_log/00000000000000000000.json"], await PathsAsync(storage));
    }

    [Fact]
    public async Task Sas_ContainerToken_ReadsWritesListsUploadsAndDeletes()
    {
        var sas = ContainerSas(Container.Name, BlobContainerSasPermissions.All);
        var options = new LakeStorageOptions { SasToken = "?" + sas, BlobEndpoint = azurite.BlobEndpoint, MaxRetries = 0 };
        options.BlockUploadThreshold = 100_000;
        options.BlockSize = 64 * 1024;
        var storage = Container.Open("lake", options);
        using var scratch = new TempDirectory("sas");
        var local = scratch.Combine("big.bin");
        var content = new byte[300_000];
        new Random(7).NextBytes(content);
        await File.WriteAllBytesAsync(local, content);

        await storage.PutIfAbsentAsync("a.json", "{}"u8.ToArray());
        await storage.UploadAsync("b.bin", local);
        var e = await Assert.ThrowsAsync<LakehouseException>(() => storage.PutIfAbsentAsync("a.json", "{}"u8.ToArray()));

        Assert.Equal("SAS", options.AuthenticationKind);
        Assert.Equal(LakehouseErrorReason.AlreadyExists, e.Reason);
        Assert.Equal(["a.json", "b.bin"], await PathsAsync(storage));
        Assert.Equal(content, await storage.ReadAsync("b.bin"));
        Assert.Equal(content[1000..1010], await storage.ReadRangeAsync("b.bin", 1000, 10));
        Assert.True(await storage.DeleteAsync("a.json"));
        Assert.Null(await storage.GetInfoAsync("a.json"));
    }

    [Fact]
    public async Task Sas_FromEnvironmentVariables_Works()
    {
        var sas = ContainerSas(Container.Name, BlobContainerSasPermissions.All);
        var environment = new Dictionary<string, string>
        {
            ["AZURE_STORAGE_SAS_TOKEN"] = sas,
            ["LAKEHOUSE_BLOB_ENDPOINT"] = azurite.BlobEndpoint.ToString(),
        };
        var options = LakeStorageOptions.FromEnvironment(environment.GetValueOrDefault);
        var storage = LakeStorage.Open(Container.Location + "/env", options);

        await storage.PutAsync("x.txt", "x"u8.ToArray());

        Assert.Equal("x"u8.ToArray(), await storage.ReadAsync("x.txt"));
    }

    [Fact]
    public async Task Sas_FromConnectionString_ReadsAndWrites()
    {
        var sas = ContainerSas(Container.Name, BlobContainerSasPermissions.All);
        var options = LakeStorageOptions.FromConnectionString($"BlobEndpoint={azurite.BlobEndpoint};SharedAccessSignature=?{sas}");
        var storage = Container.Open("cs", options);

        await storage.PutIfAbsentAsync("x.txt", "x"u8.ToArray());

        Assert.Equal("SAS", options.AuthenticationKind);
        Assert.Equal(azurite.BlobEndpoint, options.BlobEndpoint);
        Assert.Equal("x"u8.ToArray(), await storage.ReadAsync("x.txt"));
        Assert.Equal(["x.txt"], await PathsAsync(storage));
    }

    [Fact]
    public async Task SharedKey_FromEnvironmentConnectionString_ReadsAndWrites()
    {
        var environment = new Dictionary<string, string> { ["AZURE_STORAGE_CONNECTION_STRING"] = azurite.ConnectionString };
        var options = LakeStorageOptions.FromEnvironment(environment.GetValueOrDefault);
        var storage = LakeStorage.Open(Container.Location + "/env", options);

        await storage.PutAsync("y.txt", "y"u8.ToArray());

        Assert.Equal("SharedKey", options.AuthenticationKind);
        Assert.Equal("y"u8.ToArray(), await storage.ReadAsync("y.txt"));
    }

    [Fact]
    public async Task Sas_ReadOnlyToken_WriteRefusedWithoutTheSignatureInTheError()
    {
        var writer = Container.Open("lake");
        await writer.PutAsync("a.txt", "a"u8.ToArray());
        var sas = ContainerSas(Container.Name, BlobContainerSasPermissions.Read | BlobContainerSasPermissions.List);
        var storage = Container.Open("lake", new LakeStorageOptions { SasToken = sas, BlobEndpoint = azurite.BlobEndpoint, MaxRetries = 0 });

        var e = await Assert.ThrowsAsync<LakehouseException>(() => storage.PutAsync("b.txt", "b"u8.ToArray()));

        Assert.Equal("a"u8.ToArray(), await storage.ReadAsync("a.txt"));
        Assert.Equal(LakehouseErrorReason.Storage, e.Reason);
        Assert.False(e.IsTransient);
        Assert.Contains("HTTP 403", e.Message, StringComparison.Ordinal);
        AssertNoSecret(e, sas);
    }

    [Fact]
    public async Task Sas_TamperedSignature_RefusedWithoutTheSignatureInTheError()
    {
        var good = ContainerSas(Container.Name, BlobContainerSasPermissions.All);
        var sas = good.Replace("sig=", "sig=AAAA", StringComparison.Ordinal);
        var storage = Container.Open("lake", new LakeStorageOptions { SasToken = sas, BlobEndpoint = azurite.BlobEndpoint, MaxRetries = 0 });

        var read = await Assert.ThrowsAsync<LakehouseException>(() => storage.ReadAsync("a.txt"));
        var list = await Assert.ThrowsAsync<LakehouseException>(async () => await PathsAsync(storage));

        Assert.All([read, list], e => Assert.Equal(LakehouseErrorReason.Storage, e.Reason));
        Assert.All([read, list], e => Assert.Contains("HTTP 403", e.Message, StringComparison.Ordinal));
        AssertNoSecret(read, sas);
        AssertNoSecret(list, sas);
    }

    [Fact]
    public async Task Sas_MissingBlob_NotFoundWithoutTheSignatureInTheError()
    {
        var sas = ContainerSas(Container.Name, BlobContainerSasPermissions.All);
        var storage = Container.Open("lake", new LakeStorageOptions { SasToken = sas, BlobEndpoint = azurite.BlobEndpoint });

        var e = await Assert.ThrowsAsync<LakehouseException>(() => storage.ReadAsync("missing.json"));

        Assert.Equal(LakehouseErrorReason.NotFound, e.Reason);
        Assert.Contains("lake/missing.json", e.Message, StringComparison.Ordinal);
        AssertNoSecret(e, sas);
    }

    [Fact]
    public async Task Sas_AzureCoreLog_HasRequestsButNoSignature()
    {
        var sas = ContainerSas(Container.Name, BlobContainerSasPermissions.All);
        var storage = Container.Open("logged", new LakeStorageOptions { SasToken = sas, BlobEndpoint = azurite.BlobEndpoint, MaxRetries = 0 });
        var lines = new List<string>();
        using (new AzureEventSourceListener((_, line) => { lock (lines) lines.Add(line); }, EventLevel.Verbose))
        {
            await storage.PutAsync("a.txt", "a"u8.ToArray());
            await Assert.ThrowsAsync<LakehouseException>(() => storage.ReadAsync("missing.txt"));
        }

        string[] mine;
        lock (lines) mine = [.. lines.Where(l => l.Contains(Container.Name, StringComparison.Ordinal))];
        Assert.Contains(mine, l => l.Contains("logged/a.txt", StringComparison.Ordinal));
        Assert.Contains(mine, l => l.Contains("sig=REDACTED", StringComparison.Ordinal));
        var signature = Signature(sas);
        Assert.DoesNotContain(mine, l => l.Contains(signature, StringComparison.Ordinal) || l.Contains(Uri.EscapeDataString(signature), StringComparison.Ordinal));
    }

    [Fact]
    public async Task SharedKey_WrongKey_RefusedWithoutTheKeyInTheError()
    {
        var wrongKey = Convert.ToBase64String(Enumerable.Range(0, 64).Select(i => (byte)(i * 7)).ToArray());
        var storage = Container.Open("lake", new LakeStorageOptions { AccountKey = wrongKey, BlobEndpoint = azurite.BlobEndpoint, MaxRetries = 0 });

        var e = await Assert.ThrowsAsync<LakehouseException>(() => storage.PutIfAbsentAsync("a.txt", "a"u8.ToArray()));

        Assert.Equal(LakehouseErrorReason.Storage, e.Reason);
        Assert.False(e.IsTransient);
        Assert.Contains("HTTP 403", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(wrongKey, e.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(AzuriteServer.AccountKey, e.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("SharedKey ", e.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sas_UnreachableEndpoint_TransientStorageErrorWithoutTheSignature()
    {
        var sas = ContainerSas(Container.Name, BlobContainerSasPermissions.All);
        var endpoint = new Uri($"http://127.0.0.1:{ClosedPort()}/{AzuriteServer.AccountName}");
        var storage = Container.Open("lake", new LakeStorageOptions { SasToken = sas, BlobEndpoint = endpoint, MaxRetries = 1 });

        var e = await Assert.ThrowsAsync<LakehouseException>(() => storage.ReadAsync("a.txt"));

        Assert.Equal(LakehouseErrorReason.Storage, e.Reason);
        Assert.True(e.IsTransient);
        Assert.Contains("2 tries", e.Message, StringComparison.Ordinal);
        AssertNoSecret(e, sas);
    }

    [Fact]
    public async Task TokenCredential_AsksForTheStorageScopeAndSendsTheTokenAsBearer()
    {
        // Not end to end: Azurite accepts bearer tokens only over https with its OAuth mode, so the request ends in a handler
        // under the SDK's own pipeline (retry, authentication policy, transport) that answers like the service does.
        var credential = new RecordingCredential();
        var handler = new RecordingHandler();
        var options = new LakeStorageOptions
        {
            Credential = credential,
            BlobEndpoint = new Uri("https://myacct.blob.core.windows.net"),
            MaxRetries = 0,
            Transport = new HttpClientTransport(handler),
        };
        var storage = LakeStorage.Open("abfss://lake@myacct.dfs.core.windows.net/t", options);

        var info = await storage.GetInfoAsync("a.json");

        Assert.Equal(["https://storage.azure.com/.default"], credential.Scopes.Distinct());
        Assert.Equal("Bearer " + RecordingCredential.Token, Assert.Single(handler.Authorizations));
        Assert.Equal("https://myacct.blob.core.windows.net/lake/t/a.json", Assert.Single(handler.Uris).GetLeftPart(UriPartial.Path));
        Assert.Equal(nameof(RecordingCredential), options.AuthenticationKind);
        Assert.Equal(new LakeFile("a.json", 5, new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero), "\"0x8D0\""), info);
    }

    [Fact]
    public async Task TokenCredential_ServiceRefusesToken_StorageErrorWithoutTheToken()
    {
        var handler = new RecordingHandler { Status = HttpStatusCode.Forbidden };
        var options = new LakeStorageOptions
        {
            Credential = new RecordingCredential(),
            BlobEndpoint = new Uri("https://myacct.blob.core.windows.net"),
            MaxRetries = 0,
            Transport = new HttpClientTransport(handler),
        };
        var storage = LakeStorage.Open("abfss://lake@myacct.dfs.core.windows.net/t", options);

        var e = await Assert.ThrowsAsync<LakehouseException>(() => storage.ReadAsync("a.json"));

        Assert.Equal(LakehouseErrorReason.Storage, e.Reason);
        Assert.Equal("Get Blob of 't/a.json' in container 'lake' of account 'myacct' was refused (HTTP 403 AuthorizationPermissionMismatch, request id req-1): "
            + "check the account key, SAS (permissions, expiry) or the credential's role on the account.", e.Message);
        Assert.DoesNotContain(RecordingCredential.Token, e.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void TokenCredential_HttpEndpoint_RefusedWhenOpened()
    {
        var options = new LakeStorageOptions { Credential = new RecordingCredential(), BlobEndpoint = azurite.BlobEndpoint };

        var e = Assert.Throws<LakehouseException>(() => LakeStorage.Open(Container.Location, options));

        Assert.Equal(LakehouseErrorReason.InvalidInput, e.Reason);
        Assert.Contains("https", e.Message, StringComparison.Ordinal);
    }

    private static void AssertNoSecret(LakehouseException e, string sas)
    {
        var signature = Signature(sas);
        var text = e.ToString();
        Assert.DoesNotContain(signature, text, StringComparison.Ordinal);
        Assert.DoesNotContain(Uri.EscapeDataString(signature), text, StringComparison.Ordinal);
        Assert.DoesNotContain("sig=", text, StringComparison.Ordinal);
        Assert.DoesNotContain(AzuriteServer.AccountKey, text, StringComparison.Ordinal);
    }

    private static async Task<List<string>> PathsAsync(ILakeStorage storage)
    {
        var paths = new List<string>();
        await foreach (var file in storage.ListAsync("")) paths.Add(file.Path);
        return paths;
    }

    private static string ContainerSas(string container, BlobContainerSasPermissions permissions)
    {
        var builder = new BlobSasBuilder(permissions, DateTimeOffset.UtcNow.AddHours(1)) { BlobContainerName = container, StartsOn = DateTimeOffset.UtcNow.AddMinutes(-5) };
        return builder.ToSasQueryParameters(new StorageSharedKeyCredential(AzuriteServer.AccountName, AzuriteServer.AccountKey)).ToString();
    }

    /// <summary>The signature of a SAS token, URL-decoded.</summary>
    private static string Signature(string sasToken) =>
        Uri.UnescapeDataString(sasToken.Split('&').Single(p => p.StartsWith("sig=", StringComparison.Ordinal))[4..]);

    private static int ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private sealed class RecordingCredential : TokenCredential
    {
        public const string Token = "token-value-that-must-not-leak";

        public List<string> Scopes { get; } = [];

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            lock (Scopes) Scopes.AddRange(requestContext.Scopes);
            return new AccessToken(Token, DateTimeOffset.UtcNow.AddHours(1));
        }

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            ValueTask.FromResult(GetToken(requestContext, cancellationToken));
    }

    /// <summary>Answers every request like the Blob service answers Get Blob Properties of a 5-byte blob (or with <see cref="Status"/>).</summary>
    private sealed class RecordingHandler : HttpMessageHandler
    {
        public HttpStatusCode Status { get; init; } = HttpStatusCode.OK;

        public List<string> Authorizations { get; } = [];

        public List<Uri> Uris { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            lock (Uris)
            {
                Uris.Add(request.RequestUri!);
                Authorizations.Add(request.Headers.Authorization?.ToString() ?? "");
            }
            byte[] body = Status == HttpStatusCode.OK ? [.. "hello"u8] : [];
            var response = new HttpResponseMessage(Status) { Content = new ByteArrayContent(body) };
            response.Headers.Add("x-ms-request-id", "req-1");
            response.Headers.ETag = new System.Net.Http.Headers.EntityTagHeaderValue("\"0x8D0\"");
            response.Content.Headers.ContentLength = body.Length; // Set, not computed on demand: HEAD answers have no body to count.
            response.Content.Headers.LastModified = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
            response.Headers.Add("x-ms-blob-type", "BlockBlob");
            if (Status != HttpStatusCode.OK) response.Headers.Add("x-ms-error-code", "AuthorizationPermissionMismatch");
            return Task.FromResult(response);
        }
    }
}
