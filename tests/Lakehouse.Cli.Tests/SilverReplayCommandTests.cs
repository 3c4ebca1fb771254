using System.Globalization;
using System.Text.Json;
using Lakehouse.Testing;

namespace Lakehouse.Cli.Tests;

/// <summary><c>lakehouse silver replay</c> and the quality gates of <c>lakehouse silver run</c> as a user meets them, SIGKILL included.</summary>
public sealed class SilverReplayCommandTests : IDisposable
{
    private readonly TempDirectory _temp = new("silver-replay");

    public void Dispose() => _temp.Dispose();

    private string Lake => _temp.Combine("lake");

    private static string Definition(string lake) => Path.Combine(lake, "_lakehouse", "datasets", "webperf.json");

    /// <summary>
    /// The README's how-to: a dataset <c>webperf</c> defined as weblogs with a TTI limit of 3 s, simulator events landed and run
    /// through silver (a share of them quarantined by tti_in_range), then the limit put back to 10 minutes.
    /// </summary>
    private async Task<long> QuarantineThenLoosenAsync(int events)
    {
        var landing = _temp.Combine("landing");
        var produced = await CliRunner.RunAsync("produce", "--dataset", "weblogs", "--events", events.ToString(CultureInfo.InvariantCulture), "--seed", "7",
            "--duplicates", "0.05", "--malformed", "0.01", "--to", landing);
        Assert.True(produced.ExitCode == 0, produced.Stderr);
        foreach (var f in Directory.GetFiles(landing)) File.SetLastWriteTimeUtc(f, DateTime.UtcNow.AddMinutes(-1));
        var show = await CliRunner.RunAsync("dataset", "show", "weblogs");
        Directory.CreateDirectory(Path.GetDirectoryName(Definition(Lake))!);
        var strict = show.Stdout.Replace("\"name\": \"weblogs\"", "\"name\": \"webperf\"", StringComparison.Ordinal);
        var at = strict.IndexOf("\"max\": 600000", StringComparison.Ordinal);
        await File.WriteAllTextAsync(Definition(Lake), strict[..at] + "\"max\": 3000" + strict[(at + "\"max\": 600000".Length)..]);
        var ingested = await CliRunner.RunAsync("bronze", "ingest", "--lake", Lake, "--dataset", "webperf", "--from", landing);
        Assert.True(ingested.ExitCode == 0, ingested.Stderr);
        var run = await CliRunner.RunAsync("silver", "run", "--lake", Lake, "--dataset", "webperf", "--json");
        Assert.True(run.ExitCode == 0, run.Stderr);
        await File.WriteAllTextAsync(Definition(Lake), strict);
        return JsonDocument.Parse(run.Stdout).RootElement.GetProperty("quarantined").GetInt64();
    }

