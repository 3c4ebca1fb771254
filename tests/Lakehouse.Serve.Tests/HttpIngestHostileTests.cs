using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Lakehouse.Testing;

namespace Lakehouse.Serve.Tests;

/// <summary>
/// Hostile clients of <c>POST /ingest/{dataset}</c> (raw TCP where HttpClient would behave): slowloris headers, bodies that
/// trickle, clients that declare the largest body and send nothing, dataset names that try to leave the lake or forge log lines,
/// oversized headers. Each gets a clear status or is cut off, lands nothing, and the server answers the next request.
/// </summary>
public sealed class HttpIngestHostileTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    private static readonly string Line = "{\"event_id\":\"x\",\"page_url\":\"/a\"}\n";

    private static string Headers(ServerScope scope, string contentLength) =>
        $"POST /ingest/weblogs HTTP/1.1\r\nHost: {scope.BaseAddress.Authority}\r\nContent-Type: application/x-ndjson\r\nContent-Length: {contentLength}\r\n\r\n";

    [Fact]
    public async Task Post_ClientsDeclaringTheLargestBodyAndSendingNothing_HoldOnlyAFirstChunkAndOthersAreAccepted()
    {
        // Eight clients each declare a 1 MiB body against 4 MiB of body memory: reserved for their declared lengths, they would
        // hold it all and every other client would get 503 until they gave up.
        await using var scope = await ServerScope.StartAsync(fixture.Engine, o =>
        {
            o.Ingest.MaxBodyBytes = 1 << 20;
            o.Ingest.MaxBufferedBytes = 4 << 20;
        });
        var sockets = new List<Socket>();
        try
        {
            for (var i = 0; i < 8; i++)
            {
                var socket = await scope.ConnectAsync();
                sockets.Add(socket);
                await socket.SendAsync(Encoding.ASCII.GetBytes(Headers(scope, (1 << 20).ToString(System.Globalization.CultureInfo.InvariantCulture)) + Line));
            }
            Assert.True(await ServerScope.EventuallyAsync(() => scope.Server.Ingest.BufferedBytes == 8 * (64 << 10)),
                $"the silent clients hold {scope.Server.Ingest.BufferedBytes} bytes, not a first chunk of 64 KiB each");

            using var accepted = await scope.PostAsync("weblogs", string.Concat(Enumerable.Repeat(Line, 3)));
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket.LingerState = new LingerOption(true, 0);
                socket.Dispose();
            }
        }
        Assert.True(await ServerScope.EventuallyAsync(() => scope.Server.Ingest.Statistics.ClientsGone == 8 && scope.Server.Ingest.BufferedBytes == 0),
            "the silent clients' memory was not released");
        Assert.Equal(3, (await scope.BronzeAsync("weblogs")).Count);
    }

    [Fact]
    public async Task Post_BodyOfHalfAMillionTinyEvents_413TooManyEventsNothingLandedAndItsMemoryReleased()
    {
        // Memory was charged for a body's bytes only: a 32 MiB body of one-byte lines (16.7 million events) took the server to 4.7 GB
        // and 82 s for one request, so a few at once, well inside --max-buffered-bytes, would exhaust the machine.
        await using var scope = await ServerScope.StartAsync(fixture.Engine, o =>
        {
            o.Ingest.MaxBodyBytes = 1 << 20;
            o.Ingest.MaxBufferedBytes = 4 << 20;
        });
        using var tiny = await scope.PostAsync("weblogs", string.Concat(Enumerable.Repeat("1\n", 1 << 19)));
        var problem = await ServerScope.JsonAsync(tiny);
        using var usual = await scope.PostAsync("weblogs", string.Concat(Enumerable.Repeat(Line, 2000)));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tiny.StatusCode);
        Assert.Equal("Too many events", problem.GetProperty("title").GetString());
        Assert.Equal("The body holds 524288 events; with 256 bytes of memory each beside their bytes, that is more than the 4194304 bytes all bodies may hold (--max-buffered-bytes). Send fewer events per request. Nothing of it was landed.",
            problem.GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.Accepted, usual.StatusCode);
        Assert.Equal(2000, (await scope.BronzeAsync("weblogs")).Count);
        Assert.True(await ServerScope.EventuallyAsync(() => scope.Server.Ingest.BufferedBytes == 0), $"{scope.Server.Ingest.BufferedBytes} bytes still reserved");
    }

    [Fact]
    public async Task Post_EventOverTheLargestAnEventMayHold_413NamingItsLineNothingLanded()
    {
        // With --max-body-bytes above 32 MiB, a 40 MiB line was answered 202 and landed, where a landing file with it is refused.
        await using var scope = await ServerScope.StartAsync(fixture.Engine, o =>
        {
            o.Ingest.MaxBodyBytes = 48 << 20;
            o.Ingest.MaxBufferedBytes = 128 << 20;
        });
        var body = Line + "{\"v\":\"" + new string('x', (32 << 20) - 7) + "\"}\n" + Line;
        using var large = await scope.PostAsync("weblogs", body);
        var problem = await ServerScope.JsonAsync(large);
        using var justFits = await scope.PostAsync("weblogs", "{\"v\":\"" + new string('x', (32 << 20) - 8) + "\"}\n");

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, large.StatusCode);
        Assert.Equal(("Event too large", "The event at line 2 is 33554433 bytes, more than the 33554432 bytes (32 MiB) an event may hold. Split it into smaller events. Nothing of the body was landed."),
            (problem.GetProperty("title").GetString(), problem.GetProperty("detail").GetString()));
        Assert.Equal(HttpStatusCode.Accepted, justFits.StatusCode);
        Assert.Equal([32 << 20], (await scope.BronzeAsync("weblogs")).Select(r => r.Payload.Length));
    }

    [Fact]
    public async Task Post_SlowlorisHeadersFromManyConnections_OtherRequestsAnsweredMeanwhileAndNothingOfThemLanded()
    {
        await using var scope = await ServerScope.StartAsync(fixture.Engine);
        var sockets = new List<Socket>();
        try
        {
            // Each connection starts a request and then adds one byte to a header now and then, never ending the headers.
            var partial = Encoding.ASCII.GetBytes($"POST /ingest/weblogs HTTP/1.1\r\nHost: {scope.BaseAddress.Authority}\r\nContent-Type: application/x-ndjson\r\nX-Slow: ");
            for (var i = 0; i < 100; i++)
            {
                var socket = await scope.ConnectAsync();
                sockets.Add(socket);
                await socket.SendAsync(partial);
            }
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < 10; i++)
            {
                foreach (var socket in sockets) await socket.SendAsync("a"u8.ToArray());
                using var accepted = await scope.PostAsync("weblogs", Line);
                Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
            }
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"10 requests took {clock.Elapsed} beside 100 slowloris connections");
        }
        finally
        {
            foreach (var socket in sockets) socket.Dispose();
        }
        Assert.Equal(10, (await scope.BronzeAsync("weblogs")).Count);
        Assert.Equal(10, scope.Server.Ingest.Statistics.Requests);
    }

    [Fact]
    public async Task Post_BodyTricklingBelowTheMinimumDataRate_CutOffWithNothingLandedAndTheServerGoesOn()
    {
        await using var scope = await ServerScope.StartAsync(fixture.Engine);
        var body = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat(Line, 30)));
        using (var socket = await scope.ConnectAsync())
        {
            await socket.SendAsync(Encoding.ASCII.GetBytes(Headers(scope, body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture))));
            // One byte every 200 ms (5 bytes/s): far below Kestrel's minimum of 240 bytes/s once its 5 s grace is over.
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < body.Length && scope.Server.Ingest.Statistics.ClientsGone == 0 && clock.Elapsed < TimeSpan.FromSeconds(20); i++)
            {
                try
                {
                    await socket.SendAsync(body.AsMemory(i, 1));
                }
                catch (SocketException)
                {
                    break; // the server closed the connection
                }
                await Task.Delay(200);
            }
            Assert.True(await ServerScope.EventuallyAsync(() => scope.Server.Ingest.Statistics.ClientsGone == 1 && scope.Server.Ingest.BufferedBytes == 0),
                "the trickling client was never cut off");
            Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(15));
        }
        Assert.Empty(await scope.BronzeAsync("weblogs"));
        using var next = await scope.PostAsync("weblogs", Line);
        Assert.Equal(HttpStatusCode.Accepted, next.StatusCode);
        Assert.Single(await scope.BronzeAsync("weblogs"));
    }

    [Theory]
    [InlineData("..%2F..%2Fetc", "..%2F..%2Fetc")]
    [InlineData("..%252F..%252Fgold%252Fx", "..%2F..%2Fgold%2Fx")]
    [InlineData("%2e%2e%5c%2e%2e%5cetc", "..\\..\\etc")]
    [InlineData("weblogs%0D%0Aforged%3A%20line", "weblogs??forged: line")]
    [InlineData("weblogs'%3B%20DROP%20TABLE%20x%3B--", "weblogs'; DROP TABLE x;--")]
    [InlineData("%5Bweblogs%5D", "[weblogs]")]
    public async Task Post_DatasetNameThatIsAPathOrInjection_404NamingItSafelyNothingWrittenAndTheServerGoesOn(string route, string shown)
    {
        await using var scope = await ServerScope.StartAsync(fixture.Engine);
        using var response = await scope.PostAsync(route, Line);

        await HttpIngestTests.AssertProblemAsync(response, HttpStatusCode.NotFound, "Unknown dataset", $"There is no dataset '{shown}'");
        Assert.Empty(Directory.GetFileSystemEntries(scope.Lake));
        using var next = await scope.PostAsync("weblogs", Line);
        Assert.Equal(HttpStatusCode.Accepted, next.StatusCode);
    }

    [Fact]
    public async Task Post_NulInTheDatasetHeadersOverTheLimitOrAControlCharacterInTheContentType_RefusedAndTheNextRequestAnswered()
    {
        await using var scope = await ServerScope.StartAsync(fixture.Engine);
        foreach (var (request, status) in new[]
        {
            ("POST /ingest/weblogs%00 HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-ndjson\r\nContent-Length: 2\r\n\r\n{}", "HTTP/1.1 400"),
            ($"POST /ingest/weblogs HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-ndjson\r\nX-Pad: {new string('a', 40_000)}\r\nContent-Length: 2\r\n\r\n{{}}", "HTTP/1.1 431"),
            ("POST /ingest/weblogs HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-ndjson\u0001\r\nContent-Length: 2\r\n\r\n{}", "HTTP/1.1 415"),
        })
        {
            using var socket = await scope.ConnectAsync();
            await socket.SendAsync(Encoding.Latin1.GetBytes(request));
            var answer = new byte[4096];
            var n = await socket.ReceiveAsync(answer);
            Assert.StartsWith(status, Encoding.ASCII.GetString(answer, 0, n), StringComparison.Ordinal);
        }
        Assert.Empty(await scope.BronzeAsync("weblogs"));
        using var next = await scope.PostAsync("weblogs", Line);
        Assert.Equal(HttpStatusCode.Accepted, next.StatusCode);
    }

    [Fact]
    public async Task Post_BronzeLogBroken_500NamesTheFileFromTheLakeRootNotTheServersDisk()
    {
        await using var scope = await ServerScope.StartAsync(fixture.Engine);
        using var first = await scope.PostAsync("weblogs", Line);
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        File.WriteAllText(Path.Combine(scope.Lake, "bronze", "weblogs", "_delta_log", "00000000000000000001.json"), "{not json\n");

        using var second = await scope.PostAsync("weblogs", Line);
        var problem = await ServerScope.JsonAsync(second);

        Assert.Equal(HttpStatusCode.InternalServerError, second.StatusCode);
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.StartsWith("The events of this request were not committed to bronze.weblogs: ", detail, StringComparison.Ordinal);
        Assert.Contains("bronze/weblogs/_delta_log/00000000000000000001.json", detail, StringComparison.Ordinal);
        Assert.DoesNotContain(scope.Lake, detail, StringComparison.Ordinal);
    }
}
