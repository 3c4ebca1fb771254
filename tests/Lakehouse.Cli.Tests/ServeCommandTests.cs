using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Lakehouse.Testing;

namespace Lakehouse.Cli.Tests;

/// <summary><c>lakehouse serve</c> as a user runs it: the real binary, a real HTTP client, Ctrl+C and SIGTERM under load.</summary>
public sealed class ServeCommandTests : IDisposable
{
    private readonly TempDirectory _temp = new("cli-serve");

    public void Dispose() => _temp.Dispose();

    private static string Batch(int client, int request, int events) =>
        string.Concat(Enumerable.Range(0, events).Select(i => $"{{\"event_id\": \"{client}-{request}-{i}\"}}\n"));

    [Fact]
    public async Task Produce_BatchOverTheServersBodyLimit_ShowsThe413AtOnceAndLandsNothing()
    {
        // A 5 MB batch against a 100,000-byte limit: the server closed the connection mid-upload, produce saw a broken pipe, retried
        // nine times over half a minute and never showed the server's answer. With Expect: 100-continue the 413 comes before the body.
        var lake = _temp.Combine("lake");
        var (serve, port) = await CliRunner.StartListeningAsync(p => ["serve", "--lake", lake, "--urls", $"http://127.0.0.1:{p}", "--max-body-bytes", "100000"]);
        using var started = serve;

        var produce = await CliRunner.RunAsync("produce", "--dataset", "weblogs", "--events", "20000", "--batch", "20000", "--to", $"http://127.0.0.1:{port}");
        await serve.SignalAsync("INT");
        await serve.WaitAsync();

        Assert.Equal(1, produce.ExitCode);
        Assert.StartsWith($"error: POST http://127.0.0.1:{port}/ingest/weblogs answered 413 Payload Too Large (send smaller batches: --batch N): ", produce.Stderr, StringComparison.Ordinal);
        Assert.Contains("A body may have at most 100000 bytes (--max-body-bytes)", produce.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("time(s)", produce.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(lake, "bronze", "weblogs", "_delta_log")) && Directory.GetFiles(Path.Combine(lake, "bronze", "weblogs", "_delta_log"), "*.json").Length > 0);
    }

    [Theory]
    [InlineData("INT", 130, "Ctrl+C")]
    [InlineData("TERM", 143, "SIGTERM")]
    public async Task Serve_SignalDuringLoad_ExitCodeOfTheSignalAndEveryAcceptedEventInBronzeOnce(string signal, int exitCode, string signalName)
    {
        var lake = _temp.Combine("lake");
        var (serve, port) = await CliRunner.StartListeningAsync(p => ["serve", "--lake", lake, "--urls", $"http://127.0.0.1:{p}"]);
        using var started = serve;

        const int events = 200;
        var accepted = new ConcurrentBag<string>();
        var endings = new ConcurrentBag<string>();
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromMinutes(2) };
        var clients = Enumerable.Range(0, 6).Select(c => Task.Run(async () =>
        {
            for (var r = 0; r < 10_000; r++)
            {
                try
                {
                    using var content = new StringContent(Batch(c, r, events), Encoding.UTF8, "application/x-ndjson");
                    using var response = await client.PostAsync("/ingest/weblogs", content);
                    if (response.StatusCode != HttpStatusCode.Accepted)
                    {
                        endings.Add(((int)response.StatusCode).ToString(CultureInfo.InvariantCulture));
                        return;
                    }
                    var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
                    Assert.Equal(events, answer.GetProperty("accepted").GetInt32());
                    accepted.Add(answer.GetProperty("requestId").GetString()!);
                }
                catch (HttpRequestException e)
                {
                    endings.Add("connection: " + e.HttpRequestError); // refused, or closed by the stop
                    return;
                }
            }
        })).ToList();
        Assert.True(await serve.WaitUntilAsync(() => accepted.Count >= 30), "the load never got going: " + serve.Stderr);
        await serve.SignalAsync(signal);
        var result = await serve.WaitAsync();
        await Task.WhenAll(clients);

        Assert.Equal(exitCode, result.ExitCode);
        Assert.Contains($"{signalName}: stopping 'lakehouse serve'", result.Stderr, StringComparison.Ordinal);
        Assert.EndsWith("cancelled\n", result.Stderr, StringComparison.Ordinal);
        var stdout = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal($"listening on http://127.0.0.1:{port}", stdout[0]);
        Assert.StartsWith("served ", stdout[1], StringComparison.Ordinal);
        // Each client was stopped by the stop (503, or a connection refused or closed), none by another status.
        Assert.Equal(6, endings.Count);
        Assert.True(endings.All(e => e == "503" || e.StartsWith("connection: ", StringComparison.Ordinal)), string.Join(", ", endings));

