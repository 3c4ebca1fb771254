using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Lakehouse.Testing;

namespace Lakehouse.Serve.Tests;

/// <summary>Many clients at once, overload, and a stop under load: every event answered 202 is in bronze exactly once.</summary>
public sealed class HttpIngestLoadTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    private static string Batch(string client, int request, int events) =>
        string.Concat(Enumerable.Range(0, events).Select(i => $"{{\"event_id\": \"{client}-{request}-{i}\", \"tti_ms\": {i}}}\n"));

    [Fact]
    public async Task Post_ConcurrentClients_EveryEventLandedExactlyOnceInSharedCommits()
    {
        await using var scope = await ServerScope.StartAsync(fixture.Engine);
        const int clients = 12, requests = 8, events = 250;
        var accepted = new ConcurrentDictionary<string, (string Body, long Version)>();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            for (var r = 0; r < requests; r++)
            {
                var body = Batch("c" + c, r, events);
                using var response = await scope.PostAsync("weblogs", body);
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
                var answer = await ServerScope.JsonAsync(response);
                Assert.Equal(events, answer.GetProperty("accepted").GetInt32());
                accepted[answer.GetProperty("requestId").GetString()!] = (body, answer.GetProperty("bronzeVersion").GetInt64());
            }
        })));

        var rows = await scope.BronzeAsync("weblogs");
        Assert.Equal(clients * requests * events, rows.Count);
        Assert.Equal(rows.Count, rows.Select(r => Encoding.UTF8.GetString(r.Payload)).Distinct().Count());
        foreach (var (requestId, (body, _)) in accepted)
        {
            var landed = rows.Where(r => r.Source == requestId).OrderBy(r => r.Line).Select(r => Encoding.UTF8.GetString(r.Payload) + "\n");
            Assert.Equal(body, string.Concat(landed));
        }
        var commits = scope.Server.Ingest.Commits;
        Assert.InRange(commits, 1, clients * requests - 1); // requests shared commits
        Assert.Equal(commits, accepted.Values.Select(a => a.Version).Distinct().Count());
    }

    [Fact]
    public async Task Post_MoreThanTheQueueHolds_503WithRetryAfterAndEveryAcceptedRequestLandedOnceNoRefusedOne()
    {
        await using var scope = await ServerScope.StartAsync(fixture.Engine, o => o.Ingest.GroupCommit.MaxQueuedSubmissions = 1);
        const int clients = 24, requests = 4, events = 100;
        var accepted = new ConcurrentBag<string>();
        var refused = new ConcurrentBag<string>();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            for (var r = 0; r < requests; r++)
            {
                using var response = await scope.PostAsync("weblogs", Batch("c" + c, r, events));
                var requestId = response.Headers.GetValues("X-Request-Id").Single();
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    accepted.Add(requestId);
                    continue;
                }
                await HttpIngestTests.AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable, "Overloaded", "The commit queue is full");
                Assert.Equal("1", response.Headers.GetValues("Retry-After").Single());
                refused.Add(requestId);
            }
        })));

        Assert.NotEmpty(refused);
        Assert.NotEmpty(accepted);
        var landed = await scope.RowsByRequestAsync("weblogs");
        Assert.Equal(accepted.Order(), landed.Keys.Order());
        Assert.All(landed.Values, n => Assert.Equal(events, n));
        Assert.Equal(refused.Count, scope.Server.Ingest.Statistics.Overloaded);
    }

    [Fact]
    public async Task Stop_DuringLoad_EveryAcceptedEventPresentAndNoRequestHalfLanded()
    {
        var lake = new TempDirectory("serve-stop-load");
        try
        {
            var accepted = new ConcurrentBag<string>();
            var failures = new ConcurrentBag<string>();
            const int events = 200;
            await using (var scope = await ServerScope.StartAsync(fixture.Engine, lake: lake))
            {
                using var stopClients = new CancellationTokenSource(TimeSpan.FromMinutes(1));
                var clients = Enumerable.Range(0, 8).Select(c => Task.Run(async () =>
                {
                    for (var r = 0; !stopClients.IsCancellationRequested; r++)
                    {
                        try
                        {
                            using var response = await scope.PostAsync("weblogs", Batch("c" + c, r, events));
                            if (response.StatusCode == HttpStatusCode.Accepted) accepted.Add((await ServerScope.JsonAsync(response)).GetProperty("requestId").GetString()!);
                            else
                            {
                                failures.Add(((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture));
                                return;
                            }
                        }
                        catch (HttpRequestException e)
                        {
                            failures.Add("connection: " + e.HttpRequestError); // refused, or closed by the stop
                            return;
                        }
                    }
                })).ToList();
                Assert.True(await ServerScope.EventuallyAsync(() => accepted.Count >= 20), "the load never got going");
                await scope.Server.StopAsync();
                await Task.WhenAll(clients);
            }

            Assert.NotEmpty(failures); // every client was stopped by the stop: 503 or a refused connection
            Assert.True(failures.All(f => f == "503" || f.StartsWith("connection: ", StringComparison.Ordinal)), string.Join(", ", failures));
            await using var after = await ServerScope.StartAsync(fixture.Engine, lake: lake);
            var landed = await after.RowsByRequestAsync("weblogs");
            Assert.Empty(accepted.Except(landed.Keys));
            Assert.All(landed.Values, n => Assert.Equal(events, n));
        }
        finally
        {
            lake.Dispose();
        }
    }
}
