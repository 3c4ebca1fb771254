using System.Net;
using System.Net.Sockets;
using System.Text;
using Lakehouse.Testing;

namespace Lakehouse.Serve.Tests;

/// <summary>Clients that go away mid-body (raw TCP, since HttpClient always finishes its body): nothing of theirs lands.</summary>
public sealed class HttpIngestDisconnectTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    private static readonly byte[] Line = Encoding.UTF8.GetBytes("{\"event_id\": \"x\", \"page_url\": \"/a\"}\n");

    private static byte[] Lines(int count) => [.. Enumerable.Repeat(Line, count).SelectMany(l => l)];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Post_ClientClosesBeforeContentLengthIsSent_NothingLandedAndTheServerGoesOn(bool reset)
    {
        await using var scope = await ServerScope.StartAsync(fixture.Engine);
        var body = Lines(1000);
        using (var socket = await scope.ConnectAsync())
        {
            await socket.SendAsync(Encoding.ASCII.GetBytes(
                $"POST /ingest/weblogs HTTP/1.1\r\nHost: {scope.BaseAddress.Authority}\r\nContent-Type: application/x-ndjson\r\nContent-Length: {body.Length}\r\n\r\n"));
            await socket.SendAsync(body.AsMemory(0, body.Length / 2)); // half the events, many whole lines among them
            Assert.True(await ServerScope.EventuallyAsync(() => scope.Server.Ingest.BufferedBytes > 0), "the server never started on the request");
            await Close(socket, reset);
        }

        // The request ends with its memory released: nothing of it is held or queued.
        Assert.True(await ServerScope.EventuallyAsync(() => scope.Server.Ingest.Statistics.ClientsGone == 1 && scope.Server.Ingest.BufferedBytes == 0),
            "the server never saw the client go");
        Assert.Empty(await scope.BronzeAsync("weblogs"));
        using var next = await scope.PostAsync("weblogs", Lines(3));
        Assert.Equal(HttpStatusCode.Accepted, next.StatusCode);
        Assert.Equal(3, (await scope.BronzeAsync("weblogs")).Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Post_ClientClosesBeforeTheLastChunk_NothingLanded(bool reset)
    {
        await using var scope = await ServerScope.StartAsync(fixture.Engine);
        using (var socket = await scope.ConnectAsync())
        {
            await socket.SendAsync(Encoding.ASCII.GetBytes(
                $"POST /ingest/weblogs HTTP/1.1\r\nHost: {scope.BaseAddress.Authority}\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n"));
            var chunk = Lines(100);
            for (var i = 0; i < 3; i++)
            {
                await socket.SendAsync(Encoding.ASCII.GetBytes($"{chunk.Length:x}\r\n"));
                await socket.SendAsync(chunk);
                await socket.SendAsync("\r\n"u8.ToArray());
            }
            Assert.True(await ServerScope.EventuallyAsync(() => scope.Server.Ingest.BufferedBytes > 0), "the server never started on the request");
            await Close(socket, reset); // no terminating 0-length chunk
        }

        Assert.True(await ServerScope.EventuallyAsync(() => scope.Server.Ingest.Statistics.ClientsGone == 1), "the server never saw the client go");
        Assert.Empty(await scope.BronzeAsync("weblogs"));
    }

    [Fact]
    public async Task Post_WholeBodySentThenConnectionClosedAtOnce_AllOrNothingLandedNeverPart()
    {
        // Kestrel ends a request whose client half-closes (FIN) as soon as it sees the FIN, even with the body's bytes already
        // received ("unexpected end of request content"); if the body was read before, it is committed. Either way the
        // request lands whole or not at all, and the client, which never read a 202, must retry with an Idempotency-Key.
        await using var scope = await ServerScope.StartAsync(fixture.Engine);
        var body = Lines(10);
        using (var socket = await scope.ConnectAsync())
        {
            await socket.SendAsync(Encoding.ASCII.GetBytes(
                $"POST /ingest/weblogs HTTP/1.1\r\nHost: {scope.BaseAddress.Authority}\r\nContent-Type: application/x-ndjson\r\nContent-Length: {body.Length}\r\n\r\n"));
            await socket.SendAsync(body);
            await Close(socket, reset: false);
        }
        Assert.True(await ServerScope.EventuallyAsync(() => scope.Server.Ingest.Statistics is { Requests: 1 } s && s.Events + s.ClientsGone > 0 && scope.Server.Ingest.BufferedBytes == 0),
            "the request was never finished");
        var landed = (await scope.BronzeAsync("weblogs")).Count;
        Assert.Equal(scope.Server.Ingest.Statistics.Events, landed);
        Assert.Contains(landed, new[] { 0, 10 });
        using var next = await scope.PostAsync("weblogs", Lines(1));
        Assert.Equal(HttpStatusCode.Accepted, next.StatusCode);
    }

    [Fact]
    public async Task Post_BodyMemoryHeldByASlowClient_OthersGet503WithRetryAfterUntilItIsReleased()
    {
        await using var scope = await ServerScope.StartAsync(fixture.Engine, o =>
        {
            o.Ingest.MaxBodyBytes = 4000;
            o.Ingest.MaxBufferedBytes = 4000;
        });
        var socket = await scope.ConnectAsync();
        try
        {
            // A client that declares 4000 bytes and sends them slowly holds the whole budget while it sends.
            await socket.SendAsync(Encoding.ASCII.GetBytes(
                $"POST /ingest/weblogs HTTP/1.1\r\nHost: {scope.BaseAddress.Authority}\r\nContent-Type: application/x-ndjson\r\nContent-Length: 4000\r\n\r\n"));
            await socket.SendAsync(Line);
            Assert.True(await ServerScope.EventuallyAsync(() => scope.Server.Ingest.BufferedBytes == 4000), "the slow request reserved nothing");

            using var refused = await scope.PostAsync("weblogs", Lines(2));
            await HttpIngestTests.AssertProblemAsync(refused, HttpStatusCode.ServiceUnavailable, "Overloaded", "The server holds as many request bodies as it may");
            Assert.Equal("1", refused.Headers.GetValues("Retry-After").Single());
        }
        finally
        {
            await Close(socket, reset: true);
            socket.Dispose();
        }
        Assert.True(await ServerScope.EventuallyAsync(() => scope.Server.Ingest.BufferedBytes == 0), "the slow request's memory was not released");
        using var accepted = await scope.PostAsync("weblogs", Lines(2));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        Assert.Equal(2, (await scope.BronzeAsync("weblogs")).Count);
    }

    private static Task Close(Socket socket, bool reset)
    {
        if (reset) socket.LingerState = new LingerOption(true, 0); // close sends RST instead of FIN
        else socket.Shutdown(SocketShutdown.Both);
        socket.Close();
        return Task.CompletedTask;
    }
}
