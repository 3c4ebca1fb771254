using System.Globalization;

using System.Text.Json;
using Lakehouse.CrashHarness;
using Lakehouse.Testing;

namespace Lakehouse.Cli.Tests;

/// <summary><c>lakehouse silver run</c> as a user runs it: simulator data with hostile lines, reruns, usage errors, SIGKILL.</summary>
public sealed class SilverRunCommandTests : IDisposable
{
    private readonly TempDirectory _temp = new("silver-run");

    public void Dispose() => _temp.Dispose();

    private string Lake => _temp.Combine("lake");

    private string Landing => _temp.Combine("landing");

    private async Task ProduceAndIngestAsync(int events, int seed, params string[] hostile)
    {
        var produced = await CliRunner.RunAsync("produce", "--dataset", "weblogs", "--events", events.ToString(CultureInfo.InvariantCulture), "--seed", seed.ToString(CultureInfo.InvariantCulture),
            "--duplicates", "0.05", "--malformed", "0.02", "--late", "0.02", "--to", Landing);
        Assert.True(produced.ExitCode == 0, produced.Stderr);
        if (hostile.Length > 0) await File.WriteAllTextAsync(Path.Combine(Landing, "hostile.ndjson"), string.Join('\n', hostile) + "\n");
        foreach (var f in Directory.GetFiles(Landing)) File.SetLastWriteTimeUtc(f, DateTime.UtcNow.AddMinutes(-1));
        var ingested = await CliRunner.RunAsync("bronze", "ingest", "--lake", Lake, "--dataset", "weblogs", "--from", Landing);
        Assert.True(ingested.ExitCode == 0, ingested.Stderr);
    }

