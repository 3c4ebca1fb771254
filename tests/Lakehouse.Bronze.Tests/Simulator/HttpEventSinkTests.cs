using System.Diagnostics;
using Lakehouse.Core;

namespace Lakehouse.Bronze.Tests.Simulator;

/// <summary>The simulator's HTTP sink against a real HTTP server: bodies, headers, retries on 429/503, and clear failures.</summary>
public sealed class HttpEventSinkTests
{
    private static readonly OutgoingEvent[] Batch = [new("{\"a\":1}"u8.ToArray(), "k1"), new("{\"a\":2}"u8.ToArray()), new([0x7B, 0xFF, 0x7D])];
    private static readonly byte[] BatchBody = [.. "{\"a\":1}\n{\"a\":2}\n"u8.ToArray(), 0x7B, 0xFF, 0x7D, 0x0A];

    [Fact]
    public async Task SendAsync_ServerAccepts_OneNdjsonPostPerBatchToIngestDataset()
    {
        await using var server = await IngestServer.StartAsync(_ => new(202));
        var sink = EventSinks.Open(server.Address.ToString().TrimEnd('/'), new StreamSourceSettings(), new EventSinkOptions { Dataset = "weblogs", RunId = "weblogs-s42-abc" });
        await sink.SendAsync(Batch, CancellationToken.None);
        await sink.SendAsync(Batch[..1], CancellationToken.None);
        await sink.DisposeAsync();

        var requests = server.Requests.ToArray();
        Assert.Equal(2, requests.Length);
        Assert.Equal(("/ingest/weblogs", "application/x-ndjson", "weblogs-s42-abc-0-3"), (requests[0].Path, requests[0].ContentType, requests[0].IdempotencyKey));
        Assert.Equal(BatchBody, requests[0].Body);
        Assert.Equal("weblogs-s42-abc-3-1", requests[1].IdempotencyKey);
        Assert.Equal("{\"a\":1}\n"u8.ToArray(), requests[1].Body);
    }

    [Fact]
    public async Task SendAsync_TextPayloadAndAPath_PostsTextPlainToThatPathWithoutKey()
    {
        await using var server = await IngestServer.StartAsync(_ => new(200));
        await using var sink = EventSinks.Open(new Uri(server.Address, "/custom/logs?token=secret").ToString(), new StreamSourceSettings(),
            new EventSinkOptions { Dataset = "accesslogs", TextPayload = true });
        await sink.SendAsync([new("1.2.3.4 - - [01/May/2024:00:00:00 +0000] \"GET / HTTP/1.1\" 200 5"u8.ToArray())], CancellationToken.None);
        var request = Assert.Single(server.Requests);
        Assert.Equal(("/custom/logs", "text/plain; charset=utf-8", (string?)null), (request.Path, request.ContentType, request.IdempotencyKey));
    }