        var query = await CliRunner.RunAsync("sql", "SELECT source, count(*) AS n, count(DISTINCT payload) AS d FROM bronze.weblogs GROUP BY source", "--format", "csv", "--lake", lake);
        Assert.True(query.ExitCode == 0, query.Stderr);
        var landed = query.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split(','))
            .ToDictionary(f => f[0], f => (N: int.Parse(f[1], CultureInfo.InvariantCulture), Distinct: int.Parse(f[2], CultureInfo.InvariantCulture)));
        Assert.Empty(accepted.Except(landed.Keys)); // every 202 is in bronze
        Assert.All(landed.Values, v => Assert.Equal((events, events), v)); // every request whole, each event once
        Assert.Contains($"{landed.Count * events:N0} events", stdout[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_Dashboard_PageAndApiOverTheLakesGoldWithTheRefreshGiven()
    {
        var lake = _temp.Combine("lake");
        using (var engine = Lakehouse.Engine.DuckEngine.Open())
        {
            var alerts = Lakehouse.Delta.DeltaTable.Open(Lakehouse.Storage.LakeStorage.Open(Path.Combine(lake, "gold", "alerts")), engine);
            await Lakehouse.Delta.Write.DeltaWriter.Create(alerts).AppendAsync(
                "SELECT 'a-1' AS alert_id, 'temperature_low' AS rule, 'sensor-1' AS key, TIMESTAMPTZ '2026-11-01 12:00:00+00' AS window_start, " +
                "TIMESTAMPTZ '2026-11-01 12:01:00+00' AS window_end, 30.5::DOUBLE AS value, 32.0::DOUBLE AS threshold, TIMESTAMPTZ '2026-11-01 12:01:05+00' AS detected_at, " +
                "'sensor-1 read 30.5 °F, below 32 °F' AS message");
        }
        var (serve, port) = await CliRunner.StartListeningAsync(p => ["serve", "--lake", lake, "--urls", $"http://127.0.0.1:{p}", "--refresh-seconds", "2"]);
        using var started = serve;
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        var page = await client.GetStringAsync("/");
        var versions = JsonDocument.Parse(await client.GetStringAsync("/api/versions")).RootElement;
        var answer = JsonDocument.Parse(await client.GetStringAsync("/api/alerts")).RootElement;
        var runs = JsonDocument.Parse(await client.GetStringAsync("/api/runs")).RootElement;
        await serve.SignalAsync("INT");
        var result = await serve.WaitAsync();

        Assert.Contains("<title>Lakehouse dashboard</title>", page, StringComparison.Ordinal);
        Assert.Equal(2, versions.GetProperty("refreshSeconds").GetInt32());
        Assert.Equal(0, versions.GetProperty("tables").GetProperty("gold.alerts").GetProperty("version").GetInt64());
        var alert = answer.GetProperty("alerts").GetProperty("rows").EnumerateArray().Single();
        Assert.Equal(("a-1", 30.5, "2026-11-01T12:01:05Z", "sensor-1 read 30.5 °F, below 32 °F"),
            (alert.GetProperty("alert_id").GetString(), alert.GetProperty("value").GetDouble(), alert.GetProperty("detected_at").GetString(), alert.GetProperty("message").GetString()));
        Assert.Equal(("ok", "no_data"), (answer.GetProperty("alerts").GetProperty("status").GetString(), runs.GetProperty("runs").GetProperty("status").GetString()));
        Assert.Equal(130, result.ExitCode);
    }

    [Fact]
    public async Task Serve_PortInUse_Exit1NamingTheAddress()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var result = await CliRunner.RunAsync("serve", "--lake", _temp.Combine("lake"), "--urls", $"http://127.0.0.1:{port}");
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith($"error: Cannot listen on http://127.0.0.1:{port}: ", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("address already in use", result.Stderr, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("", result.Stdout);
    }

    [Theory]
    [InlineData("--urls", "https://127.0.0.1:8443", "error: --urls: 'https://127.0.0.1:8443': HTTPS is not served; listen on http:// and put a TLS-terminating proxy in front.")]
    [InlineData("--urls", "127.0.0.1:8080", "error: --urls: '127.0.0.1:8080' is not an address to listen on: write http://host:port, e.g. http://127.0.0.1:8080.")]
    [InlineData("--urls", "http://127.0.0.1:99999", "error: --urls: 'http://127.0.0.1:99999' is not an address to listen on: write http://host:port with a port from 0 to 65535, and no path.")]
    [InlineData("--urls", "http://999.1.1.1:18439", "error: --urls: 'http://999.1.1.1:18439': '999.1.1.1' is not an IP address or localhost, and for any other host Kestrel listens on every interface; write the address to listen on (127.0.0.1, [::1], or 0.0.0.0 for every interface).")]
    [InlineData("--urls", "http://myhost.example:18438", "error: --urls: 'http://myhost.example:18438': 'myhost.example' is not an IP address or localhost, and for any other host Kestrel listens on every interface; write the address to listen on (127.0.0.1, [::1], or 0.0.0.0 for every interface).")]
    [InlineData("--urls", "", "error: --urls: give at least one address to listen on, e.g. http://127.0.0.1:8080.")]
    [InlineData("--allowed-host", "*", "error: --allowed-host: '*' is not a host name (letters, digits, '-' and '.'; no wildcards: list each name). IP addresses and localhost are always allowed.")]
    [InlineData("--allowed-host", "a b", "error: --allowed-host: 'a b' is not a host name (letters, digits, '-' and '.'; no wildcards: list each name). IP addresses and localhost are always allowed.")]
    [InlineData("--allowed-host", ";", "error: --allowed-host: give at least one host name, e.g. --allowed-host lakehouse.example.")]
    [InlineData("--max-body-bytes", "0", "error: --max-body-bytes must be between 1 and 2147483583")]
    [InlineData("--refresh-seconds", "0", "error: --refresh-seconds must be between 1 and 3600")]
    public async Task Serve_BadOption_Exit2WithTheProblem(string option, string value, string error)
    {
        var result = await CliRunner.RunAsync("serve", "--lake", _temp.Combine("lake"), option, value);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal(error + "\n", result.Stderr);
    }

    [Fact]
    public async Task Serve_BufferedBytesBelowTheLargestBody_Exit2()
    {
        var result = await CliRunner.RunAsync("serve", "--lake", _temp.Combine("lake"), "--max-body-bytes", "2000", "--max-buffered-bytes", "1000");
        Assert.Equal(2, result.ExitCode);
        Assert.Equal("error: --max-buffered-bytes (1000) must be at least --max-body-bytes (2000)\n", result.Stderr);
    }
}
