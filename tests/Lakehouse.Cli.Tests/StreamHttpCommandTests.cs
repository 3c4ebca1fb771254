using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Lakehouse.Testing;

namespace Lakehouse.Cli.Tests;

/// <summary><c>lakehouse stream --from http</c> as a user runs it: the real binary, a real HTTP client, Ctrl+C.</summary>
public sealed class StreamHttpCommandTests : IDisposable
{
    private readonly TempDirectory _temp = new("cli-stream-http");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Stream_PostForAnotherDataset_404NamingTheStreamsDatasetAndNothingLandedOrCounted()
    {
        // A stream of weblogs answered 202 to POST /ingest/sensors, landed the events in bronze.sensors (which no layer of the
        // process follows) and counted them as weblogs' bronze rows in /progress, /metrics and lakehouse status.
        var lake = _temp.Combine("lake");
        var (stream, client) = await StartAsync(lake, pollMs: 50);
        using var _ = stream;
        using var __ = client;

        using var sensors = await PostAsync(client, "sensors", "{\"sensor_id\":\"s1\"}\n{\"sensor_id\":\"s2\"}\n{\"sensor_id\":\"s3\"}\n");
        var refusal = await sensors.Content.ReadAsStringAsync();
        using var weblogs = await PostAsync(client, "weblogs", "{\"event_id\":\"e1\"}\n");
        var counted = await stream.WaitUntilAsync(() => BronzeTotal(client) >= 1, TimeSpan.FromSeconds(30));
        await Task.Delay(500); // two more polls: a count of the sensors events would show by now
        var total = BronzeTotal(client);
        await stream.SignalAsync("INT");
        var exit = await stream.WaitAsync();

        Assert.Equal(HttpStatusCode.NotFound, sensors.StatusCode);
        using (var problem = JsonDocument.Parse(refusal))
        {
            Assert.Equal("Unknown dataset", problem.RootElement.GetProperty("title").GetString());
            Assert.Equal("This server does not ingest dataset 'sensors': it is the stream of dataset 'weblogs' (lakehouse serve takes every dataset of the lake).",
                problem.RootElement.GetProperty("detail").GetString());
        }
        Assert.Equal(HttpStatusCode.Accepted, weblogs.StatusCode);
        Assert.True(counted, "the weblogs event was never counted: " + stream.Stderr);
        Assert.Equal(1, total);
        Assert.Equal(130, exit.ExitCode);
        Assert.False(Directory.Exists(Path.Combine(lake, "bronze", "sensors")), "bronze.sensors was written");
        var bronze = await CliRunner.RunAsync("sql", "--lake", lake, "--format", "csv", "SELECT count(*) AS n FROM bronze.weblogs");
        Assert.Equal("n\n1\n", bronze.Stdout);
    }

    [Fact]
    public async Task Stream_EventsLandedBeforeCtrlCButAfterTheLastPoll_InTheSummaryAndTheSavedStatus()
    {
        // The runner counted HTTP events when it polled; what the server landed after that (while it stopped, or just before) was
        // left out of the final summary and the saved status: 25,521 of 39,227 landed events under load, and here no summary at all.
        var lake = _temp.Combine("lake");
        var (stream, client) = await StartAsync(lake, pollMs: 600_000);
        using var _ = stream;
        using var __ = client;

        using var posted = await PostAsync(client, "weblogs", "{\"event_id\":\"e1\"}\n{\"event_id\":\"e2\"}\n{\"event_id\":\"e3\"}\n");
        await stream.SignalAsync("INT");
        var exit = await stream.WaitAsync();

        Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
        Assert.Equal(130, exit.ExitCode);
        Assert.Matches(@"^stream \S+: 1 batches; bronze 3$", exit.Stdout.Split('\n').Single(l => l.StartsWith("stream ", StringComparison.Ordinal)));
        using var saved = JsonDocument.Parse(File.ReadAllText(Path.Combine(lake, "_lakehouse", "stream", "weblogs.bronze.json")));
        Assert.True(saved.RootElement.GetProperty("stopped").GetBoolean());
        Assert.Equal(3, saved.RootElement.GetProperty("totals").GetProperty("bronze").GetInt64());
        Assert.Equal(3, saved.RootElement.GetProperty("numInputRows").GetInt64());
    }

    [Fact]
    public async Task Stream_CtrlCWhileSilverAndGoldFinish_EveryPostAfterTheNoticeGets503()
    {
        // serve answered 503 as soon as Ctrl+C came; stream --from http kept answering 202 until its silver and gold steps had
        // stopped (up to --grace-ms), taking events for a process that was going away.
        // The process may also be gone before the first late post (the layers stop fast; CI under load, 2026-12-04): nothing was
        // observed then, and the scenario runs again, up to three times.
        for (var attempt = 1; ; attempt++)
        {
            var (statuses, observed) = await CtrlCWhileLayersRunAsync(_temp.Combine("lake" + attempt.ToString(CultureInfo.InvariantCulture)));
            if (observed || attempt == 3)
            {
                Assert.True(observed, "in three runs, the process was gone before the first late post");
                Assert.NotEmpty(statuses);
                return;
            }
        }
    }