    [Fact]
    public async Task SendAsync_429And503ThenAccepted_SameBodyAndKeyRetriedAfterTheServersDelay()
    {
        await using var server = await IngestServer.StartAsync(n => n switch
        {
            1 => new(429, RetryAfter: "1", Body: "slow down"),
            2 => new(503, Body: "busy"),
            _ => new(202),
        });
        var sink = EventSinks.Open(server.Address.ToString(), new StreamSourceSettings(), new EventSinkOptions { Dataset = "sensors", RunId = "run" });
        var clock = Stopwatch.StartNew();
        await sink.SendAsync(Batch, CancellationToken.None);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1), $"Retry-After: 1 was not waited for ({clock.Elapsed})");
        var stats = Assert.IsAssignableFrom<Lakehouse.Bronze.Simulator.ISinkStatistics>(sink);
        Assert.Equal((3L, 2L, 0L), (stats.Requests, stats.Retries, stats.Replayed));
        await sink.DisposeAsync();
        var requests = server.Requests.ToArray();
        Assert.Equal(3, requests.Length);
        Assert.All(requests, r => Assert.Equal(BatchBody, r.Body));
        Assert.All(requests, r => Assert.Equal("run-0-3", r.IdempotencyKey));
    }

    [Fact]
    public async Task SendAsync_Replayed_CountedAsAlreadyLanded()
    {
        await using var server = await IngestServer.StartAsync(_ => new(202, Replayed: true));
        var sink = EventSinks.Open(server.Address.ToString(), new StreamSourceSettings(), new EventSinkOptions { Dataset = "sensors", RunId = "run" });
        await sink.SendAsync(Batch, CancellationToken.None);
        Assert.Equal(1L, ((Lakehouse.Bronze.Simulator.ISinkStatistics)sink).Replayed);
        await sink.DisposeAsync();
    }

    [Fact]
    public async Task SendAsync_400_FailsAtOnceWithTheStatusAndTheServersExplanation()
    {
        await using var server = await IngestServer.StartAsync(_ => new(400, Body: "{\"title\": \"Malformed body\",\n \"detail\": \"line 2 is cut\"}"));
        await using var sink = EventSinks.Open(server.Address + "?code=hunter2", new StreamSourceSettings(), new EventSinkOptions { Dataset = "weblogs" });
        var e = await Assert.ThrowsAsync<LakehouseException>(() => sink.SendAsync(Batch, CancellationToken.None));
        Assert.Equal(LakehouseErrorReason.InvalidInput, e.Reason);
        Assert.False(e.IsTransient);
        Assert.Equal($"POST http://{server.Address.Authority}/ingest/weblogs answered 400 Bad Request: {{\"title\": \"Malformed body\",  \"detail\": \"line 2 is cut\"}} 0 events were accepted before this batch.", e.Message);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task SendAsync_404_SaysTheDatasetMayBeUnknown()
    {
        await using var server = await IngestServer.StartAsync(_ => new(404, Body: "There is no dataset 'clicks'."));
        await using var sink = EventSinks.Open(server.Address.ToString(), new StreamSourceSettings(), new EventSinkOptions { Dataset = "clicks" });
        var e = await Assert.ThrowsAsync<LakehouseException>(() => sink.SendAsync(Batch, CancellationToken.None));
        Assert.Contains("answered 404 Not Found (is the dataset defined in the lake the server serves?): There is no dataset 'clicks'.", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SendAsync_AlwaysBusy_GivesUpAfterTheRetries()
    {
        await using var server = await IngestServer.StartAsync(_ => new(503, RetryAfter: "0", Body: "overloaded"));
        await using var sink = EventSinks.Open(server.Address.ToString(), new StreamSourceSettings(), new EventSinkOptions { Dataset = "weblogs", MaxRetries = 2 });
        var e = await Assert.ThrowsAsync<LakehouseException>(() => sink.SendAsync(Batch, CancellationToken.None));
        Assert.Equal(LakehouseErrorReason.Storage, e.Reason);
        Assert.True(e.IsTransient);
        Assert.Contains("answered 503 Service Unavailable after 3 attempts: overloaded", e.Message, StringComparison.Ordinal);
        Assert.Equal(3, server.Requests.Count);
    }

    [Fact]
    public async Task SendAsync_NobodyListening_RetriedThenRefusedConnectionNamed()
    {
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }
        await using var sink = EventSinks.Open($"http://user:pw@127.0.0.1:{port}", new StreamSourceSettings(), new EventSinkOptions { Dataset = "weblogs", MaxRetries = 1 });
        var e = await Assert.ThrowsAsync<LakehouseException>(() => sink.SendAsync(Batch, CancellationToken.None));
        Assert.StartsWith($"POST http://127.0.0.1:{port}/ingest/weblogs failed 2 time(s), the last: Connection refused", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("pw", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_NotAnHttpUrlOrNoDataset_Refused()
    {
        var e = Assert.Throws<LakehouseException>(() => EventSinks.Open("http://", new StreamSourceSettings(), new EventSinkOptions { Dataset = "weblogs" }));
        Assert.Equal("'http://' is not an HTTP URL; write http://host:port or http://host:port/ingest/<dataset>.", e.Message);
        e = Assert.Throws<LakehouseException>(() => EventSinks.Open("http://127.0.0.1:8080", new StreamSourceSettings()));
        Assert.Equal("'http://127.0.0.1:8080/' has no path and no dataset was given to post to /ingest/<dataset>.", e.Message);
    }

    [Fact]
    public async Task SendAsync_Cancelled_StopsWaitingForTheRetry()
    {
        await using var server = await IngestServer.StartAsync(_ => new(429, RetryAfter: "20"));
        await using var sink = EventSinks.Open(server.Address.ToString(), new StreamSourceSettings(), new EventSinkOptions { Dataset = "weblogs" });
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sink.SendAsync(Batch, cancel.Token));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), clock.Elapsed.ToString());
        Assert.Single(server.Requests);
    }
}
