using System.Text;
using System.Text.Json;
using Lakehouse.Core;
using Lakehouse.Core.Webhooks;
using Lakehouse.Datasets;
using Lakehouse.Delta;
using Lakehouse.Testing;

namespace Lakehouse.Silver.Tests.Gates;

public sealed class QualityGateTests(EngineFixture fixture) : IClassFixture<EngineFixture>, IDisposable
{
    private readonly SilverLake _lake = new(fixture.Engine, "silver-gates");

    public void Dispose() => _lake.Dispose();

    private static DatasetDefinition Clicks(string gates) => DatasetDefinition.Parse(Encoding.UTF8.GetBytes($$"""
        {
          "name": "clicks", "payload": "json",
          "columns": [
            { "name": "click_id", "type": "string", "nullable": false },
            { "name": "at", "type": "timestamp" },
            { "name": "ms", "type": "number" }
          ],
          "event_time": "at", "id": ["click_id"],
          "expectations": [
            { "name": "id_present", "column": "click_id", "check": "not_null", "action": "drop" },
            { "name": "ms_small", "column": "ms", "check": "between", "min": 0, "max": 100, "action": "drop" }
          ],
          "quality_gates": {{gates}}
        }
        """), "/lake/_lakehouse/datasets/clicks.json");

    private int _next;

    /// <summary>A batch of <paramref name="good"/> clean events and <paramref name="bad"/> that break ms_small.</summary>
    private Task LandAsync(int good, int bad) =>
        _lake.LandAsync("clicks", [.. Enumerable.Range(0, good + bad).Select(i => $"{{\"click_id\":\"c{_next++}\",\"at\":\"2024-05-03T10:00:00Z\",\"ms\":{(i < good ? 50 : 500)}}}")]);

    private SilverJob Job => SilverJob.Open(_lake.Root, _lake.Engine);

    private async Task<(long?, long?)> VersionsAsync() =>
        (await DeltaTable.Open(_lake.Root.Scope("silver/clicks"), _lake.Engine).LatestVersionAsync(),
         await DeltaTable.Open(_lake.Root.Scope("silver/clicks_quarantine"), _lake.Engine).LatestVersionAsync());

    [Fact]
    public async Task RunAsync_QuarantineShareAboveGate_NothingCommittedRefusalRecordedAndWebhookTold()
    {
        var definition = Clicks("""{ "max_quarantine_share": 0.05 }""");
        await LandAsync(good: 97, bad: 3);
        await Job.RunAsync(definition);
        var versions = await VersionsAsync();
        await LandAsync(good: 90, bad: 10);
        await using var receiver = WebhookReceiver.Start(_ => new Reply(204));

        var e = await Assert.ThrowsAsync<LakehouseException>(() => Job.RunAsync(definition, new SilverRunOptions { RunId = "run-2", Webhook = new WebhookOptions { Uri = receiver.Uri } }));

        const string Message = "silver.clicks: quality gate max_quarantine_share refused the batch: 10 of 100 rows would be quarantined (10 %, most of them for ms_small (10)), " +
            "more than the 5 % allowed; nothing of it was committed. Fix the data or the definition and run again (or raise max_quarantine_share in /lake/_lakehouse/datasets/clicks.json).";
        Assert.Equal((LakehouseErrorReason.InvalidInput, Message), (e.Reason, e.Message));
        Assert.Equal(versions, await VersionsAsync());
        Assert.Equal(97, await _lake.CountAsync("silver/clicks"));
        Assert.Equal(3, await _lake.CountAsync("silver/clicks_quarantine"));
        Assert.Equal([$"refused|100|10|{Message}"], await _lake.QueryAsync("silver/_quality", "SELECT DISTINCT status, rows_in, rows_quarantined, message FROM t WHERE run_id = 'run-2'"));
        var request = Assert.Single(receiver.Requests);
        Assert.Equal("silver-gate/run-2/max_quarantine_share", request.Headers["Idempotency-Key"]);
        var body = JsonDocument.Parse(request.Body).RootElement;
        Assert.Equal(("silver_quality_gate", "clicks", "run-2", "max_quarantine_share", 0.1, 0.05, 100L, 10L, Message),
            (body.GetProperty("kind").GetString(), body.GetProperty("dataset").GetString(), body.GetProperty("run_id").GetString(), body.GetProperty("gate").GetString(),
             body.GetProperty("value").GetDouble(), body.GetProperty("threshold").GetDouble(), body.GetProperty("rows_in").GetInt64(), body.GetProperty("rows_quarantined").GetInt64(),
             body.GetProperty("message").GetString()));
    }

