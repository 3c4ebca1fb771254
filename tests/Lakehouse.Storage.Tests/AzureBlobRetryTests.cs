using System.Net;
using System.Net.Sockets;
using Azure.Storage;
using Azure.Storage.Sas;
using Lakehouse.Core;
using Lakehouse.Testing;

namespace Lakehouse.Storage.Tests;

/// <summary>Retries against an endpoint where nothing listens (a closed local port): each is logged, and the final error counts them.</summary>
public sealed class AzureBlobRetryTests
{
    private const string Container = "lake";

    [Fact]
    public async Task ReadAsync_ClosedPort_LogsEachRetryAndFailsNamingTriesWithoutSecrets()
    {
        var sas = new BlobSasBuilder(BlobContainerSasPermissions.All, DateTimeOffset.UtcNow.AddHours(1)) { BlobContainerName = Container }
            .ToSasQueryParameters(new StorageSharedKeyCredential(AzuriteServer.AccountName, AzuriteServer.AccountKey)).ToString();
        var signature = Uri.UnescapeDataString(sas.Split('&').Single(p => p.StartsWith("sig=", StringComparison.Ordinal))[4..]);
        var port = ClosedPort();
        using var logs = new CapturingLoggerFactory();
        var options = new LakeStorageOptions
        {
            SasToken = sas,
            BlobEndpoint = new Uri($"http://127.0.0.1:{port}/{AzuriteServer.AccountName}"),
            MaxRetries = 2,
            LoggerFactory = logs,
        };
        var storage = LakeStorage.Open($"abfss://{Container}@{AzuriteServer.AccountName}.dfs.core.windows.net/t", options);

        var e = await Assert.ThrowsAsync<LakehouseException>(() => storage.ReadAsync("_delta_log/00000000000000000000.json"));

        Assert.Equal(LakehouseErrorReason.Storage, e.Reason);
        Assert.True(e.IsTransient);
        Assert.StartsWith("Get Blob of 't/_delta_log/00000000000000000000.json' in container 'lake' of account 'devstoreaccount1' failed after 3 tries over ", e.Message, StringComparison.Ordinal);
        Assert.Contains($"the blob endpoint http://127.0.0.1:{port}/devstoreaccount1 could not be reached (HttpRequestException: Connection refused", e.Message, StringComparison.Ordinal);

        var retries = logs.Events.Where(l => l.Id.Id == 2000).ToList();
        Assert.Equal(["StorageRetry", "StorageRetry"], retries.Select(r => r.Id.Name));
        Assert.Equal([2, 3], retries.Select(r => (int)r.Values["Try"]!));
        Assert.All(retries, r =>
        {
            Assert.Equal(3, r.Values["Tries"]);
            Assert.Equal("Get Blob", r.Values["Operation"]);
            Assert.Equal("'t/_delta_log/00000000000000000000.json' in container 'lake' of account 'devstoreaccount1'", r.Values["Target"]);
            Assert.StartsWith("HttpRequestException: Connection refused", (string)r.Values["Cause"]!, StringComparison.Ordinal);
            Assert.True((long)r.Values["DelayMs"]! > 0);
        });
        Assert.StartsWith("Retrying Get Blob of 't/_delta_log/00000000000000000000.json' in container 'lake' of account 'devstoreaccount1': try 2 of 3, after HttpRequestException: Connection refused",
            retries[0].Message, StringComparison.Ordinal);

        var text = string.Join('\n', logs.Events.Select(l => l.Message + " " + string.Join(' ', l.Values.Values))) + "\n" + e;
        Assert.DoesNotContain(signature, text, StringComparison.Ordinal);
        Assert.DoesNotContain(Uri.EscapeDataString(signature), text, StringComparison.Ordinal);
        Assert.DoesNotContain("sig=", text, StringComparison.Ordinal);
        Assert.DoesNotContain("?", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PutAsync_ClosedPortNoRetries_FailsAfterOneTryWithoutLogging()
    {
        using var logs = new CapturingLoggerFactory();
        var options = new LakeStorageOptions
        {
            AccountKey = AzuriteServer.AccountKey,
            BlobEndpoint = new Uri($"http://127.0.0.1:{ClosedPort()}/{AzuriteServer.AccountName}"),
            MaxRetries = 0,
            LoggerFactory = logs,
        };
        var storage = LakeStorage.Open($"abfss://{Container}@{AzuriteServer.AccountName}.dfs.core.windows.net", options);

        var e = await Assert.ThrowsAsync<LakehouseException>(() => storage.PutAsync("a.txt", "a"u8.ToArray()));

        Assert.StartsWith("Put Blob of 'a.txt' in container 'lake' of account 'devstoreaccount1' failed after 1 try over ", e.Message, StringComparison.Ordinal);
        Assert.Empty(logs.Events);
        Assert.DoesNotContain(AzuriteServer.AccountKey, e.ToString(), StringComparison.Ordinal);
    }

    private static int ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
