using System.Globalization;
using System.Text;
using System.Text.Json;
using Lakehouse.Testing;

namespace Lakehouse.Cli.Tests;

/// <summary>
/// <c>lakehouse stream</c> with <c>LAKEHOUSE_ALERT_WEBHOOK_URL</c>: the alerts its gold steps raise reach a real HTTP listener while
/// the stream runs (they used to stay in gold.alerts until someone ran <c>gold run</c> with the variable set).
/// </summary>
public sealed class StreamAlertsCommandTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2024, 5, 1, 10, 0, 0, TimeSpan.Zero);
    private readonly TempDirectory _temp = new("cli-stream-alerts");

    public void Dispose() => _temp.Dispose();

    /// <summary>A sensors event as a device sends it.</summary>
    internal static string Reading(string sensor, DateTimeOffset time, double value, string status = "normal") =>
        $"{{\"sensor_id\":\"{sensor}\",\"device_type\":\"temperature\",\"timestamp\":\"{time.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}\"," +
        $"\"value\":{value.ToString(CultureInfo.InvariantCulture)},\"unit\":\"F\",\"location\":\"plant-a/room-1\",\"status\":\"{status}\"}}";

    [Fact]
    public async Task Stream_WithAlertWebhook_PostsEachAlertGoldRaisesOnceWhileItRuns()
    {
        var lake = _temp.Combine("lake");
        // The first post fails: the stream must try again (every 30 s, or when gold raises more) without holding gold up.
        await using var receiver = WebhookReceiver.Start(n => n == 1 ? new Reply(503) : new Reply(200));
        var (stream, port) = await CliRunner.StartListeningAsync(
            p => ["stream", "--lake", lake, "--dataset", "sensors", "--from", "http", "--port", p.ToString(CultureInfo.InvariantCulture), "--poll-ms", "100"],
            environment: new Dictionary<string, string> { ["LAKEHOUSE_ALERT_WEBHOOK_URL"] = receiver.Uri.ToString() });
        using var started = stream;
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };

        // s1 reads 70 °F every 30 s, then 120 °F at 10:10 (temperature_high and value_spike); s2 reports 'critical' once (status_error).
        var lines = Enumerable.Range(0, 20).Select(i => Reading("s1", T0.AddSeconds(30 * i), 70))
            .Append(Reading("s1", T0.AddMinutes(10), 120))
            .Concat(Enumerable.Range(0, 20).Select(i => Reading("s2", T0.AddSeconds(30 * i), 60, i == 7 ? "critical" : "normal")));
        using (var body = new StringContent(string.Join('\n', lines) + "\n", Encoding.UTF8, "application/x-ndjson"))
        {
            using var posted = await client.PostAsync(new Uri("/ingest/sensors", UriKind.Relative), body);
            Assert.True(posted.IsSuccessStatusCode, await posted.Content.ReadAsStringAsync());
        }

        var delivered = await stream.WaitUntilAsync(() => Accepted(receiver).Count >= 3, TimeSpan.FromSeconds(90));
        await stream.SignalAsync("INT");
        var exit = await stream.WaitAsync();

        Assert.True(delivered, $"{Accepted(receiver).Count} alert(s) accepted; requests: {receiver.Requests.Count}; stderr: {stream.Stderr}");
        Assert.Equal(130, exit.ExitCode);
        var alerts = await CliRunner.RunAsync("sql", "--lake", lake, "--format", "csv", "SELECT alert_id, rule FROM gold.alerts ORDER BY rule");
        Assert.True(alerts.ExitCode == 0, alerts.Stderr);
        var rows = alerts.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(["status_error", "temperature_high", "value_spike"], rows.Select(r => r[1]));
        // Each alert accepted once, with its id as the idempotency key; the one refused first was posted again.
        var accepted = Accepted(receiver);
        Assert.Equal(rows.Select(r => r[0]).Order(), accepted.Select(a => a.Id).Order());
        Assert.Equal(rows.Select(r => r[1]).Order(), accepted.Select(a => a.Rule).Order());
        Assert.Equal(rows.Count + 1, receiver.Requests.Count);
        Assert.Contains(receiver.Requests[0].Headers["Idempotency-Key"], accepted.Select(a => a.Id));
    }

    /// <summary>The alerts the receiver answered 200 to: their idempotency key and rule.</summary>
    private static List<(string Id, string Rule)> Accepted(WebhookReceiver receiver) =>
        [.. receiver.Requests.Skip(1).Select(r =>
        {
            using var doc = JsonDocument.Parse(r.Body);
            return (r.Headers["Idempotency-Key"], doc.RootElement.GetProperty("rule").GetString()!);
        })];
}
