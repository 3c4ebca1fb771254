using System.Globalization;
using System.Text.Json;
using Lakehouse.Testing;

namespace Lakehouse.Cli.Tests;

/// <summary>
/// <c>lakehouse demo</c>, the README's first command: the three simulated datasets through the ADF medallion pipeline on the local
/// runner. Its counts are checked against the simulator's own account of what it sent and against the landing files; a second run
/// generates nothing and changes no table.
/// </summary>
public sealed class DemoCommandTests : IDisposable
{
    private readonly TempDirectory _temp = new("cli-demo");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Demo_RunTwice_EveryEventAccountedForOnceAndTheSecondRunSkipsEverything()
    {
        var lake = _temp.Combine("lake");
        var first = await CliRunner.RunAsync("demo", "--events", "3000", "--seed", "7", "--lake", lake);
        Assert.True(first.ExitCode == 0, first.Stderr);
        foreach (var dataset in new[] { "weblogs", "sensors", "accesslogs" })
        {
            Assert.Matches($@"  {dataset} +pipeline pl_medallion run [0-9a-f-]{{36}} Succeeded: Bronze [0-9.]+ s, Silver [0-9.]+ s, Gold [0-9.]+ s, RefreshSynapseViews", first.Stdout);
            Assert.Matches($@"  {dataset} +landing  [0-9,]+ simulated events in 1 file\(s\)", first.Stdout);
        }

        // The simulator's account of the same sends (same options as the demo's), from a separate run of it.
        using var sent = JsonDocument.Parse((await CliRunner.RunAsync("produce", "--dataset", "weblogs", "--events", "3000", "--seed", "7", "--duplicates", "0.02",
            "--malformed", "0.01", "--late", "0.02", "--to", _temp.Combine("check"), "--json")).Stdout);
        var duplicates = sent.RootElement.GetProperty("duplicates").GetInt64();
        var malformed = sent.RootElement.GetProperty("malformed").GetInt64();
        Assert.True(duplicates > 0 && malformed > 0);
        var landingLines = Directory.GetFiles(Path.Combine(lake, "_lakehouse", "landing", "weblogs"), "*.ndjson").Sum(f => File.ReadLines(f).Count());
        Assert.Equal(3000, landingLines);
        var silver = 3000 - duplicates - malformed;
        Assert.Matches($@"weblogs +3,000 +{N(silver)} +{N(malformed)} +{N(duplicates)} *\n", first.Stdout);

        var counts = await SqlAsync(lake, """
            SELECT (SELECT count(*) FROM bronze.weblogs) || '|' || (SELECT count(*) FROM silver.weblogs) || '|' || (SELECT count(*) FROM silver.weblogs_quarantine)
                   || '|' || (SELECT sum(events) FROM gold.page_performance_daily) || '|' || (SELECT count(*) FROM bronze.sensors) || '|' || (SELECT count(*) FROM bronze.accesslogs)
            """);
        Assert.Equal($"3000|{silver}|{malformed}|{silver}|1500|3000", counts);
        Assert.Equal(["Succeeded", "Succeeded", "Succeeded"], await RunStatusesAsync(lake));

        var before = Versions(lake);
        var second = await CliRunner.RunAsync("demo", "--events", "3000", "--seed", "7", "--lake", lake);
        Assert.True(second.ExitCode == 0, second.Stderr);
        foreach (var dataset in new[] { "weblogs", "sensors", "accesslogs" })
        {
            Assert.Matches($@"  {dataset} +landing  skipped: the [0-9,]+ events of seed 7 are already in the landing zone", second.Stdout);
            Assert.Matches($@"  {dataset} +skipped  nothing new: its \d+ tables \(bronze, silver, gold\) are unchanged", second.Stdout);
        }
        Assert.Equal(before, Versions(lake));
        Assert.Equal(counts, await SqlAsync(lake, """
            SELECT (SELECT count(*) FROM bronze.weblogs) || '|' || (SELECT count(*) FROM silver.weblogs) || '|' || (SELECT count(*) FROM silver.weblogs_quarantine)
                   || '|' || (SELECT sum(events) FROM gold.page_performance_daily) || '|' || (SELECT count(*) FROM bronze.sensors) || '|' || (SELECT count(*) FROM bronze.accesslogs)
            """));
        Assert.Equal(Enumerable.Repeat("Succeeded", 6), await RunStatusesAsync(lake));
    }

    [Fact]
    public async Task Demo_BadOptions_UsageErrors()
    {
        var r = await CliRunner.RunAsync("demo", "--events", "0", "--lake", _temp.Combine("lake"));
        Assert.Equal((2, "error: --events must be between 100 and 10000000\n"), (r.ExitCode, r.Stderr));
        var remote = await CliRunner.RunAsync("demo", "--lake", "abfss://c@acct.dfs.core.windows.net/x");
        Assert.Equal((2, "error: demo runs on a local lake folder (the embedded default); give --lake <folder>\n"), (remote.ExitCode, remote.Stderr));
        var pipelines = await CliRunner.RunAsync("demo", "--pipelines", _temp.Combine("nowhere"), "--lake", _temp.Combine("lake"));
        Assert.Equal((2, $"error: --pipelines: there is no pipeline/pl_medallion.json in '{_temp.Combine("nowhere")}'\n"), (pipelines.ExitCode, pipelines.Stderr));
        Assert.False(Directory.Exists(_temp.Combine("lake")));
    }

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>The status of every pl_medallion run in the lake's pipeline history (<c>lakehouse pipeline runs --json</c>).</summary>
    private static async Task<List<string?>> RunStatusesAsync(string lake)
    {
        var r = await CliRunner.RunAsync("pipeline", "runs", "--json", "--lake", lake);
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var runs = JsonDocument.Parse(r.Stdout);
        return [.. runs.RootElement.EnumerateArray().Where(x => x.GetProperty("pipeline").GetString() == "pl_medallion").Select(x => x.GetProperty("status").GetString())];
    }

    private static async Task<string> SqlAsync(string lake, string sql)
    {
        var r = await CliRunner.RunAsync("sql", sql, "--format", "csv", "--lake", lake);
        Assert.True(r.ExitCode == 0, r.Stderr);
        return r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[1].Trim('"');
    }

    /// <summary>Every table's newest commit file under the lake, by table folder.</summary>
    private static SortedDictionary<string, string> Versions(string lake) =>
        new(Directory.GetDirectories(lake, "_delta_log", SearchOption.AllDirectories)
            .ToDictionary(d => Path.GetRelativePath(lake, d), d => Path.GetFileName(Directory.GetFiles(d, "*.json").Max(StringComparer.Ordinal))!), StringComparer.Ordinal);
}
