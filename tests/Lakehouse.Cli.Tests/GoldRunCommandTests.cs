using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Lakehouse.CrashHarness;
using Lakehouse.Testing;

namespace Lakehouse.Cli.Tests;

/// <summary><c>lakehouse gold run</c> as a user runs it, checked from outside against the events the simulator produced.</summary>
public sealed class GoldRunCommandTests : IDisposable
{
    private readonly TempDirectory _temp = new("gold-run");

    public void Dispose() => _temp.Dispose();

    private string Lake => _temp.Combine("lake");

    private string Landing => _temp.Combine("landing");

    private static async Task<List<string>> SqlAsync(string lake, string query)
    {
        var result = await CliRunner.RunAsync("sql", "--lake", lake, "--format", "csv", query);
        Assert.True(result.ExitCode == 0, result.Stderr);
        return [.. result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1)];
    }

    private static async Task RunAsync(params string[] args)
    {
        var result = await CliRunner.RunAsync(args);
        Assert.True(result.ExitCode == 0, $"{string.Join(' ', args)}: {result.Stderr}");
    }

    [Fact]
    public async Task Run_SimulatorEvents_DailyCountsAndAverageTtiEqualThoseOfTheProducedEvents()
    {
        await RunAsync("produce", "--dataset", "weblogs", "--events", "20000", "--seed", "21", "--duplicates", "0.05", "--late", "0.03", "--to", Landing);
        foreach (var f in Directory.GetFiles(Landing)) File.SetLastWriteTimeUtc(f, DateTime.UtcNow.AddMinutes(-1));
        await RunAsync("bronze", "ingest", "--lake", Lake, "--dataset", "weblogs", "--from", Landing);
        await RunAsync("silver", "run", "--lake", Lake);

        var run = await CliRunner.RunAsync("gold", "run", "--lake", Lake, "--json");

        Assert.True(run.ExitCode == 0, run.Stderr);
        // From outside: the produced NDJSON, one row per event id, grouped by the UTC day of its timestamp.
        var events = new Dictionary<string, (DateOnly Day, double Tti)>(StringComparer.Ordinal);
        foreach (var line in Directory.GetFiles(Landing).SelectMany(File.ReadLines).Where(l => l.Length > 0))
        {
            using var doc = JsonDocument.Parse(line);
            var e = doc.RootElement;
            var day = DateOnly.FromDateTime(DateTimeOffset.Parse(e.GetProperty("timestamp").GetString()!, CultureInfo.InvariantCulture).UtcDateTime);
            events.TryAdd(e.GetProperty("event_id").GetString()!, (day, e.GetProperty("tti_ms").GetDouble()));
        }
        var expected = events.Values.GroupBy(e => e.Day).OrderBy(g => g.Key)
            .Select(g => $"{g.Key:yyyy-MM-dd},{g.Count()},{g.Average(e => e.Tti):0.000}").ToList();
        var gold = await SqlAsync(Lake,
            "SELECT strftime(event_date, '%Y-%m-%d'), sum(events), printf('%.3f', sum(tti_avg_ms * events) / sum(events)) FROM gold.page_performance_daily GROUP BY 1 ORDER BY 1");
        Assert.Equal(expected, gold);
        var result = JsonDocument.Parse(run.Stdout).RootElement;
        Assert.Equal(expected.Count, result.GetProperty("dates").GetArrayLength());
        Assert.Equal(events.Count, result.GetProperty("rowsIn").GetInt64());

        var status = await CliRunner.RunAsync("status", "--lake", Lake, "--json");
        Assert.True(status.ExitCode == 0, status.Stderr);
        var weblogs = JsonDocument.Parse(status.Stdout).RootElement.GetProperty("datasets")[0];
        var lastGold = weblogs.GetProperty("lastGoldRun");
        Assert.Equal((0L, 0L, 0L, "committed", expected.Count), (weblogs.GetProperty("silverVersion").GetInt64(), weblogs.GetProperty("goldConsumedVersion").GetInt64(),
            weblogs.GetProperty("pendingSilverCommits").GetInt64(), lastGold.GetProperty("status").GetString(), lastGold.GetProperty("dates").GetInt32()));

        var again = await CliRunner.RunAsync("gold", "run", "--lake", Lake);
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Contains("gold (weblogs): up to date (silver version 0 already consumed)", again.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_EveryDatasetOneFails_TheOthersAreBuiltTheFailureNamedExit1()
    {
        await CliRunner.LandAsync(Lake, Landing, 2000, "29", "weblogs", "sensors");
        await RunAsync("silver", "run", "--lake", Lake);
        // sensors runs first (datasets go by name): a damaged gold table of it used to end the run before weblogs was built.
        var run = await CliRunner.RunWithSensorsDamagedAsync(Lake, "gold", "sensor_metrics_1m");

        Assert.Contains("gold (weblogs): silver versions 0..0", run.Stdout, StringComparison.Ordinal);
        Assert.Equal(await SqlAsync(Lake, "SELECT count(*) FROM silver.weblogs"), await SqlAsync(Lake, "SELECT sum(events) FROM gold.page_performance_daily"));
    }

    [Fact]
    public async Task Restore_SilverOrGoldToAnEarlierVersion_NextRunsTakeBackWhatTheRestoreTookOut()
    {
        foreach (var seed in new[] { "31", "32" })
        {
            var landing = _temp.Combine("landing-" + seed);
            await RunAsync("produce", "--dataset", "weblogs", "--events", "3000", "--seed", seed, "--to", landing);
            foreach (var f in Directory.GetFiles(landing)) File.SetLastWriteTimeUtc(f, DateTime.UtcNow.AddMinutes(-1));
            await RunAsync("bronze", "ingest", "--lake", Lake, "--dataset", "weblogs", "--from", landing);
            await RunAsync("silver", "run", "--lake", Lake);
            await RunAsync("gold", "run", "--lake", Lake);
        }
        const string silverRows = "SELECT count(*), count(DISTINCT event_id), sum(hash(event_id)) FROM silver.weblogs";
        const string goldEvents = "SELECT sum(events) FROM gold.page_performance_daily";
        var before = await SqlAsync(Lake, silverRows);
        Assert.Equal(await SqlAsync(Lake, "SELECT count(*) FROM silver.weblogs"), await SqlAsync(Lake, goldEvents));

        var restore = await CliRunner.RunAsync("table", "restore", "silver.weblogs", "--version", "0", "--lake", Lake);
        Assert.True(restore.ExitCode == 0, restore.Stderr);
        Assert.Contains(" progress marker(s) set back to version 0's", restore.Stdout, StringComparison.Ordinal);
        Assert.NotEqual(before, await SqlAsync(Lake, silverRows));
        await RunAsync("silver", "run", "--lake", Lake);

        Assert.Equal(before, await SqlAsync(Lake, silverRows));
        await RunAsync("gold", "run", "--lake", Lake);
        Assert.Equal(await SqlAsync(Lake, "SELECT count(*) FROM silver.weblogs"), await SqlAsync(Lake, goldEvents));

        var gold = await CliRunner.RunAsync("table", "restore", "gold.page_performance_daily", "--version", "0", "--lake", Lake);
        Assert.True(gold.ExitCode == 0, gold.Stderr);
        Assert.NotEqual(await SqlAsync(Lake, "SELECT count(*) FROM silver.weblogs"), await SqlAsync(Lake, goldEvents));
        await RunAsync("gold", "run", "--lake", Lake);
        Assert.Equal(await SqlAsync(Lake, "SELECT count(*) FROM silver.weblogs"), await SqlAsync(Lake, goldEvents));
    }

    [Fact]
    public async Task Status_OneDatasetsGoldTableDamaged_NamesItAndStillShowsTheOtherDatasetExit1()
    {
        await CliRunner.LandAsync(Lake, Landing, 2000, "23", "weblogs", "sensors");
        await RunAsync("silver", "run", "--lake", Lake);
        await RunAsync("gold", "run", "--lake", Lake);
        var log = Path.Combine(Lake, "gold", "page_performance_daily", "_delta_log");
        File.WriteAllText(Directory.GetFiles(log, "*.json").Order(StringComparer.Ordinal).Last(), "{\"add\": not json\n");

        var text = await CliRunner.RunAsync("status", "--lake", Lake);
        var json = await CliRunner.RunAsync("status", "--lake", Lake, "--json");

        Assert.Equal(1, text.ExitCode);
        Assert.Contains("weblogs: cannot be shown: ", text.Stderr, StringComparison.Ordinal);
        Assert.Contains("page_performance_daily", text.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", text.Stderr, StringComparison.Ordinal);
        // sensors in the silver and the gold table; weblogs in the silver one only, its gold being unreadable.
        var lines = text.Stdout.Split('\n');
        Assert.Equal(2, lines.Count(l => l.StartsWith("sensors ", StringComparison.Ordinal) && l.Contains(" committed", StringComparison.Ordinal)));
        Assert.Single(lines, l => l.StartsWith("weblogs ", StringComparison.Ordinal));
        Assert.Equal(1, json.ExitCode);
        var root = JsonDocument.Parse(json.Stdout).RootElement;
        var problem = Assert.Single(root.GetProperty("problems").EnumerateArray());
        Assert.Equal("weblogs", problem.GetProperty("dataset").GetString());
        Assert.Contains("page_performance_daily", problem.GetProperty("message").GetString(), StringComparison.Ordinal);
        var sensors = root.GetProperty("datasets").EnumerateArray().Single(d => d.GetProperty("dataset").GetString() == "sensors");
        Assert.Equal((2000L, "committed"), (sensors.GetProperty("lastSilverRun").GetProperty("rowsIn").GetInt64(), sensors.GetProperty("lastGoldRun").GetProperty("status").GetString()));
    }

    [Fact]
    public async Task Serve_AfterGoldRun_DashboardShowsTheNumbersInGoldAndTheRun()
    {
        await RunAsync("produce", "--dataset", "weblogs", "--events", "3000", "--seed", "22", "--to", Landing);
        foreach (var f in Directory.GetFiles(Landing)) File.SetLastWriteTimeUtc(f, DateTime.UtcNow.AddMinutes(-1));
        await RunAsync("bronze", "ingest", "--lake", Lake, "--dataset", "weblogs", "--from", Landing);
        await RunAsync("silver", "run", "--lake", Lake);
        await RunAsync("gold", "run", "--lake", Lake);
        var latest = (await SqlAsync(Lake, "SELECT strftime(max(event_date), '%Y-%m-%d') FROM gold.page_performance_daily")).Single();
        var busiest = await SqlAsync(Lake,
            $"SELECT page_url, events, printf('%.6f', tti_p95_ms) FROM gold.page_performance_daily WHERE event_date = DATE '{latest}' ORDER BY events DESC, page_url LIMIT 3");
        var windows = (await SqlAsync(Lake, "SELECT count(*) FROM gold.page_metrics_1m")).Single();

        var (serve, port) = await CliRunner.StartListeningAsync(p => ["serve", "--lake", Lake, "--urls", $"http://127.0.0.1:{p}"]);
        using var started = serve;
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        var pages = JsonDocument.Parse(await client.GetStringAsync("/api/pages")).RootElement;
        var runs = JsonDocument.Parse(await client.GetStringAsync("/api/runs")).RootElement;
        var minutes = JsonDocument.Parse(await client.GetStringAsync("/api/windows?table=page_metrics_1m&limit=1000")).RootElement;
        await serve.SignalAsync("INT");
        await serve.WaitAsync();

        Assert.Equal(latest, pages.GetProperty("date").GetString());
        var shown = pages.GetProperty("pages").GetProperty("rows").EnumerateArray()
            .Select(r => $"{r.GetProperty("page_url").GetString()},{r.GetProperty("events").GetInt64()},{r.GetProperty("tti_p95_ms").GetDouble().ToString("F6", CultureInfo.InvariantCulture)}")
            .ToList();
        Assert.Equal(busiest, shown.Take(3));
        var run = runs.GetProperty("runs").GetProperty("rows").EnumerateArray().Single();
        Assert.Equal(("weblogs", "committed"), (run.GetProperty("dataset").GetString(), run.GetProperty("status").GetString()));
        Assert.Equal("ok", minutes.GetProperty("windows").GetProperty("status").GetString());
        Assert.Equal(Math.Min(long.Parse(windows, CultureInfo.InvariantCulture), 1000), minutes.GetProperty("windows").GetProperty("rows").GetArrayLength());
    }

    [Fact]
    public async Task Run_KilledAtRandomPointsThenRerun_SameGoldAsOneCleanRun()
    {
        await RunAsync("produce", "--dataset", "weblogs", "--events", "200000", "--seed", "23", "--duplicates", "0.02", "--late", "0.05", "--to", Landing);
        foreach (var f in Directory.GetFiles(Landing)) File.SetLastWriteTimeUtc(f, DateTime.UtcNow.AddMinutes(-1));
        await RunAsync("bronze", "ingest", "--lake", Lake, "--dataset", "weblogs", "--from", Landing);
        await RunAsync("silver", "run", "--lake", Lake);
        var reference = _temp.Combine("reference");
        SilverRunCommandTests.CopyDirectory(Lake, reference);
        var clock = Stopwatch.StartNew();
        await RunAsync("gold", "run", "--lake", reference);
        var cleanMs = clock.Elapsed.TotalMilliseconds;

        // Each kill comes 10 to 60 % of a clean run's time after the start: however fast this machine, most attempts are killed
        // with work left (a fixed delay let a faster gold finish first).
        var random = new Random(43);
        var kills = 0;
        for (var attempt = 0; attempt < 5; attempt++)
        {
            using var process = LakehouseChild.Start(["gold", "run", "--lake", Lake]);
            await Task.Delay(TimeSpan.FromMilliseconds(cleanMs * (0.10 + 0.50 * random.NextDouble())));
            if (process.Kill()) kills++;
            await process.WaitAsync();
        }
        await RunAsync("gold", "run", "--lake", Lake);

        Assert.True(kills >= 2, $"gold finished before it could be killed ({kills} kills)");
        // Every value exactly: averages are sums of exact decimals, percentiles come from sorted values.
        string[] queries =
        [
            "SELECT * FROM gold.page_performance_daily ORDER BY ALL",
            "SELECT * FROM gold.page_metrics_1m ORDER BY ALL",
            "SELECT * FROM gold.page_metrics_5m ORDER BY ALL",
            "SELECT * FROM gold.page_sessions ORDER BY ALL",
            "SELECT * EXCLUDE (detected_at) FROM gold.alerts ORDER BY ALL",
        ];
        foreach (var q in queries) Assert.Equal(await SqlAsync(reference, q), await SqlAsync(Lake, q));
    }

    /// <summary>
    /// A rerun says what it did: the new silver commits it caught up first (it said "up to date … already consumed"), and,
    /// for a range without rows and nothing to catch up, that there was nothing to rebuild.
    /// </summary>
    [Fact]
    public async Task Rerun_RangeWithoutRows_SaysWhatItCaughtUpOrThatNothingWasRebuilt()
    {
        foreach (var (seed, start) in new[] { ("41", "2024-05-01"), ("42", "2024-05-04") })
        {
            var landing = _temp.Combine("landing-" + seed);
            await RunAsync("produce", "--dataset", "weblogs", "--events", "300", "--seed", seed, "--start", start, "--days", "1", "--to", landing);
            foreach (var f in Directory.GetFiles(landing)) File.SetLastWriteTimeUtc(f, DateTime.UtcNow.AddMinutes(-1));
            await RunAsync("bronze", "ingest", "--lake", Lake, "--dataset", "weblogs", "--from", landing);
            await RunAsync("silver", "run", "--lake", Lake);
            if (seed == "41") await RunAsync("gold", "run", "--lake", Lake);
        }

        var caughtUp = await CliRunner.RunAsync("gold", "run", "--lake", Lake, "--from", "2030-01-01", "--to", "2030-01-01");
        var nothing = await CliRunner.RunAsync("gold", "run", "--lake", Lake, "--from", "2030-01-01", "--to", "2030-01-01");

        Assert.True(caughtUp.ExitCode == 0, caughtUp.Stderr);
        // The catch-up read 2024-05-01 too: the watermark moved past its windows.
        Assert.StartsWith("gold (weblogs): silver versions 1..1, then rebuilt from silver version 1: 1 event date(s) (2024-05-04), 600 silver rows read", caughtUp.Stdout, StringComparison.Ordinal);
        Assert.Equal((0, "gold (weblogs): nothing to rebuild: no event date of the range holds rows in silver version 1 or in gold\n"), (nothing.ExitCode, nothing.Stdout));
        Assert.Equal(["incremental,0,1,300", "rerun,1,1,600"],
            await SqlAsync(Lake, "SELECT kind, silver_version_to, dates_recomputed, rows_in FROM gold._runs ORDER BY started_at"));
        Assert.Equal(["2024-05-01,300", "2024-05-04,300"],
            await SqlAsync(Lake, "SELECT strftime(event_date, '%Y-%m-%d'), sum(events) FROM gold.page_performance_daily GROUP BY 1 ORDER BY 1"));
    }

    [Fact]
    public async Task Run_UsageErrors_ExitTwoWithTheReason()
    {
        Directory.CreateDirectory(Lake); // an empty lake (a missing one is refused before the tables are looked for)
        var onlyTo = await CliRunner.RunAsync("gold", "run", "--lake", Lake, "--to", "2024-05-01");
        var badDelay = await CliRunner.RunAsync("gold", "run", "--lake", Lake, "--watermark-delay", "-5");
        var noSilver = await CliRunner.RunAsync("gold", "run", "--lake", Lake);
        var unknown = await CliRunner.RunAsync("gold", "run", "--lake", Lake, "--dataset", "nope");
        var help = await CliRunner.RunAsync("gold", "run", "--help");

        Assert.Equal(2, onlyTo.ExitCode);
        Assert.Contains("--from and --to go together", onlyTo.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, badDelay.ExitCode);
        Assert.Contains("--watermark-delay", badDelay.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, noSilver.ExitCode);
        Assert.Contains("no silver tables with gold outputs yet", noSilver.Stderr, StringComparison.Ordinal);
        Assert.NotEqual(0, unknown.ExitCode);
        Assert.Contains("nope", unknown.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("--watermark-delay", help.Stdout, StringComparison.Ordinal);
    }
}
