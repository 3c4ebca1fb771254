using System.Diagnostics;
using System.Text.Json;
using Lakehouse.Core;
using Lakehouse.Core.Webhooks;
using Lakehouse.Gold.Alerts;
using Lakehouse.Testing;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Gold.Tests.Alerts;

public sealed class AlertWebhookTests
{
    private const string Secret = "webhook-secret-8c2d41";

    private readonly CapturingLoggerFactory _logs = new();

    private static Alert MakeAlert(int n) => new(
        AlertId: $"{n:x2}".PadLeft(64, 'a'),
        Rule: "temperature_high",
        Key: $"sensor-{n}",
        WindowStart: new DateTimeOffset(2026, 3, 1, 10, n, 0, TimeSpan.Zero),
        WindowEnd: new DateTimeOffset(2026, 3, 1, 10, n + 1, 0, TimeSpan.Zero),
        Value: 100.5 + n,
        Threshold: 100,
        Message: $"Sensor sensor-{n}: temperature above the limit",
        EventDate: new DateOnly(2026, 3, 1),
        DetectedAt: new DateTimeOffset(2026, 3, 1, 10, 30, 0, 123, TimeSpan.Zero));

    private AlertWebhook Webhook(Uri uri, Action<WebhookOptions>? configure = null)
    {
        var options = new WebhookOptions { Uri = uri, Secret = Secret, BaseDelay = TimeSpan.FromMilliseconds(20), Timeout = TimeSpan.FromSeconds(5) };
        configure?.Invoke(options);
        return new AlertWebhook(options, _logs.CreateLogger<AlertWebhook>());
    }