    /// <summary>One run of the Ctrl+C scenario: its late posts' statuses, and whether any late post reached the server.</summary>
    private static async Task<(List<HttpStatusCode> Statuses, bool Observed)> CtrlCWhileLayersRunAsync(string lake)
    {
        var (stream, client) = await StartAsync(lake, pollMs: 50, layers: "bronze,silver,gold");
        using var _ = stream;
        using var __ = client;
        var body = string.Concat(Enumerable.Range(0, 20_000).Select(i => $"{{\"event_id\":\"e{i}\",\"timestamp\":\"2026-01-05T10:00:00Z\",\"page_url\":\"https://shop.example/p{i % 50}\",\"tti_ms\":{i % 900},\"ttar_ms\":1200,\"status\":200,\"session_id\":\"s{i % 300}\",\"user_agent\":\"t\",\"country\":\"DE\",\"attrs\":{{}}}}\n"));
        using var first = await PostAsync(client, "weblogs", body);
        Assert.True(await stream.WaitUntilAsync(() => ProgressHasSilver(client), TimeSpan.FromSeconds(60)), stream.Stderr);
        using var second = await PostAsync(client, "weblogs", body);
        await stream.SignalAsync("INT");
        Assert.True(await stream.WaitUntilAsync(() => stream.Stderr.Contains("stopping 'lakehouse stream'", StringComparison.Ordinal), TimeSpan.FromSeconds(30)), stream.Stderr);
        // The notice is written once the cancellation (and with it the refusal) is in force: every post sent after it is refused.
        var statuses = new List<HttpStatusCode>();
        var retryAfter = new List<string?>();
        for (var i = 0; i < 5; i++)
        {
            try
            {
                using var late = await PostAsync(client, "weblogs", "{\"event_id\":\"late\"}\n");
                statuses.Add(late.StatusCode);
                retryAfter.Add(late.Headers.RetryAfter?.ToString());
            }
            catch (HttpRequestException)
            {
                break; // the server has stopped listening: the process is ending
            }
        }
        var exit = await stream.WaitAsync();

        Assert.Equal((HttpStatusCode.Accepted, HttpStatusCode.Accepted), (first.StatusCode, second.StatusCode));
        Assert.All(statuses, status => Assert.Equal(HttpStatusCode.ServiceUnavailable, status));
        Assert.All(retryAfter, value => Assert.Equal("1", value));
        Assert.Equal(130, exit.ExitCode);
        var bronze = await CliRunner.RunAsync("sql", "--lake", lake, "--format", "csv", "SELECT count(*) AS n FROM bronze.weblogs");
        Assert.Equal("n\n40000\n", bronze.Stdout);
        return (statuses, statuses.Count > 0);
    }

    private static bool ProgressHasSilver(HttpClient client)
    {
        using var progress = JsonDocument.Parse(client.GetStringAsync(new Uri("/progress?last=1", UriKind.Relative)).GetAwaiter().GetResult());
        return progress.RootElement.GetArrayLength() > 0 && progress.RootElement[0].GetProperty("totals").TryGetProperty("silver", out var silver) && silver.GetInt64() > 0;
    }

    /// <summary>Starts <c>stream --dataset weblogs --from http --layers bronze</c> on a free port, and a client of it, once it listens.</summary>
    private static async Task<(CliProcess Stream, HttpClient Client)> StartAsync(string lake, int pollMs, string layers = "bronze")
    {
        var (stream, port) = await CliRunner.StartListeningAsync(p => ["stream", "--lake", lake, "--dataset", "weblogs", "--from", "http", "--layers", layers,
            "--port", p.ToString(CultureInfo.InvariantCulture), "--poll-ms", pollMs.ToString(CultureInfo.InvariantCulture)]);
        return (stream, new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) });
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string dataset, string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/x-ndjson");
        return await client.PostAsync(new Uri("/ingest/" + dataset, UriKind.Relative), content);
    }

    /// <summary>The bronze total of the stream's last progress record (0 before the first).</summary>
    private static long BronzeTotal(HttpClient client)
    {
        using var progress = JsonDocument.Parse(client.GetStringAsync(new Uri("/progress?last=1", UriKind.Relative)).GetAwaiter().GetResult());
        return progress.RootElement.GetArrayLength() == 0 ? 0 : progress.RootElement[0].GetProperty("totals").GetProperty("bronze").GetInt64();
    }
}