    private static async Task<List<string>> SqlAsync(string lake, string query)
    {
        var result = await CliRunner.RunAsync("sql", "--lake", lake, "--format", "csv", query);
        Assert.True(result.ExitCode == 0, result.Stderr);
        return [.. result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1)];
    }

    [Fact]
    public async Task Run_EveryDatasetOneFails_TheOthersAreBuiltTheFailureNamedExit1()
    {
        await CliRunner.LandAsync(Lake, Landing, 1000, "29", "weblogs", "sensors");
        // sensors runs first (datasets go by name): a damaged silver table of it used to end the run before weblogs was parsed.
        var run = await CliRunner.RunWithSensorsDamagedAsync(Lake, "silver", "sensors");

        Assert.Contains("silver.weblogs: ", run.Stdout, StringComparison.Ordinal);
        Assert.Equal(["1000"], await SqlAsync(Lake, "SELECT count(*) FROM silver.weblogs"));
    }

    [Fact]
    public async Task Run_SimulatorDataWithHostileLines_ExactSilverAndQuarantineCounts()
    {
        string[] hostile =
        [
            "{\"event_id\":\"h1\",\"timestamp\":\"2024-05-03T07:54:52Z\",\"page_url\":\"/a\",\"tti_ms\":\"12\",\"status\":200,\"session_id\":\"s\"}",
            "{\"event_id\":\"h2\",\"timestamp\":\"2024-05-03T07:54:52Z\",\"page_url\":\"/a\",\"tti_ms\":1e999,\"status\":200,\"session_id\":\"s\"}",
            "{\"event_id\":\"h3\",\"timestamp\":\"2024-05-03T07:54:52Z\",\"page_url\":\"/a\",\"tti_ms\":1,\"tti_ms\":2,\"status\":200,\"session_id\":\"s\"}",
            "{\"event_id\":\"h4\",\"timestamp\":\"yesterday\",\"page_url\":\"/a\",\"tti_ms\":1,\"status\":200,\"session_id\":\"s\"}",
            "{\"event_id\":\"h5\",\"timestamp\":\"2024-05-03T07:54:52Z\",\"page_url\":\"/a\",\"tti_ms\":-1,\"status\":200,\"session_id\":\"s\"}",
            "{\"event_id\":null}",
            "\"just a string\"",
        ];
        await ProduceAndIngestAsync(5000, 11, hostile);
        var produced = JsonDocument.Parse((await CliRunner.RunAsync("produce", "--dataset", "weblogs", "--events", "5000", "--seed", "11",
            "--duplicates", "0.05", "--malformed", "0.02", "--late", "0.02", "--to", _temp.Combine("again"), "--json")).Stdout).RootElement;
        var duplicates = produced.GetProperty("duplicates").GetInt64();
        var malformed = produced.GetProperty("malformed").GetInt64();

        var run = await CliRunner.RunAsync("silver", "run", "--lake", Lake, "--json");

        Assert.True(run.ExitCode == 0, run.Stderr);
        var result = JsonDocument.Parse(run.Stdout).RootElement;
        Assert.Equal(5000 + hostile.Length, result.GetProperty("rowsIn").GetInt64());
        Assert.Equal(malformed + hostile.Length, result.GetProperty("quarantined").GetInt64());
        Assert.Equal(duplicates, result.GetProperty("duplicates").GetInt64());
        Assert.Equal(5000 - malformed - duplicates, result.GetProperty("rowsOut").GetInt64());
        Assert.Equal([(5000 - malformed - duplicates).ToString(CultureInfo.InvariantCulture)], await SqlAsync(Lake, "SELECT count(*) FROM silver.weblogs"));
        Assert.Equal(["1"], await SqlAsync(Lake, "SELECT max(c) FROM (SELECT count(*) AS c FROM silver.weblogs GROUP BY event_id)"));
        var rules = await SqlAsync(Lake, "SELECT rule FROM silver.weblogs_quarantine WHERE payload_text LIKE '%\"h_\"%' OR payload_text LIKE '{\"event_id\":null}' OR payload_text LIKE '\"just%' ORDER BY payload_text");
        Assert.Equal(["not_an_object", "wrong_type", "out_of_range", "duplicate_key", "wrong_type", "tti_in_range",
            "\"event_id_present, page_url_present, status_present, timestamp_present, tti_present\""], rules);

        var status = await CliRunner.RunAsync("status", "--lake", Lake, "--json");
        Assert.True(status.ExitCode == 0, status.Stderr);
        var weblogs = JsonDocument.Parse(status.Stdout).RootElement.GetProperty("datasets")[0];
        Assert.Equal(("weblogs", 0L, 0L, 0L), (weblogs.GetProperty("dataset").GetString(), weblogs.GetProperty("bronzeVersion").GetInt64(),
            weblogs.GetProperty("silverConsumedVersion").GetInt64(), weblogs.GetProperty("pendingBronzeCommits").GetInt64()));
        var last = weblogs.GetProperty("lastSilverRun");
        Assert.Equal(("committed", 5000L + hostile.Length, malformed + hostile.Length, duplicates), (last.GetProperty("status").GetString(), last.GetProperty("rowsIn").GetInt64(),
            last.GetProperty("quarantined").GetInt64(), last.GetProperty("duplicates").GetInt64()));
        Assert.Contains(last.GetProperty("rules").EnumerateArray(), r => r.GetProperty("rule").GetString() == "duplicate_key" && r.GetProperty("failed").GetInt64() == 1);
    }

    [Fact]
    public async Task Run_KilledAtRandomPointsThenRerun_SameRowsAsOneCleanRun()
    {
        await ProduceAndIngestAsync(60_000, 5);
        var reference = _temp.Combine("reference");
        CopyDirectory(Path.Combine(Lake, "bronze"), Path.Combine(reference, "bronze"));
        string[] args = ["silver", "run", "--lake", Lake, "--max-rows-per-commit", "1000"];
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var clean = await CliRunner.RunAsync("silver", "run", "--lake", reference, "--max-rows-per-commit", "1000");
        var cleanMs = clock.Elapsed.TotalMilliseconds;
        Assert.True(clean.ExitCode == 0, clean.Stderr);

        // Each kill comes 10 to 35 % of a clean run's time after the start: however fast this machine, at least two of the four
        // attempts are killed with work left.
        var random = new Random(42);
        var kills = 0;
        for (var attempt = 0; attempt < 4; attempt++)
        {
            using var process = LakehouseChild.Start(args);
            await Task.Delay(TimeSpan.FromMilliseconds(cleanMs * (0.10 + 0.25 * random.NextDouble())));
            if (process.Kill()) kills++;
            await process.WaitAsync();
        }
        var last = await CliRunner.RunAsync(args);

        Assert.True(last.ExitCode == 0, last.Stderr);
        Assert.True(kills >= 2, $"silver finished before it could be killed ({kills} kills)");
        const string silverRows = "SELECT event_id, \"timestamp\", page_url, tti_ms, ttar_ms, status, session_id, event_date, bronze_position FROM silver.weblogs ORDER BY event_id";
        const string quarantineRows = "SELECT bronze_position, rule, message, event_date, md5(payload) FROM silver.weblogs_quarantine ORDER BY bronze_position";
        Assert.Equal(await SqlAsync(reference, silverRows), await SqlAsync(Lake, silverRows));
        Assert.Equal(await SqlAsync(reference, quarantineRows), await SqlAsync(Lake, quarantineRows));
    }

    [Fact]
    public async Task Run_UsageErrors_ExitTwoWithTheReason()
    {
        Directory.CreateDirectory(Lake); // an empty lake (a missing one is refused before the tables are looked for)
        var onlyFrom = await CliRunner.RunAsync("silver", "run", "--lake", Lake, "--from", "2024-05-01");
        var badDate = await CliRunner.RunAsync("silver", "run", "--lake", Lake, "--from", "2024-13-01", "--to", "2024-05-02");
        var edge = await CliRunner.RunAsync("gold", "run", "--lake", Lake, "--from", "0001-01-01", "--to", "2024-05-02");
        var noBronze = await CliRunner.RunAsync("silver", "run", "--lake", Lake);
        var unknownRule = await CliRunner.RunAsync("silver", "run", "--lake", Lake, "--dataset", "weblogs", "--enable-rule", "nope");

        Assert.Equal(2, onlyFrom.ExitCode);
        Assert.Contains("--from and --to go together", onlyFrom.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, badDate.ExitCode);
        Assert.Contains("--from must be a date as YYYY-MM-DD, not '2024-13-01'", badDate.Stderr, StringComparison.Ordinal);
        Assert.Equal((2, "error: --from 0001-01-01 is outside 1000-01-01..8999-12-31, the event dates the lake takes\n"), (edge.ExitCode, edge.Stderr.Split("\n(")[0]));
        Assert.Equal(1, noBronze.ExitCode);
        Assert.Contains("no bronze tables yet", noBronze.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, unknownRule.ExitCode);
        Assert.Contains("no expectation named 'nope'", unknownRule.Stderr, StringComparison.Ordinal);
    }

    /// <summary>
    /// A custom dataset whose definition file is removed after its events were ingested: silver run and status say that the
    /// bronze table has no definition and where it belongs (before: "The lake has no bronze tables yet" and "No dataset has a
    /// bronze table", while table list showed bronze.clicks); with another dataset to build, silver builds it and warns.
    /// </summary>
    [Fact]
    public async Task RunAndStatus_DefinitionRemovedAfterIngest_NameTheMissingDefinitionNotNoBronze()
    {
        var definitions = Path.Combine(Lake, "_lakehouse", "datasets");
        Directory.CreateDirectory(definitions);
        foreach (var name in new[] { "clicks", "views" })
        {
            await File.WriteAllTextAsync(Path.Combine(definitions, name + ".json"), $$"""
                { "name": "{{name}}", "payload": "json", "columns": [ { "name": "id", "type": "string" }, { "name": "at", "type": "timestamp" } ],
                  "event_time": "at", "id": ["id"] }
                """);
            var landing = Path.Combine(Landing, name);
            Directory.CreateDirectory(landing);
            await File.WriteAllTextAsync(Path.Combine(landing, "a.ndjson"), "{\"id\":\"a\",\"at\":\"2026-01-05T10:00:00Z\"}\n");
            File.SetLastWriteTimeUtc(Path.Combine(landing, "a.ndjson"), DateTime.UtcNow.AddMinutes(-1));
            var ingested = await CliRunner.RunAsync("bronze", "ingest", "--lake", Lake, "--dataset", name, "--from", landing);
            Assert.True(ingested.ExitCode == 0, ingested.Stderr);
        }
        File.Delete(Path.Combine(definitions, "clicks.json"));
        var missing = $"bronze.clicks exists, but no definition of dataset 'clicks' is found: it belongs in {Path.Combine(definitions, "clicks.json")}, which is not there. " +
            "Put the definition back as that file (check it first with 'lakehouse dataset check clicks.json'; 'lakehouse dataset list' shows the datasets the lake knows).";

        var named = await CliRunner.RunAsync("silver", "run", "--lake", Lake, "--dataset", "clicks");
        var all = await CliRunner.RunAsync("silver", "run", "--lake", Lake);
        var status = await CliRunner.RunAsync("status", "--lake", Lake, "--json");

        Assert.Equal((1, "error: " + missing + "\n"), (named.ExitCode, named.Stderr));
        Assert.True(all.ExitCode == 0, all.Stderr);
        Assert.Equal("warning: skipped: " + missing + "\n", all.Stderr);
        Assert.StartsWith("silver.views: ", all.Stdout, StringComparison.Ordinal);
        Assert.True(status.ExitCode == 0, status.Stderr);
        using var json = JsonDocument.Parse(status.Stdout);
        Assert.Equal(["views"], json.RootElement.GetProperty("datasets").EnumerateArray().Select(d => d.GetProperty("dataset").GetString()));
        var undefined = Assert.Single(json.RootElement.GetProperty("withoutDefinition").EnumerateArray());
        Assert.Equal(("clicks", 0L, Path.Combine(definitions, "clicks.json")),
            (undefined.GetProperty("dataset").GetString(), undefined.GetProperty("bronzeVersion").GetInt64(), undefined.GetProperty("definition").GetString()));

        File.Delete(Path.Combine(definitions, "views.json"));
        var none = await CliRunner.RunAsync("silver", "run", "--lake", Lake);
        var text = await CliRunner.RunAsync("status", "--lake", Lake);
        Assert.Equal((1, "error: bronze.clicks, bronze.views exist, but no definition of their datasets is found: they belong in " +
            $"{Path.Combine(definitions, "clicks.json")}, {Path.Combine(definitions, "views.json")}, which are not there. Put the definitions back as those files " +
            "(check each first with 'lakehouse dataset check <name>.json'; 'lakehouse dataset list' shows the datasets the lake knows).\n"), (none.ExitCode, none.Stderr));
        Assert.True(text.ExitCode == 0, text.Stderr);
        Assert.Matches(@"\nclicks +0 +- +- +no definition +", text.Stdout);
        Assert.Matches(@"\nviews +0 +- +- +no definition +", text.Stdout);
        Assert.DoesNotContain("No dataset has a bronze table", text.Stdout, StringComparison.Ordinal);
    }

    internal static void CopyDirectory(string from, string to)
    {
        foreach (var dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories)) Directory.CreateDirectory(dir.Replace(from, to, StringComparison.Ordinal));
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories)) File.Copy(file, file.Replace(from, to, StringComparison.Ordinal));
    }
}