    private static async Task<List<string>> SqlAsync(string lake, string query)
    {
        var result = await CliRunner.RunAsync("sql", "--lake", lake, "--format", "csv", query);
        Assert.True(result.ExitCode == 0, result.Stderr);
        return [.. result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1)];
    }

    private const string SilverRows = "SELECT event_id, event_date, bronze_position, tti_ms FROM silver.webperf ORDER BY event_id, event_date";
    private const string QuarantineRows =
        "SELECT bronze_position, rule, message, replay_outcome, replay_silver_position, replay_silver_event_date FROM silver.webperf_quarantine ORDER BY bronze_position";

    [Fact]
    public async Task Replay_AfterTheRuleIsLoosened_MovesTheSlowPagesAndKeepsTheMalformedOnes()
    {
        var quarantined = await QuarantineThenLoosenAsync(4000);
        var before = await SqlAsync(Lake, "SELECT count(*) FILTER (rule = 'tti_in_range'), count(*) FROM silver.webperf_quarantine");
        var silverBefore = long.Parse((await SqlAsync(Lake, "SELECT count(*) FROM silver.webperf"))[0], CultureInfo.InvariantCulture);
        var slow = long.Parse(before[0].Split(',')[0], CultureInfo.InvariantCulture);

        var dry = await CliRunner.RunAsync("silver", "replay", "--lake", Lake, "--dataset", "webperf", "--dry-run", "--json");
        var replay = await CliRunner.RunAsync("silver", "replay", "--lake", Lake, "--dataset", "webperf", "--json");
        var again = await CliRunner.RunAsync("silver", "replay", "--lake", Lake, "--dataset", "webperf");

        Assert.True(replay.ExitCode == 0, replay.Stderr);
        Assert.True(slow > 100 && slow < quarantined, $"{slow} of {quarantined} quarantined rows broke tti_in_range");
        var d = JsonDocument.Parse(dry.Stdout).RootElement;
        var r = JsonDocument.Parse(replay.Stdout).RootElement;
        Assert.Equal((quarantined, slow, quarantined - slow), (r.GetProperty("rows").GetInt64(), r.GetProperty("movedToSilver").GetInt64() + r.GetProperty("duplicates").GetInt64(), r.GetProperty("stillQuarantined").GetInt64()));
        Assert.Equal((true, r.GetProperty("movedToSilver").GetInt64()), (d.GetProperty("dryRun").GetBoolean(), d.GetProperty("movedToSilver").GetInt64()));
        Assert.Equal([(silverBefore + r.GetProperty("movedToSilver").GetInt64()).ToString(CultureInfo.InvariantCulture)], await SqlAsync(Lake, "SELECT count(*) FROM silver.webperf"));
        Assert.Equal(["1"], await SqlAsync(Lake, "SELECT max(c) FROM (SELECT count(*) AS c FROM silver.webperf GROUP BY event_id)"));
        Assert.Equal(["0"], await SqlAsync(Lake, "SELECT count(*) FROM silver.webperf_quarantine WHERE rule LIKE '%tti_in_range%' AND replay_outcome = 'quarantined'"));
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.StartsWith($"silver.webperf_quarantine: replayed {quarantined - slow:N0} rows: 0 moved to silver, 0 duplicates", again.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replay_KilledAtCrashPointsThenReplayed_SameTablesAsOneCleanReplay()
    {
        await QuarantineThenLoosenAsync(12_000);
        var reference = _temp.Combine("reference");
        SilverRunCommandTests.CopyDirectory(Lake, reference);
        var clean = await CliRunner.RunAsync("silver", "replay", "--lake", reference, "--dataset", "webperf");
        Assert.True(clean.ExitCode == 0, clean.Stderr);

        // SIGKILL at the write path's crash points (LAKEHOUSE_FAULT_POINT, see Lakehouse.Delta.Write.FaultPoint), not at random
        // times: a replay on a quiet machine can end before any timer fires. In order: silver's data files written but not committed;
        // silver committed, quarantine not yet; then whatever the next replay writes first, before and after its data files.
        string[] args = ["silver", "replay", "--lake", Lake, "--dataset", "webperf"];
        var kills = 0;
        foreach (var point in new[] { "after-data-files:1", "after-commit:1", "before-data-files:1", "after-data-files:1" })
        {
            var run = await CliRunner.RunAsync(new Dictionary<string, string> { ["LAKEHOUSE_FAULT_POINT"] = point }, args);
            if (run.ExitCode == 137) kills++;
            else Assert.True(run.ExitCode == 0, $"{point}: exit {run.ExitCode}: {run.Stderr}");
        }
        var last = await CliRunner.RunAsync(args);

        Assert.True(last.ExitCode == 0, last.Stderr);
        Assert.True(kills >= 3, $"only {kills} of 4 crash points were reached");
        Assert.Equal(await SqlAsync(reference, SilverRows), await SqlAsync(Lake, SilverRows));
        Assert.Equal(await SqlAsync(reference, QuarantineRows), await SqlAsync(Lake, QuarantineRows));
    }

    [Fact]
    public async Task Run_BatchOverTheQuarantineGate_ExitOneNothingCommittedAndTheWebhookTold()
    {
        var landing = _temp.Combine("landing");
        var produced = await CliRunner.RunAsync("produce", "--dataset", "weblogs", "--events", "2000", "--seed", "3", "--malformed", "0.08", "--to", landing);
        Assert.True(produced.ExitCode == 0, produced.Stderr);
        foreach (var f in Directory.GetFiles(landing)) File.SetLastWriteTimeUtc(f, DateTime.UtcNow.AddMinutes(-1));
        var show = await CliRunner.RunAsync("dataset", "show", "weblogs");
        Directory.CreateDirectory(Path.GetDirectoryName(Definition(Lake))!);
        await File.WriteAllTextAsync(Definition(Lake), show.Stdout.Replace("\"name\": \"weblogs\"", "\"name\": \"webperf\"", StringComparison.Ordinal)
            .Replace("\"gold_outputs\"", "\"quality_gates\": { \"max_quarantine_share\": 0.05 },\n  \"gold_outputs\"", StringComparison.Ordinal));
        Assert.Equal(0, (await CliRunner.RunAsync("bronze", "ingest", "--lake", Lake, "--dataset", "webperf", "--from", landing)).ExitCode);
        await using var receiver = WebhookReceiver.Start(_ => new Reply(200));

        var run = await CliRunner.RunAsync(new Dictionary<string, string> { ["LAKEHOUSE_ALERT_WEBHOOK_URL"] = receiver.Uri.ToString() },
            "silver", "run", "--lake", Lake, "--dataset", "webperf");

        Assert.Equal(1, run.ExitCode);
        Assert.Matches(@"^error: silver\.webperf: quality gate max_quarantine_share refused the batch: 1[0-9]{2} of 2,000 rows would be quarantined \([0-9.]+ %, most of them for malformed_json \([0-9]+\)\), more than the 5 % allowed; nothing of it was committed\.", run.Stderr);
        Assert.False(Directory.Exists(Path.Combine(Lake, "silver", "webperf")));
        Assert.False(Directory.Exists(Path.Combine(Lake, "silver", "webperf_quarantine")));
        Assert.Equal(["refused"], await SqlAsync(Lake, "SELECT DISTINCT status FROM silver._quality"));
        var request = Assert.Single(receiver.Requests);
        Assert.Equal(("max_quarantine_share", "webperf"), (JsonDocument.Parse(request.Body).RootElement.GetProperty("gate").GetString(), JsonDocument.Parse(request.Body).RootElement.GetProperty("dataset").GetString()));
    }
}