    /// <summary>Neither the secret nor the URL's path (where webhook tokens live) appears in any log line or logged value.</summary>
    private void AssertNoSecretLogged()
    {
        Assert.NotEmpty(_logs.Events);
        foreach (var e in _logs.Events)
        {
            var text = e.Message + " " + string.Join(" ", e.Values.Values.Select(v => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)));
            Assert.DoesNotContain(Secret, text, StringComparison.Ordinal);
            Assert.DoesNotContain(WebhookReceiver.PathToken, text, StringComparison.Ordinal);
        }
    }

    private int Count(int eventId) => _logs.Events.Count(e => e.Id.Id == eventId);

    [Fact]
    public async Task PostAsync_ReceiverAccepts_EachAlertPostedOnceAsJsonWithItsIdAndTheSecret()
    {
        await using var receiver = WebhookReceiver.Start(_ => new Reply(200));
        using var webhook = Webhook(receiver.Uri);
        Alert[] alerts = [MakeAlert(1), MakeAlert(2)];

        var delivery = await webhook.PostAsync(alerts);

        Assert.True(delivery.AllDelivered);
        Assert.Equal(alerts, delivery.Delivered);
        Assert.Equal(2, receiver.Requests.Count);
        foreach (var (alert, request) in alerts.Zip(receiver.Requests))
        {
            Assert.Equal(("POST", "/hooks/" + WebhookReceiver.PathToken), (request.Method, request.Path));
            Assert.Equal(Secret, request.Headers[WebhookOptions.DefaultSecretHeaderName]);
            Assert.Equal(alert.AlertId, request.Headers["Idempotency-Key"]);
            Assert.Equal("application/json; charset=utf-8", request.Headers["Content-Type"]);
            using var json = JsonDocument.Parse(request.Body);
            var root = json.RootElement;
            Assert.Equal(
                [alert.AlertId, alert.Rule, alert.Key, $"2026-03-01T10:0{alert.WindowStart.Minute}:00.000000Z", $"2026-03-01T10:0{alert.WindowEnd.Minute}:00.000000Z", alert.Message, "2026-03-01", "2026-03-01T10:30:00.123000Z"],
                new[] { "alert_id", "rule", "key", "window_start", "window_end", "message", "event_date", "detected_at" }.Select(n => root.GetProperty(n).GetString()));
            Assert.Equal((alert.Value, 100.0), (root.GetProperty("value").GetDouble(), root.GetProperty("threshold").GetDouble()));
            Assert.Equal(10, root.EnumerateObject().Count());
        }
        Assert.Equal(2, Count(LogEventIds.Gold + 103));
        AssertNoSecretLogged();
    }

    [Fact]
    public async Task PostAsync_503WithRetryAfterThenOk_RetriedAfterTheServersWait()
    {
        await using var receiver = WebhookReceiver.Start(n => n == 1 ? new Reply(503, RetryAfter: "1") : new Reply(200));
        using var webhook = Webhook(receiver.Uri, o => o.BaseDelay = TimeSpan.FromMilliseconds(1));

        var delivery = await webhook.PostAsync([MakeAlert(1)]);

        Assert.Equal([MakeAlert(1)], delivery.Delivered);
        Assert.Empty(delivery.Failed);
        var requests = receiver.Requests;
        Assert.Equal(2, requests.Count);
        // Back-off alone would have waited about a millisecond: the second try came after the server's second.
        Assert.InRange((requests[1].At - requests[0].At).TotalMilliseconds, 950, 5000);
        var retry = Assert.Single(_logs.Events, e => e.Id.Id == LogEventIds.Gold + 100);
        Assert.Equal(("HTTP 503 Service Unavailable", 1000L), ((string)retry.Values["Cause"]!, (long)retry.Values["DelayMs"]!));
        AssertNoSecretLogged();
    }

    [Fact]
    public async Task PostAsync_400_NotRetriedAndTheNextAlertStillPosted()
    {
        await using var receiver = WebhookReceiver.Start(n => n == 1 ? new Reply(400) : new Reply(202));
        using var webhook = Webhook(receiver.Uri);

        var delivery = await webhook.PostAsync([MakeAlert(1), MakeAlert(2)]);

        Assert.Equal([MakeAlert(2)], delivery.Delivered);
        var failure = Assert.Single(delivery.Failed);
        Assert.Equal((MakeAlert(1), 1, (int?)400, "HTTP 400 Bad Request (not retried)"), (failure.Alert, failure.Attempts, failure.StatusCode, failure.Reason));
        Assert.Equal(2, receiver.Requests.Count);
        Assert.Equal(0, Count(LogEventIds.Gold + 100));
        Assert.Equal(1, Count(LogEventIds.Gold + 101));
        AssertNoSecretLogged();
    }

    [Fact]
    public async Task PostAsync_ListenerDown_GivesUpAfterMaxAttemptsInBoundedTimeWithoutThrowing()
    {
        var uri = new Uri($"http://127.0.0.1:{LocalServers.FreePort()}/hooks/{WebhookReceiver.PathToken}");
        using var webhook = Webhook(uri, o =>
        {
            o.MaxAttempts = 3;
            o.BaseDelay = TimeSpan.FromMilliseconds(50);
            o.Timeout = TimeSpan.FromSeconds(1);
        });
        var clock = Stopwatch.StartNew();

        var delivery = await webhook.PostAsync([MakeAlert(1), MakeAlert(2), MakeAlert(3)]);

        Assert.InRange(clock.Elapsed.TotalSeconds, 0.05, 5);
        Assert.Empty(delivery.Delivered);
        Assert.Equal([3, 0, 0], delivery.Failed.Select(f => f.Attempts));
        Assert.StartsWith("network error ConnectionError", delivery.Failed[0].Reason, StringComparison.Ordinal);
        Assert.All(delivery.Failed.Skip(1), f => Assert.StartsWith("not tried: the endpoint stayed unavailable", f.Reason, StringComparison.Ordinal));
        Assert.Equal((2, 1, 1), (Count(LogEventIds.Gold + 100), Count(LogEventIds.Gold + 101), Count(LogEventIds.Gold + 102)));
        var summary = Assert.Single(_logs.Events, e => e.Id.Id == LogEventIds.Gold + 102);
        Assert.Equal((LogLevel.Warning, "Alert webhook http://127.0.0.1:" + uri.Port + ": 0 of 3 alerts delivered, 3 not (2 of them not tried because the endpoint stayed unavailable)"),
            (summary.Level, summary.Message));
        AssertNoSecretLogged();
    }

    [Fact]
    public async Task PostAsync_Always503_TriesMaxAttemptsWithGrowingWaits()
    {
        await using var receiver = WebhookReceiver.Start(_ => new Reply(503));
        using var webhook = Webhook(receiver.Uri, o =>
        {
            o.MaxAttempts = 4;
            o.BaseDelay = TimeSpan.FromMilliseconds(100);
        });

        var delivery = await webhook.PostAsync([MakeAlert(1)]);

        var failure = Assert.Single(delivery.Failed);
        Assert.Equal((4, (int?)503), (failure.Attempts, failure.StatusCode));
        var at = receiver.Requests.Select(r => r.At).ToList();
        Assert.Equal(4, at.Count);
        // Waits of 100, 200 and 400 ms, each jittered to between half and all of it.
        var waits = at.Zip(at.Skip(1), (a, b) => (b - a).TotalMilliseconds).ToList();
        // The upper bounds leave a loaded machine room to be late.
        Assert.InRange(waits[0], 45, 1000);
        Assert.InRange(waits[1], 95, 1200);
        Assert.InRange(waits[2], 195, 1600);
        Assert.InRange(waits.Sum(), 345, 3000);
        AssertNoSecretLogged();
    }

    [Fact]
    public async Task PostAsync_NoAnswerWithinTheTimeout_RetriedThenDelivered()
    {
        await using var receiver = WebhookReceiver.Start(n => n == 1 ? new Reply(200, Delay: TimeSpan.FromSeconds(10)) : new Reply(200));
        using var webhook = Webhook(receiver.Uri, o => o.Timeout = TimeSpan.FromMilliseconds(300));
        var clock = Stopwatch.StartNew();

        var delivery = await webhook.PostAsync([MakeAlert(1)]);

        Assert.True(delivery.AllDelivered);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}"); // not the 10 s the first answer takes
        // The first try cannot be answered in time; a retry answered at once is delivered. On a busy machine a retry's own answer
        // can miss the 300 ms too and is retried in turn: every try but the last timed out, each logged with that cause.
        var tries = receiver.Requests.Count;
        Assert.InRange(tries, 2, 5);
        Assert.All(receiver.Requests, r => Assert.Equal(receiver.Requests[0].Body, r.Body));
        var retried = _logs.Events.Where(e => e.Id.Id == LogEventIds.Gold + 100).ToList();
        // A try that timed out before its request reached the receiver is logged but not received (CI 2026-12-05: 3 tries, 2 received).
        Assert.InRange(retried.Count, tries - 1, 4);
        Assert.All(retried, e => Assert.Equal("no answer within 300 ms", e.Values["Cause"]));
        AssertNoSecretLogged();
    }

    [Fact]
    public async Task PostAsync_429AskingLongerThanMaxDelay_NotRetried()
    {
        await using var receiver = WebhookReceiver.Start(_ => new Reply(429, RetryAfter: "120"));
        using var webhook = Webhook(receiver.Uri, o => o.MaxDelay = TimeSpan.FromSeconds(5));
        var clock = Stopwatch.StartNew();

        var delivery = await webhook.PostAsync([MakeAlert(1), MakeAlert(2)]);

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"took {clock.Elapsed}");
        Assert.Single(receiver.Requests);
        Assert.Equal("HTTP 429 Too Many Requests; the server asked to wait 120 s, longer than the 5 s allowed", delivery.Failed[0].Reason);
        Assert.Equal([1, 0], delivery.Failed.Select(f => f.Attempts));
        AssertNoSecretLogged();
    }

    [Fact]
    public async Task PostAsync_Redirect_NotFollowedSoTheSecretGoesNowhereElse()
    {
        await using var receiver = WebhookReceiver.Start(n => n == 1 ? new Reply(307, Location: "/elsewhere") : new Reply(200));
        using var webhook = Webhook(receiver.Uri);

        var delivery = await webhook.PostAsync([MakeAlert(1)]);

        Assert.Equal((int?)307, Assert.Single(delivery.Failed).StatusCode);
        Assert.Equal(["/hooks/" + WebhookReceiver.PathToken], receiver.Requests.Select(r => r.Path));
        AssertNoSecretLogged();
    }

    [Fact]
    public async Task PostAsync_Cancelled_ThrowsOperationCanceledPromptly()
    {
        await using var receiver = WebhookReceiver.Start(_ => new Reply(200, Delay: TimeSpan.FromSeconds(20)));
        using var webhook = Webhook(receiver.Uri, o => o.Timeout = TimeSpan.FromSeconds(30));
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var clock = Stopwatch.StartNew();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => webhook.PostAsync([MakeAlert(1)], cancel.Token));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}"); // not the 20 s of the answer
    }

    [Fact]
    public void Options_SecretAndPath_NotInToString()
    {
        var options = new WebhookOptions { Uri = new Uri("https://hooks.example.com/services/" + WebhookReceiver.PathToken + "?sig=abc"), Secret = Secret };

        Assert.Equal("WebhookOptions { Endpoint = https://hooks.example.com, Timeout = 00:00:10, MaxAttempts = 5, BaseDelay = 00:00:00.5000000, MaxDelay = 00:00:30, Secret = set }", options.ToString());
    }

    [Theory]
    [InlineData("ftp://example.com/hook")]
    [InlineData("https://user:pass@example.com/hook")]
    public void Options_UriNotHttpOrWithCredentials_Refused(string uri)
    {
        var error = Assert.Throws<ArgumentException>(() => new WebhookOptions { Uri = new Uri(uri) });

        Assert.DoesNotContain("pass", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_SecretWithALineBreak_RefusedWithoutShowingIt()
    {
        var error = Assert.Throws<ArgumentException>(() => new WebhookOptions { Secret = "abc\r\nX-Evil: 1" });

        Assert.DoesNotContain("abc", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new WebhookOptions { SecretHeaderName = "Bad Header" });
        Assert.Throws<ArgumentOutOfRangeException>(() => new WebhookOptions { MaxAttempts = 0 });
        Assert.Throws<ArgumentException>(() => new AlertWebhook(new WebhookOptions()));
    }

    [Fact]
    public void FromEnvironment_Variables_UrlAndSecretOrNothing()
    {
        Assert.Null(WebhookOptions.FromEnvironment(_ => null));

        var options = WebhookOptions.FromEnvironment(name => name switch
        {
            "LAKEHOUSE_ALERT_WEBHOOK_URL" => " https://hooks.example.com/x ",
            "LAKEHOUSE_ALERT_WEBHOOK_SECRET" => Secret,
            _ => null,
        });
        var error = Assert.Throws<LakehouseException>(() => WebhookOptions.FromEnvironment(name => name == "LAKEHOUSE_ALERT_WEBHOOK_URL" ? "not a url " + Secret : null));

        Assert.Equal((new Uri("https://hooks.example.com/x"), Secret), (options!.Uri, options.Secret));
        Assert.Equal("The environment variable LAKEHOUSE_ALERT_WEBHOOK_URL is not an absolute URL.", error.Message);
    }
}