    [Fact]
    public async Task RunAsync_QuarantineShareAtOrUnderGateOrBatchUnderMinRows_Committed()
    {
        var definition = Clicks("""{ "max_quarantine_share": 0.05, "min_rows": 50 }""");
        await LandAsync(good: 95, bad: 5);
        var atLimit = await Job.RunAsync(definition);
        await LandAsync(good: 10, bad: 10);
        var small = await Job.RunAsync(definition);

        Assert.Equal((100L, 95L, 5L), (atLimit.RowsIn, atLimit.RowsOut, atLimit.Quarantined));
        Assert.Equal((20L, 10L, 10L), (small.RowsIn, small.RowsOut, small.Quarantined));
        Assert.Equal(["committed|2"], await _lake.QueryAsync("silver/_quality", "SELECT status, count(DISTINCT run_id) FROM t GROUP BY ALL"));
    }

    [Fact]
    public async Task RunAsync_RuleFailuresJumpAgainstHistory_RefusedOnlyOnceHistoryIsLongEnough()
    {
        var definition = Clicks("""{ "rule_jump": { "factor": 3, "history_runs": 3, "min_failures": 5 } }""");
        await LandAsync(good: 98, bad: 2);
        await Job.RunAsync(definition);
        await LandAsync(good: 90, bad: 10); // a jump, but 1 run of history is not enough to judge
        await Job.RunAsync(definition);
        await LandAsync(good: 99, bad: 1);
        await Job.RunAsync(definition);
        var versions = await VersionsAsync();
        await LandAsync(good: 80, bad: 20); // 20 % against (2 + 10 + 1) / 300 = 4.33 %: more than 3 × that (13 %)
        await using var receiver = WebhookReceiver.Start(_ => new Reply(200));

        var e = await Assert.ThrowsAsync<LakehouseException>(() => Job.RunAsync(definition, new SilverRunOptions { RunId = "jump", Webhook = new WebhookOptions { Uri = receiver.Uri } }));

        Assert.Equal("silver.clicks: quality gate rule_jump refused the batch: rule 'ms_small' failed 20 of 100 rows (20 %), more than 3 × its rate over the last 3 runs " +
            "(4.33 %, 13 of 300) = 13 %; nothing of it was committed. Fix the data or the definition and run again.", e.Message);
        Assert.Equal(versions, await VersionsAsync());
        Assert.Equal(("rule_jump", "ms_small"), (JsonDocument.Parse(Assert.Single(receiver.Requests).Body).RootElement.GetProperty("gate").GetString(),
            JsonDocument.Parse(receiver.Requests[0].Body).RootElement.GetProperty("rule").GetString()));

        var refusedAgain = await Assert.ThrowsAsync<LakehouseException>(() => Job.RunAsync(definition));
        Assert.StartsWith("silver.clicks: quality gate rule_jump refused", refusedAgain.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_GateRefusesAndWebhookIsDown_RunStillRefusedAndNothingCommitted()
    {
        var definition = Clicks("""{ "max_quarantine_share": 0 }""");
        await LandAsync(good: 5, bad: 1);
        var port = LocalServers.FreePort();
        var webhook = new WebhookOptions { Uri = new Uri($"http://127.0.0.1:{port}/hook"), MaxAttempts = 2, BaseDelay = TimeSpan.FromMilliseconds(10) };

        var e = await Assert.ThrowsAsync<LakehouseException>(() => Job.RunAsync(definition, new SilverRunOptions { Webhook = webhook }));

        Assert.StartsWith("silver.clicks: quality gate max_quarantine_share refused the batch: 1 of 6 rows", e.Message, StringComparison.Ordinal);
        Assert.Equal((null, null), await VersionsAsync());
    }

    [Theory]
    [InlineData("""{ "max_quarantine_share": 1.5 }""", "field 'quality_gates.max_quarantine_share': is the largest share of a batch that may be quarantined, from 0 up to (not including) 1, such as 0.05 for 5 %; not 1.5.")]
    [InlineData("""{ "max_quarantine_share": "5%" }""", "field 'quality_gates.max_quarantine_share': is a number, not the string \"5%\".")]
    [InlineData("""{ "max_share": 0.05 }""", "field 'quality_gates.max_share': is not a field of")]
    [InlineData("""{ }""", "field 'quality_gates': names no gate: give max_quarantine_share, rule_jump or both.")]
    [InlineData("""{ "rule_jump": { "history_runs": 5 } }""", "field 'quality_gates.rule_jump.factor': is missing: how many times its usual failure rate a rule may fail before the run stops, e.g. 3.")]
    [InlineData("""{ "rule_jump": { "factor": 0.5 } }""", "field 'quality_gates.rule_jump.factor': is a number above 1 (and at most 1000000), not 0.5.")]
    [InlineData("""{ "rule_jump": { "factor": 3, "history_runs": 0 } }""", "field 'quality_gates.rule_jump.history_runs': is a whole number from 1 to 100, not 0.")]
    [InlineData("""[0.05]""", "field 'quality_gates': quality_gates is an object such as { \"max_quarantine_share\": 0.05 }, not a list.")]
    public void Parse_BadQualityGates_RefusedNamingTheField(string gates, string expected)
    {
        var e = Assert.Throws<LakehouseException>(() => Clicks(gates));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.StartsWith("Dataset definition '/lake/_lakehouse/datasets/clicks.json'", e.Message, StringComparison.Ordinal);
    }
}
