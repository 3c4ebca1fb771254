using System.Net;
using System.Net.Sockets;
using Azure.Core.Pipeline;
using Azure.Storage;
using Azure.Storage.Sas;
using Lakehouse.Core;
using Lakehouse.Testing;

namespace Lakehouse.Storage.Tests;

/// <summary>
/// Retries against local endpoints that fail: a closed port, a server that never answers, and (through the SDK's pipeline)
/// a service that is busy once. Each retry is logged, and the final error counts the tries.
/// </summary>
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

    [Fact]
    public async Task ReadAsync_ServerThatNeverAnswers_TimesOutNamingTheNetworkTimeout()
    {
        // The kernel completes the TCP handshake for a listening socket that never accepts: the request goes out, no answer comes.
        var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        try
        {
            using var logs = new CapturingLoggerFactory();
            var options = new LakeStorageOptions
            {
                AccountKey = AzuriteServer.AccountKey,
                BlobEndpoint = new Uri($"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}/{AzuriteServer.AccountName}"),
                MaxRetries = 1,
                NetworkTimeout = TimeSpan.FromMilliseconds(300),
                LoggerFactory = logs,
            };
            var storage = LakeStorage.Open($"abfss://{Container}@{AzuriteServer.AccountName}.dfs.core.windows.net", options);

            var e = await Assert.ThrowsAsync<LakehouseException>(() => storage.ReadAsync("a.json"));

            Assert.Equal(LakehouseErrorReason.Storage, e.Reason);
            Assert.True(e.IsTransient);
            Assert.Matches(@"^Get Blob of 'a\.json' in container 'lake' of account 'devstoreaccount1' timed out after 2 tries over [0-9.]+ s \(each try may wait 0\.3 s on the network\)\.$", e.Message);
            var retry = Assert.Single(logs.Events);
            Assert.Equal(2000, retry.Id.Id);
            Assert.Equal(2, retry.Values["Try"]);
            Assert.StartsWith("TaskCanceledException: ", (string)retry.Values["Cause"]!, StringComparison.Ordinal);
        }
        finally
        {
            silent.Stop();
        }
    }

    [Fact]
    public async Task ReadAsync_ServiceBusyOnce_LogsTheRetryAndReturnsTheBlob()
    {
        var handler = new BusyOnceHandler();
        using var logs = new CapturingLoggerFactory();
        var options = new LakeStorageOptions
        {
            AccountKey = AzuriteServer.AccountKey,
            BlobEndpoint = new Uri("https://myacct.blob.core.windows.net"),
            MaxRetries = 3,
            LoggerFactory = logs,
            Transport = new HttpClientTransport(handler),
        };
        var storage = LakeStorage.Open("abfss://lake@myacct.dfs.core.windows.net/t", options);

        var content = await storage.ReadAsync("x/a.json");

        Assert.Equal("hello"u8.ToArray(), content);
        Assert.Equal(2, handler.Requests);
        var retry = Assert.Single(logs.Events);
        Assert.Equal((2000, "StorageRetry", Microsoft.Extensions.Logging.LogLevel.Warning), (retry.Id.Id, retry.Id.Name, retry.Level));
        Assert.Equal("HTTP 503 ServerBusy", retry.Values["Cause"]);
        Assert.Equal("'t/x/a.json' in container 'lake' of account 'myacct'", retry.Values["Target"]);
        Assert.Equal((2, 4), ((int)retry.Values["Try"]!, (int)retry.Values["Tries"]!));
    }

    private static int ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>Answers the first request with 503 ServerBusy and every later one like Get Blob of a 5-byte blob.</summary>
    private sealed class BusyOnceHandler : HttpMessageHandler
    {
        private int _requests;

        public int Requests => _requests;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var busy = Interlocked.Increment(ref _requests) == 1;
            byte[] body = busy ? [] : [.. "hello"u8];
            var response = new HttpResponseMessage(busy ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.OK) { Content = new ByteArrayContent(body) };
            response.Content.Headers.ContentLength = body.Length;
            response.Content.Headers.LastModified = DateTimeOffset.UnixEpoch;
            response.Headers.ETag = new System.Net.Http.Headers.EntityTagHeaderValue("\"0x8D0\"");
            response.Headers.Add("x-ms-blob-type", "BlockBlob");
            if (busy) response.Headers.Add("x-ms-error-code", "ServerBusy");
            return Task.FromResult(response);
        }
    }
}
